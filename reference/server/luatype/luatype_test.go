package luatype_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/reference/server/internal/mutant"
	"github.com/lasgi/lasgi/reference/server/luatype"
	"github.com/lasgi/lasgi/spec/event"
)

// fake is a tiny engine's value: a Go value standing for a Lua one (nil,
// bool, float64, string, *tab; anything else is a function).
type fake struct{ v any }

// tab is a table: its list part and its string keys.
type tab struct {
	list   []any
	fields map[string]any
}

func (f fake) Kind() luatype.Kind {
	switch f.v.(type) {
	case nil:
		return luatype.Nil
	case bool:
		return luatype.Boolean
	case float64:
		return luatype.Number
	case string:
		return luatype.String
	case *tab:
		return luatype.Table
	}
	return luatype.Other
}
func (f fake) Str() string      { s, _ := f.v.(string); return s }
func (f fake) Num() float64     { n, _ := f.v.(float64); return n }
func (f fake) Bool() bool       { b, _ := f.v.(bool); return b }
func (f fake) TypeName() string { return "function" }
func (f fake) Field(k string) fake {
	return fake{f.v.(*tab).fields[k]}
}
func (f fake) Index(i int) fake {
	t := f.v.(*tab)
	if i < 1 || i > len(t.list) {
		return fake{}
	}
	return fake{t.list[i-1]}
}
func (f fake) List() (int, fake, bool) {
	t := f.v.(*tab)
	for k := range t.fields {
		return len(t.list), fake{k}, false
	}
	return len(t.list), fake{}, true
}
func (f fake) StrNum() (float64, bool) { return 0, false }

func list(vs ...any) *tab           { return &tab{list: vs} }
func fields(kv map[string]any) *tab { return &tab{fields: kv} }

var _ = Describe("Decode", func() {
	decode := func(v any, scope string) error {
		_, err := luatype.Decode(fake{v}, mutant.Fault{}, scope)
		return err
	}
	DescribeTable("names the rule a value of the wrong Lua type breaks",
		func(v any, rule string) {
			Expect(decode(v, event.ScopeHTTP)).To(MatchError(HavePrefix("lasgi: " + rule + ": ")))
		},
		Entry("a non-table event", "hi", event.RuleEventTable),
		Entry("type not a string", fields(map[string]any{"type": 1.0}), event.RuleEventType),
		Entry("headers a map", fields(map[string]any{"type": event.HTTPResponseStart, "status": 200.0,
			"headers": fields(map[string]any{"x-a": "1"})}), event.RuleHeadersType),
		Entry("a pair not of two strings", fields(map[string]any{"type": event.HTTPResponseStart, "status": 200.0,
			"headers": list(list("x-a", 1.0))}), event.RuleHeadersType),
		Entry("status not an integer", fields(map[string]any{"type": event.HTTPResponseStart, "status": 200.5}), event.RuleStatusType),
	)
	It("reads a well-typed start", func() {
		ev, err := luatype.Decode(fake{fields(map[string]any{"type": event.HTTPResponseStart, "status": 200.0,
			"headers": list(list("x-a", "1"))})}, mutant.Fault{}, event.ScopeHTTP)
		Expect(err).NotTo(HaveOccurred())
		Expect(ev).To(Equal(event.Event{Type: event.HTTPResponseStart, Status: 200, Headers: []event.Header{{Name: "x-a", Value: "1"}}}))
	})
	It("describes numbers as gopher-lua prints them", func() {
		Expect(luatype.Describe(fake{3.0})).To(Equal("number 3"))
		Expect(luatype.Describe(fake{1.5})).To(Equal("number 1.5"))
	})
})
