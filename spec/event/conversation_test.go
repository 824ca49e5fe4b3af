package event_test

import (
	"errors"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/spec"
	"github.com/lasgi/lasgi/spec/event"
)

// ruleOf returns the rule a *Violation names, or "" for nil.
func ruleOf(err error) string {
	var v *event.Violation
	if errors.As(err, &v) {
		return v.Rule
	}
	Expect(err).NotTo(HaveOccurred())
	return ""
}

var _ = Describe("Protocols", func() {
	It("has a constructor for each scope type, keyed by a scope type the catalog names", func() {
		Expect(event.Protocols).To(HaveKey(event.ScopeHTTP))
		for typ, mk := range event.Protocols {
			Expect(mk(&event.Scope{Type: typ})).NotTo(BeNil(), typ)
			_, ok := spec.Lookup(typ + ".scope.type")
			Expect(ok).To(BeTrue(), "%s: no rule %s.scope.type in the catalog", typ, typ)
		}
	})

	It("gives nil for a scope type no protocol has", func() {
		Expect(event.NewConversation(&event.Scope{Type: "x-unknown"})).To(BeNil())
	})

	Describe("http", func() {
		start := func(trailers bool) *event.Event {
			return &event.Event{Type: event.HTTPResponseStart, Status: 200, Trailers: trailers}
		}

		It("refuses trailers the scope does not offer, which the zero Response does not check", func() {
			plain := event.NewConversation(&event.Scope{Type: "http"})
			Expect(ruleOf(plain.Send(start(true)))).To(Equal(event.RuleTrailersOffered))
			Expect(plain.Send(start(false))).To(Succeed())
			Expect(plain.Send(&event.Event{Type: event.HTTPResponseBody})).To(Succeed())
			Expect(plain.Done()).To(BeTrue())
			Expect(ruleOf(plain.Send(&event.Event{Type: event.HTTPResponseTrailers}))).To(Equal(event.RuleAfterComplete), "after completion, after-complete first")

			var zero event.Response
			Expect(zero.Send(start(true))).To(Succeed())

			offered := event.NewConversation(&event.Scope{Type: "http", Extensions: []string{event.ExtensionTrailers}})
			Expect(offered.Send(start(true))).To(Succeed())
			Expect(offered.Send(&event.Event{Type: event.HTTPResponseBody})).To(Succeed())
			Expect(offered.Done()).To(BeFalse(), "trailers to come")
			Expect(offered.Send(&event.Event{Type: event.HTTPResponseTrailers})).To(Succeed())
			Expect(offered.Done()).To(BeTrue())
		})

		It("is drained by the last http.request, and ends in http.disconnect", func() {
			c := event.NewConversation(&event.Scope{Type: "http"})
			c.Received(&event.Event{Type: event.HTTPRequest, Body: "a", MoreBody: true})
			Expect(c.Drained()).To(BeFalse())
			c.Received(&event.Event{Type: event.HTTPRequest, Body: "b"})
			Expect(c.Drained()).To(BeTrue())
			ev, rule, ok := c.Final()
			Expect(ok).To(BeTrue())
			Expect(ev.Type).To(Equal(event.HTTPDisconnect))
			Expect(rule).To(Equal("http.disconnect.app-return"))
		})
	})
})
