package mutants_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/conformance"
	"github.com/lasgi/lasgi/fixtures"
	"github.com/lasgi/lasgi/reference/app"
	"github.com/lasgi/lasgi/reference/server"
	"github.com/lasgi/lasgi/reference/server/gopherlua"
	"github.com/lasgi/lasgi/reference/server/internal/mutant"
	"github.com/lasgi/lasgi/reference/server/servertest"
	"github.com/lasgi/lasgi/spec"
)

const (
	// parallel servers at a time: the machine has few cores, and most cases
	// wait on the network rather than compute.
	parallel = 6
	// stepTimeout bounds each network step of a case: a mutant that makes
	// the probe wait forever is caught by this deadline.
	stepTimeout = slow * 1500 * time.Millisecond
	// appTimeout ends the app calls such a mutant leaves waiting, so that
	// the server stops promptly; it is long enough for the 16 MiB body of
	// http.request/large-body under the race detector.
	appTimeout = slow * 10 * time.Second
	// mutantTimeout bounds one server's cases, runTimeout the whole run.
	mutantTimeout = slow * 20 * time.Second
	runTimeout    = slow * 50 * time.Second
)

// writeEnv set to 1 rewrites docs/mutants.md instead of comparing with it.
const writeEnv = "LASGI_WRITE_MUTANTS"

// outcome is one server's run of its cases.
type outcome struct {
	mutant  mutant.Mutant // zero for the control run
	results []conformance.Result
	err     error // the server did not start
}

// caught lists the cases that caught the mutant: failed, or a warning,
// naming its rule among the rules they found broken. The control run passes
// every case, so the failure is the mutant's doing, and the verdict must
// say which rule it broke: a case that fails for another rule than the one
// broken would be a case claiming what it cannot tell.
func (o outcome) caught() []conformance.Result {
	var rs []conformance.Result
	for _, r := range o.results {
		if r.Status != conformance.Passed && slices.Contains(r.Broken, o.mutant.Rule) {
			rs = append(rs, r)
		}
	}
	return rs
}

// misses says what the run of a mutant failed to show: no case caught it,
// a must-catch case did not, or a gap's mutant is caught after all.
func (o outcome) misses() []string {
	var missed []string
	caught := ids(o.caught())
	if o.mutant.Gap != "" {
		if len(caught) > 0 {
			missed = append(missed, fmt.Sprintf("%s is caught by %v now: empty its Gap", o.mutant.Name, caught))
		}
		return missed
	}
	if len(caught) == 0 {
		var other []string
		for _, r := range o.results {
			if r.Status != conformance.Passed {
				other = append(other, fmt.Sprintf("%s %s %v", r.Case.ID, r.Status, r.Broken))
			}
		}
		missed = append(missed, fmt.Sprintf("%s (%s): %d cases of the rule, none caught it naming it (not passed: %v)", o.mutant.Name, o.mutant.Rule, len(o.results), other))
	}
	for _, id := range o.mutant.MustCatch {
		if slices.Contains(caught, id) {
			continue
		}
		i := slices.IndexFunc(o.results, func(r conformance.Result) bool { return r.Case.ID == id })
		if i < 0 {
			missed = append(missed, fmt.Sprintf("%s: must-catch case %s did not run", o.mutant.Name, id))
			continue
		}
		r := o.results[i]
		missed = append(missed, fmt.Sprintf("%s: must-catch case %s did not catch it naming %s: %s %v in %v:\n%s", o.mutant.Name, id, o.mutant.Rule, r.Status, r.Broken, r.Elapsed, r.Message))
	}
	return missed
}

func ids(rs []conformance.Result) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Case.ID)
	}
	return out
}

// casesOf picks the cases that name rule.
func casesOf(corpus []*conformance.Case, rule string) []*conformance.Case {
	var out []*conformance.Case
	for _, c := range corpus {
		if slices.Contains(c.Rules, rule) {
			out = append(out, c)
		}
	}
	return out
}

// run starts a reference server hosting the probe with fault f and runs
// cases against it.
func run(ctx context.Context, probe []byte, f mutant.Fault, cases []*conformance.Case) ([]conformance.Result, error) {
	return runFor(ctx, probe, f, cases, mutantTimeout, stepTimeout)
}

// runFor is run with a deadline of its own for the server's cases, and step
// for each network step.
func runFor(ctx context.Context, probe []byte, f mutant.Fault, cases []*conformance.Case, timeout, step time.Duration) ([]conformance.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cfg := server.Config{Fault: f, AppTimeout: appTimeout, ReadTimeout: appTimeout, IdleTimeout: appTimeout}
	s, err := servertest.Start("probe.lua", probe, gopherlua.Options{Workers: 1, BusyTimeout: appTimeout}, cfg, nil)
	if err != nil {
		return nil, err
	}
	defer s.Stop()
	launcher := servertest.NewLauncher(2)
	launcher.Fault = f
	k := &conformance.Checker{Addr: s.Addr, Timeout: step, Launcher: launcher}
	var results []conformance.Result
	for _, c := range cases {
		if ctx.Err() != nil {
			return results, ctx.Err()
		}
		results = append(results, k.Run(ctx, c))
	}
	return results, nil
}

var _ = Describe("The server mutants", Ordered, func() {
	var (
		corpus   []*conformance.Case
		control  outcome
		outcomes []outcome
	)

	BeforeAll(func() {
		var err error
		corpus, err = conformance.LoadFS(fixtures.FS, ".")
		Expect(err).NotTo(HaveOccurred())
		probe, err := app.Source("probe.lua")
		Expect(err).NotTo(HaveOccurred())

		ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
		defer cancel()
		// The control run takes every case some mutant is judged by.
		var selected []*conformance.Case
		for _, c := range corpus {
			if slices.ContainsFunc(mutant.All(), func(m mutant.Mutant) bool { return slices.Contains(c.Rules, m.Rule) }) {
				selected = append(selected, c)
			}
		}
		all := mutant.All()
		outcomes = make([]outcome, len(all))
		sem := make(chan struct{}, parallel)
		var wg sync.WaitGroup
		wg.Add(1 + len(all))
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			control.results, control.err = run(ctx, probe, mutant.Fault{}, selected)
		}()
		for i, m := range all {
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				o := outcome{mutant: m}
				o.results, o.err = run(ctx, probe, mutant.Inject(m.ID), casesOf(corpus, m.Rule))
				outcomes[i] = o
			}()
		}
		wg.Wait()
		Expect(ctx.Err()).NotTo(HaveOccurred(), "the run took longer than %v", runTimeout)

		// A mutant missed while six servers and the other packages' tests
		// share two cores gets one more run, alone and with twice the step
		// time; what the first run said stays in the report, so that a case
		// that catches only on a quiet machine is seen.
		retryCtx, cancelRetry := context.WithTimeout(context.Background(), runTimeout)
		defer cancelRetry()
		for i, o := range outcomes {
			first := o.misses()
			if len(first) == 0 || o.err != nil {
				continue
			}
			AddReportEntry("mutant missed on the first run, run again alone: "+o.mutant.Name, strings.Join(first, "\n"))
			o.results, o.err = runFor(retryCtx, probe, mutant.Inject(o.mutant.ID), casesOf(corpus, o.mutant.Rule), mutantTimeout, 2*stepTimeout)
			outcomes[i] = o
		}
	})

	It("are at least 40, each breaking one server-side rule named by some case", func() {
		all := mutant.All()
		Expect(len(all)).To(BeNumerically(">=", 40))
		names := map[string]bool{}
		for i, m := range all {
			Expect(m.ID).To(Equal(mutant.ID(i+1)), "registry entry %d (%s) is out of step with its constant", i, m.Name)
			Expect(names[m.Name]).To(BeFalse(), "mutant name %s is used twice", m.Name)
			names[m.Name] = true
			Expect(m.Description).NotTo(BeEmpty(), m.Name)
			r, ok := spec.Lookup(m.Rule)
			Expect(ok).To(BeTrue(), "mutant %s: rule %s is not in the catalog", m.Name, m.Rule)
			Expect(r.Side).To(BeElementOf(spec.Server, spec.Both), "mutant %s: rule %s binds the app only", m.Name, m.Rule)
			Expect(r.Level).NotTo(Equal(spec.May), "mutant %s: rule %s is a MAY, which a server that does not use it still meets", m.Name, m.Rule)
			Expect(casesOf(corpus, m.Rule)).NotTo(BeEmpty(), "mutant %s: no case names %s", m.Name, m.Rule)
			if m.Gap == "" {
				Expect(m.MustCatch).NotTo(BeEmpty(), "mutant %s: name the cases that catch it", m.Name)
			} else {
				Expect(m.MustCatch).To(BeEmpty(), "mutant %s: a gap has no case that catches it", m.Name)
			}
			for _, id := range m.MustCatch {
				Expect(slices.ContainsFunc(casesOf(corpus, m.Rule), func(c *conformance.Case) bool { return c.ID == id })).
					To(BeTrue(), "mutant %s: must-catch case %s does not exist or does not name %s", m.Name, id, m.Rule)
			}
		}
	})

	It("leave nothing to catch when none is injected", func() {
		Expect(control.err).NotTo(HaveOccurred())
		Expect(control.results).NotTo(BeEmpty())
		for _, r := range control.results {
			Expect(r.Status).To(Equal(conformance.Passed), "%s without a mutant: %s", r.Case.ID, r.Message)
		}
	})

	It("are each caught by a case that names the broken rule, and every must-catch case", func() {
		var missed []string
		for _, o := range outcomes {
			Expect(o.err).NotTo(HaveOccurred(), o.mutant.Name)
			missed = append(missed, o.misses()...)
		}
		Expect(missed).To(BeEmpty())
	})

	It("are tabled in docs/mutants.md", func() {
		path := filepath.Join("..", "..", "..", "docs", "mutants.md")
		want := table(outcomes)
		if os.Getenv(writeEnv) == "1" {
			Expect(os.WriteFile(path, []byte(want), 0o644)).To(Succeed())
			return
		}
		got, err := os.ReadFile(path)
		Expect(err).NotTo(HaveOccurred())
		Expect(cmp.Diff(want, string(got))).To(BeEmpty(), "docs/mutants.md is out of date: run %s=1 go test ./reference/server/mutants", writeEnv)
	})

	It("are counted right in README.md", func() {
		readme, err := os.ReadFile(filepath.Join("..", "..", "..", "README.md"))
		Expect(err).NotTo(HaveOccurred())
		caught := 0
		for _, o := range outcomes {
			if len(o.caught()) > 0 {
				caught++
			}
		}
		Expect(string(readme)).To(And(
			ContainSubstring("%d single-fault mutants", len(outcomes)),
			ContainSubstring("**%d of %d** are caught", caught, len(outcomes))))
	})
})
