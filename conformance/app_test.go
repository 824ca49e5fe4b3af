package conformance_test

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/conformance"
	"github.com/lasgi/lasgi/fixtures"
	"github.com/lasgi/lasgi/reference/app"
	"github.com/lasgi/lasgi/reference/server/bridge"
	"github.com/lasgi/lasgi/reference/server/gopherlua"
	"github.com/lasgi/lasgi/spec"
)

// checkApp plays every app case against src and returns the results, or
// the load error.
func checkApp(name string, src []byte, timeout time.Duration, extra ...*conformance.AppCase) ([]conformance.Result, error) {
	opts := gopherlua.Options{Workers: 1, BusyTimeout: 2 * timeout, Async: true}
	eng, err := gopherlua.Load(name, src, opts)
	if err != nil {
		return nil, err
	}
	eng.Close()
	checker := &conformance.AppChecker{Timeout: timeout, Load: func() (bridge.Engine, error) {
		return gopherlua.Load(name, src, opts)
	}}
	defer checker.Close()
	return checker.RunAll(context.Background(), append(conformance.AppCases(), extra...), nil), nil
}

// brokenRules are the rules failed and warning results broke: a seeded
// fault that breaks a SHOULD rule is caught by a warning.
func brokenRules(results []conformance.Result) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range results {
		if r.Status != conformance.Failed && r.Status != conformance.Warning {
			continue
		}
		for _, rule := range r.Broken {
			if !seen[rule] {
				seen[rule] = true
				out = append(out, rule)
			}
		}
	}
	sort.Strings(out)
	return out
}

var _ = Describe("lasgi-check app's checker", func() {
	It("replays the fixture corpus as app cases", func() {
		corpus, err := conformance.LoadFS(fixtures.FS, ".")
		Expect(err).NotTo(HaveOccurred())
		replays := conformance.ReplayCases(corpus)
		Expect(len(replays)).To(BeNumerically(">=", 100))
		byID := map[string]*conformance.AppCase{}
		for _, c := range replays {
			byID[c.ID] = c
		}
		slow := byID["app.replay/http.request.body-arrives-slowly"]
		Expect(slow).NotTo(BeNil())
		Expect(slow.Body).To(Equal([]string{"12", "345", "67890"}), "pieces as the client wrote them")
		gone := byID["app.replay/http.request.client-gone-mid-body"]
		Expect(gone).NotTo(BeNil())
		Expect(gone.DisconnectAfter).To(BeNumerically(">=", 0))
		path := byID["app.replay/http.scope.path-percent-utf8"]
		Expect(path.Scope.Path).To(Equal("/caf\u00e9"))
		Expect(path.Scope.RawPath).To(Equal("/caf%C3%A9"))
	})

	It("passes every reference app in every case", func() {
		corpus, err := conformance.LoadFS(fixtures.FS, ".")
		Expect(err).NotTo(HaveOccurred())
		for _, name := range app.Apps() {
			src, err := app.Source(name)
			Expect(err).NotTo(HaveOccurred())
			results, err := checkApp(name, src, 30*time.Second, conformance.ReplayCases(corpus)...)
			Expect(err).NotTo(HaveOccurred())
			for _, r := range results {
				Expect(r.Status).To(Equal(conformance.Passed), "%s %s:\n%s", name, r.Case.ID, r.Message)
			}
		}
	})

	It("catches every seeded fault with its rule ID", func() {
		files, err := filepath.Glob("../reference/app/testdata/faults/*.lua")
		Expect(err).NotTo(HaveOccurred())
		Expect(len(files)).To(BeNumerically(">=", 30))
		detected := 0
		var missed []string
		for _, f := range files {
			src, err := os.ReadFile(f)
			Expect(err).NotTo(HaveOccurred())
			first, _, _ := strings.Cut(string(src), "\n")
			rule, ok := strings.CutPrefix(first, "-- fault: ")
			Expect(ok).To(BeTrue(), "%s: first line names the rule: -- fault: <rule-id>", f)
			_, known := spec.Lookup(rule)
			Expect(known).To(BeTrue(), "%s: %s is not in the catalog", f, rule)

			results, err := checkApp(filepath.Base(f), src, 300*time.Millisecond)
			var got []string
			if err != nil {
				if strings.Contains(err.Error(), "lasgi: core.app.callable: ") || rule == "core.app.callable" {
					got = []string{"core.app.callable"}
				}
			} else {
				got = brokenRules(results)
			}
			if len(got) > 0 && got[0] != "" && contains(got, rule) {
				detected++
			} else {
				missed = append(missed, filepath.Base(f)+": want "+rule+", got "+strings.Join(got, ", "))
			}
		}
		GinkgoWriter.Printf("seeded faults detected: %d of %d\n", detected, len(files))
		Expect(missed).To(BeEmpty())
	})
})

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
