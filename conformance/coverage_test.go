package conformance_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/conformance"
	"github.com/lasgi/lasgi/fixtures"
	"github.com/lasgi/lasgi/spec"
)

// pending names the rules no case checks yet, and why. It may only shrink:
// the test fails when a listed rule gains a case, so the entry goes.
var pending = map[string]string{
	"core.value.absent": "binds applications too; the server side needs probe events with absent optional keys",
}

// pendingReason says why a rule has no case yet, or "" when it should have one.
func pendingReason(r spec.Rule) string { return pending[r.ID] }

// seededFaultRules are the rules the seeded faults and slips break:
// lasgi-check app must catch each (app_test.go; a slip as a warning,
// reference/app's lint_test.go), so each counts as checked.
func seededFaultRules() []string {
	var rules []string
	for _, kind := range []string{"fault", "slip"} {
		files, _ := filepath.Glob("../reference/app/testdata/" + kind + "s/*.lua")
		for _, f := range files {
			src, _ := os.ReadFile(f)
			first, _, _ := strings.Cut(string(src), "\n")
			if rule, ok := strings.CutPrefix(first, "-- "+kind+": "); ok {
				rules = append(rules, rule)
			}
		}
	}
	return rules
}

var _ = Describe("the corpus", func() {
	It("checks every rule, or says why it cannot (yet)", func() {
		cases, err := conformance.LoadFS(fixtures.FS, ".")
		Expect(err).NotTo(HaveOccurred())
		covered := map[string]int{}
		for _, c := range cases {
			for _, r := range c.Rules {
				covered[r]++
			}
		}
		for _, c := range conformance.AppCases() {
			for _, r := range c.Rules {
				covered[r]++
			}
		}
		for _, r := range seededFaultRules() {
			covered[r]++
		}
		var missing, stale []string
		for _, r := range spec.Rules() {
			reason := pendingReason(r)
			switch {
			case covered[r.ID] > 0 && pending[r.ID] != "":
				stale = append(stale, r.ID)
			case covered[r.ID] > 0 || r.Untestable != "" || reason != "":
			default:
				missing = append(missing, fmt.Sprintf("%s (%s %s): %s", r.ID, r.Level, r.Side, r.Text))
			}
		}
		sort.Strings(missing)
		Expect(missing).To(BeEmpty(), "rules with no case, no Untestable reason in spec/catalog.go and no pending entry")
		Expect(stale).To(BeEmpty(), "rules that have cases now: remove them from pending")
	})

	It("has at least 120 cases, each naming rules that bind the server or both sides", func() {
		cases, err := conformance.LoadFS(fixtures.FS, ".")
		Expect(err).NotTo(HaveOccurred())
		Expect(len(cases)).To(BeNumerically(">=", 120))
		for _, c := range cases {
			serverSide := false
			for _, id := range c.Rules {
				r, _ := spec.Lookup(id)
				serverSide = serverSide || r.Side != spec.App || strings.HasPrefix(r.ID, "http.") || strings.HasPrefix(r.ID, "core.")
			}
			Expect(serverSide).To(BeTrue(), c.ID)
		}
	})

	// A finding's level comes from the rules of the field it concerns, so a
	// field that checks a MUST and a SHOULD at once would turn a SHOULD slip
	// into a failure; and a rule no field checks is one the case cannot fail.
	It("attributes every rule of a case to a field it checks, and no field mixes binding and advisory rules", func() {
		cases, err := conformance.LoadFS(fixtures.FS, ".")
		Expect(err).NotTo(HaveOccurred())
		var wrong []string
		for _, c := range cases {
			checked := map[string]bool{}
			for _, field := range c.CheckedFields() {
				binding, advisory := []string{}, []string{}
				for _, id := range c.RulesOf(field) {
					checked[id] = true
					r, _ := spec.Lookup(id)
					if conformance.Binding(r.Level) {
						binding = append(binding, id)
					} else {
						advisory = append(advisory, id)
					}
				}
				if len(binding) > 0 && len(advisory) > 0 {
					wrong = append(wrong, fmt.Sprintf("%s: %s checks %v and %v at once: say in field_rules which field checks which", c.ID, field, binding, advisory))
				}
			}
			for _, id := range c.Rules {
				if !checked[id] {
					wrong = append(wrong, fmt.Sprintf("%s: no field it checks is attributed %s", c.ID, id))
				}
			}
		}
		Expect(wrong).To(BeEmpty())
	})
})
