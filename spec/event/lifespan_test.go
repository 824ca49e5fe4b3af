package event_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/spec"
	"github.com/lasgi/lasgi/spec/event"
)

var _ = Describe("Lifespan", func() {
	var l event.Conversation
	BeforeEach(func() { l = event.NewConversation(&event.Scope{Type: event.ScopeLifespan}) })

	send := func(typ string) error { return l.Send(&event.Event{Type: typ}) }
	receive := func(typ string) { l.Received(&event.Event{Type: typ}) }

	It("takes one startup reply after lifespan.startup and one shutdown reply after lifespan.shutdown", func() {
		receive(event.LifespanStartup)
		Expect(send(event.LifespanStartupComplete)).To(Succeed())
		Expect(l.Done()).To(BeFalse())
		Expect(l.Drained()).To(BeFalse())
		receive(event.LifespanShutdown)
		Expect(l.Drained()).To(BeTrue())
		Expect(l.Send(&event.Event{Type: event.LifespanShutdownFailed, Message: "pool would not close"})).To(Succeed())
		Expect(l.Done()).To(BeTrue())
		Expect(l.(*event.Lifespan).Startup).To(Equal(event.LifespanStartupComplete))
		Expect(l.(*event.Lifespan).Shutdown).To(Equal(event.LifespanShutdownFailed))
		Expect(l.Findings()).To(BeEmpty())
		_, _, ok := l.Final()
		Expect(ok).To(BeFalse(), "lifespan has no event for a call that is over")
	})

	It("is done once startup failed: no shutdown comes after it", func() {
		receive(event.LifespanStartup)
		Expect(send(event.LifespanStartupFailed)).To(Succeed())
		Expect(l.Done()).To(BeTrue())
	})

	DescribeTable("raises the broken rule, its ID in the text, and stays as it was",
		func(received []string, sent []string, ev event.Event, rule, detail string) {
			for _, typ := range received {
				receive(typ)
			}
			for _, typ := range sent {
				Expect(send(typ)).To(Succeed())
			}
			before := *l.(*event.Lifespan)
			err := l.Send(&ev)
			Expect(err).To(MatchError(HavePrefix("lasgi: " + rule + ": ")))
			Expect(err.Error()).To(ContainSubstring(detail))
			Expect(ruleOf(err)).To(Equal(rule))
			_, inCatalog := spec.Lookup(rule)
			Expect(inCatalog).To(BeTrue(), rule)
			Expect(*l.(*event.Lifespan)).To(Equal(before), "a refused event has no effect (core.send.no-effect)")
		},
		Entry("startup.complete before lifespan.startup", nil, nil,
			event.Event{Type: event.LifespanStartupComplete}, event.RuleLifespanStartupOrder, "before lifespan.startup was received"),
		Entry("startup.failed before lifespan.startup", nil, nil,
			event.Event{Type: event.LifespanStartupFailed}, event.RuleLifespanStartupOrder, "before lifespan.startup was received"),
		Entry("a second startup reply", []string{event.LifespanStartup}, []string{event.LifespanStartupComplete},
			event.Event{Type: event.LifespanStartupFailed}, event.RuleLifespanStartupOrder, "after lifespan.startup.complete"),
		Entry("startup.complete after startup.failed", []string{event.LifespanStartup}, []string{event.LifespanStartupFailed},
			event.Event{Type: event.LifespanStartupComplete}, event.RuleLifespanStartupOrder, "after lifespan.startup.failed"),
		Entry("shutdown.complete before lifespan.shutdown", []string{event.LifespanStartup}, []string{event.LifespanStartupComplete},
			event.Event{Type: event.LifespanShutdownComplete}, event.RuleLifespanShutdownReply, "before lifespan.shutdown was received"),
		Entry("a second shutdown reply", []string{event.LifespanStartup, event.LifespanShutdown}, []string{event.LifespanStartupComplete, event.LifespanShutdownComplete},
			event.Event{Type: event.LifespanShutdownComplete}, event.RuleLifespanShutdownReply, "after lifespan.shutdown.complete"),
		Entry("a startup.failed message that is not UTF-8", []string{event.LifespanStartup}, nil,
			event.Event{Type: event.LifespanStartupFailed, Message: "\xff"}, event.RuleLifespanStartupMessage, "not valid UTF-8"),
		Entry("a shutdown.failed message that is not UTF-8", []string{event.LifespanStartup, event.LifespanShutdown}, []string{event.LifespanStartupComplete},
			event.Event{Type: event.LifespanShutdownFailed, Message: "\xc3("}, event.RuleLifespanShutdownMessage, "not valid UTF-8"),
		Entry("an http event", []string{event.LifespanStartup}, nil,
			event.Event{Type: event.HTTPResponseStart, Status: 200}, event.RuleEventType, `"http.response.start" is not an event an app sends in a lifespan scope`),
		Entry("lifespan.startup, which the server sends", []string{event.LifespanStartup}, nil,
			event.Event{Type: event.LifespanStartup}, event.RuleEventType, "not an event an app sends"),
	)
})
