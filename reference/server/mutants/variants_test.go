package mutants_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/conformance"
	"github.com/lasgi/lasgi/fixtures"
	"github.com/lasgi/lasgi/reference/app"
	"github.com/lasgi/lasgi/reference/server/internal/mutant"
)

// variantTimeout bounds one variant's run of the whole corpus, and
// variantsTimeout all of them: two at a time, beside the mutants' servers
// and the other packages' tests, the last ones start well after the first.
const (
	variantTimeout  = slow * 60 * time.Second
	variantsTimeout = 3 * variantTimeout
)

// variantStep is a variant run's step deadline: longer than a mutant's, since
// a variant must pass every case and is not there to be caught by one; and
// variantsAtOnce how many run the corpus at a time. Each run sends 16 MiB
// request bodies through the probe (http.request/large-body), which costs
// gopher-lua seconds of CPU: four at once beside the other packages' tests
// on two cores made the app take longer than a step to read one, now and
// then.
const (
	variantStep    = slow * 4 * time.Second
	variantsAtOnce = 2
)

// A case that fails on a server taking a way the spec permits claims a
// failure that is none: each variant runs the whole corpus, and every case
// must pass or skip. The cases a variant exercises must also show that it
// took the other way: skipped, or failing once only the first of their
// permitted outcomes is allowed.
var _ = Describe("The server variants (permitted behaviour)", func() {
	It("pass or skip every case of the corpus, and take the other outcome of the cases they exercise", func() {
		corpus, err := conformance.LoadFS(fixtures.FS, ".")
		Expect(err).NotTo(HaveOccurred())
		probe, err := app.Source("probe.lua")
		Expect(err).NotTo(HaveOccurred())
		byID := map[string]*conformance.Case{}
		for _, c := range corpus {
			byID[c.ID] = c
		}

		ctx, cancel := context.WithTimeout(context.Background(), variantsTimeout)
		defer cancel()
		variants := mutant.Variants()
		problems := make([][]string, len(variants))
		var wg sync.WaitGroup
		sem := make(chan struct{}, variantsAtOnce)
		for i, v := range variants {
			wg.Add(1)
			go func() {
				defer GinkgoRecover()
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				results, err := runFor(ctx, probe, mutant.Inject(v.ID), corpus, variantTimeout, variantStep)
				Expect(err).NotTo(HaveOccurred(), v.Name)
				status := map[string]conformance.Status{}
				for _, r := range results {
					status[r.Case.ID] = r.Status
					if r.Status == conformance.Failed || r.Status == conformance.Warning {
						problems[i] = append(problems[i], fmt.Sprintf("%s: %s %s %v:\n%s", v.Name, r.Case.ID, r.Status, r.Broken, r.Message))
					}
				}
				var narrowed []*conformance.Case
				for _, id := range v.Exercises {
					c := byID[id]
					Expect(c).NotTo(BeNil(), "variant %s exercises %s, which is not in the corpus", v.Name, id)
					switch {
					case status[id] == conformance.Skipped:
					case len(c.Expect.OneOf) > 1:
						// Only the first outcome allowed: the variant must break it.
						n := *c
						n.Expect.OneOf = c.Expect.OneOf[:1]
						narrowed = append(narrowed, &n)
					default:
						problems[i] = append(problems[i], fmt.Sprintf("%s: %s neither skipped nor has outcomes to choose from", v.Name, id))
					}
				}
				results, err = runFor(ctx, probe, mutant.Inject(v.ID), narrowed, variantTimeout, variantStep)
				Expect(err).NotTo(HaveOccurred(), v.Name)
				for _, r := range results {
					if r.Status == conformance.Passed {
						problems[i] = append(problems[i], fmt.Sprintf("%s: %s took its first outcome: the variant did not change it", v.Name, r.Case.ID))
					}
				}
			}()
		}
		wg.Wait()
		Expect(slices.Concat(problems...)).To(BeEmpty())
	})
})
