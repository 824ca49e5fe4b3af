package luatype_test

import (
	"math"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/reference/server/internal/mutant"
	"github.com/lasgi/lasgi/reference/server/luatype"
	"github.com/lasgi/lasgi/spec/event"
)

var _ = Describe("ReceiveOptions (spec/timers.md)", func() {
	offering := &event.Scope{Type: event.ScopeHTTP, Extensions: []string{event.ExtensionTimers}}
	timeout := func(v any) *tab { return fields(map[string]any{"timeout": v}) }

	DescribeTable("reads what receive() was given",
		func(v any, d time.Duration, timed bool) {
			gotD, gotTimed, err := luatype.ReceiveOptions(fake{v}, mutant.Fault{}, offering)
			Expect(err).NotTo(HaveOccurred())
			Expect([]any{gotD, gotTimed}).To(Equal([]any{d, timed}))
		},
		Entry("nothing: no timeout", nil, time.Duration(0), false),
		Entry("{}: no timeout (timers.receive.without)", fields(nil), time.Duration(0), false),
		Entry("a timeout in seconds", timeout(1.5), 1500*time.Millisecond, true),
		Entry("a timeout of 0: look only", timeout(0.0), time.Duration(0), true),
		Entry("a timeout past 31 years: kept at most", timeout(1e300), 1e9*time.Second, true),
	)
	DescribeTable("names the rule an argument breaks",
		func(v any, scope *event.Scope, rule string) {
			_, _, err := luatype.ReceiveOptions(fake{v}, mutant.Fault{}, scope)
			Expect(err).To(MatchError(HavePrefix("lasgi: " + rule + ": ")))
		},
		Entry("any argument where timers are not offered", fields(nil), &event.Scope{Type: event.ScopeLifespan}, event.RuleTimersOfferedOnly),
		Entry("not a table", 1.0, offering, event.RuleTimersOptions),
		Entry("a string timeout", timeout("1"), offering, event.RuleTimersOptions),
		Entry("a negative timeout", timeout(-1.0), offering, event.RuleTimersOptions),
		Entry("a NaN timeout", timeout(math.NaN()), offering, event.RuleTimersOptions),
		Entry("an infinite timeout", timeout(math.Inf(1)), offering, event.RuleTimersOptions),
	)
	It("takes invalid options for none under the mutant that leaves them unchecked", func() {
		_, timed, err := luatype.ReceiveOptions(fake{timeout(-1.0)}, mutant.Inject(mutant.TimersOptionsUnchecked), offering)
		Expect([]any{timed, err}).To(Equal([]any{false, nil}))
	})
})
