package app_test

import (
	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/spec/event"
)

// lifespanLintRules are the rules the lint checks in lifespan scopes: each has a case in
// lifespan_cases.lua that makes the lint name it.
var lifespanLintRules = []string{
	// The scope and receive() (server side).
	"lifespan.scope.asgi-version", "lifespan.scope.state", "lifespan.startup.first",
	"lifespan.shutdown.only-after-startup",
	// What the app sends, and how it ends.
	"lifespan.startup.reply", event.RuleLifespanStartupOrder, event.RuleLifespanStartupMessage,
	event.RuleLifespanShutdownReply, event.RuleLifespanShutdownMessage,
	event.RuleEventTable, event.RuleEventType,
}

var _ = Describe("lint.lua in lifespan scopes", Ordered, func() {
	find := describeLintFile(lintLSCasesPath, lifespanLintRules)

	It("lets the spec's app pass silently, its replies going through to the server", func() {
		c := find("lifespan-good")
		Expect(c.result).To(Equal("ok"))
		Expect(c.warned).To(BeEmpty())
		Expect(cmp.Diff([]string{event.LifespanStartupComplete, event.LifespanShutdownComplete}, sentTypes(c))).To(BeEmpty())
	})

	It("passes a failed startup, a failed shutdown, and an app without lifespan", func() {
		for _, name := range []string{"lifespan-startup-failed", "lifespan-startup-failed-no-message", "lifespan-shutdown-failed",
			"lifespan-return-after-startup", "lifespan-unsupported-return"} {
			Expect(find(name).result).To(Equal("ok"), name)
			Expect(find(name).warned).To(BeEmpty(), name)
		}
		// Its own error goes through unchanged: the server takes it for no lifespan.
		Expect(find("lifespan-unsupported-raise").result).To(Equal("error"))
	})

	It("stops an event it rejects before the server sees it", func() {
		Expect(sentTypes(find("lifespan-complete-twice"))).To(Equal([]string{event.LifespanStartupComplete}))
		Expect(sentTypes(find("lifespan-failed-number-message"))).To(BeEmpty())
		Expect(sentTypes(find("lifespan-shutdown-complete-twice"))).To(Equal([]string{event.LifespanStartupComplete, event.LifespanShutdownComplete}))
	})
})
