package app_test

import (
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/spec"
	"github.com/lasgi/lasgi/spec/event"
)

// wsLintRules are the rules the lint checks in websocket scopes: each has a case in
// ws_cases.lua that makes the lint name it.
var wsLintRules = []string{
	// The scope and receive() (server side).
	"websocket.scope.type", "websocket.scope.asgi-version", "websocket.scope.http-version",
	"websocket.scope.scheme", "websocket.scope.target", "websocket.scope.headers",
	"websocket.scope.client-server", "websocket.scope.subprotocols", "websocket.scope.state",
	"websocket.scope.extensions", "core.scope.asgi", "core.extensions.entry",
	"websocket.connect.first", "websocket.receive.before-accept", "websocket.receive.one-of",
	"websocket.receive.binary", "websocket.receive.text", "websocket.close.then-disconnect",
	"websocket.disconnect.code", "websocket.disconnect.reason", "websocket.disconnect.repeat",
	"websocket.disconnect.pending-messages", "core.receive.complete-keys", "core.receive.event",
	// What the app sends: the Lua types, then order and values.
	"core.send.event-table", "core.send.type",
	event.RuleWSAcceptOnce, event.RuleWSSubprotocol, event.RuleWSAcceptHeaders, event.RuleWSNoProtocolHeader,
	event.RuleWSConnectReply, event.RuleWSSendOneOf, event.RuleWSSendBytes, event.RuleWSSendText,
	event.RuleWSSendAfterAccept, event.RuleWSSendAfterClose, event.RuleWSCloseCode, event.RuleWSCloseReason,
	event.RuleWSDenialOffered, event.RuleWSDenialWhen, event.RuleWSDenialClose,
	event.RuleHeaderBytes, event.RuleHeaderLowercase,
	// The denial response, checked as an HTTP response: what binds is named
	// websocket.denial.keys (the detail names the HTTP rule), the SHOULD slips by
	// their HTTP rules (uppercase names above, body bytes on a 304).
	event.RuleWSDenialKeys, event.RuleNoBodyStatus,
}

var _ = Describe("lint.lua in websocket scopes", Ordered, func() {
	find := describeLintFile(lintWSCasesPath, wsLintRules)

	It("lets a good echo app pass silently, the events going through to the server", func() {
		c := find("ws-echo")
		Expect(c.result).To(Equal("ok"))
		Expect(c.warned).To(BeEmpty())
		sent := sentTypes(c)
		Expect(sent).To(Equal([]string{event.WebSocketAccept, event.WebSocketSend, event.WebSocketSend,
			event.WebSocketSend, event.WebSocketClose}))
	})

	It("passes a subprotocol chosen from scope.subprotocols, and the denial response where offered", func() {
		for _, name := range []string{"ws-subprotocol-offered", "ws-denial", "ws-denial-in-pieces"} {
			c := find(name)
			Expect(c.result).To(Equal("ok"), name)
			Expect(c.warned).To(BeEmpty(), name)
		}
		Expect(find("ws-accept-subprotocol-unknown").result).To(Equal(event.RuleWSSubprotocol))
		Expect(find("ws-denial-not-offered").result).To(Equal(event.RuleWSDenialOffered))
	})

	It("warns, under the catalog's MAY, of a message after the disconnect, then raises the MUST of the repeat", func() {
		c := find("ws-message-after-disconnect")
		Expect(c.warned).To(Equal("websocket.disconnect.pending-messages"))
		Expect(c.result).To(Equal(event.RuleWSDisconnectRepeat))
		Expect(find("ws-message-after-disconnect-strict").result).To(Equal("websocket.disconnect.pending-messages"))
	})
})

// describeLintFile declares, in an Ordered container, what every lint case
// file's specs begin with: its cases played everywhere before all of them
// (lintCasesEverywhere), and a spec that each case ended as it wants and each
// of rules is named by one. It returns find, which gets a case by its name.
func describeLintFile(path string, rules []string) (find func(name string) lintCase) {
	var cases []lintCase
	BeforeAll(func() { cases = lintCasesEverywhere(path) })
	It("names each rule it checks there in some case, the same on gopher-lua, lua5.1, lua5.4 and luajit", func() {
		for _, c := range cases {
			Expect(c.result).To(Equal(c.want), "%s:\n%s", c.name, strings.Join(c.lines, "\n"))
		}
		expectRulesNamed(cases, rules, path)
	})
	return func(name string) lintCase {
		GinkgoHelper()
		return findLintCase(cases, path, name)
	}
}

// lintCasesEverywhere plays the lint cases of the file at path on gopher-lua
// and the three interpreters, requires the same transcript from each, and
// returns its cases.
func lintCasesEverywhere(path string) []lintCase {
	GinkgoHelper()
	ref := expectSameTranscripts(path, runEverywhere(lintDriver(path)))
	cases, err := parseLintTranscript(ref.out)
	Expect(err).NotTo(HaveOccurred(), "the transcript:\n%s", ref.out)
	return cases
}

// expectRulesNamed requires each of rules to be in the catalog and named by
// a case of the file at path that ended as it should.
func expectRulesNamed(cases []lintCase, rules []string, path string) {
	GinkgoHelper()
	named := map[string]bool{}
	for _, c := range cases {
		if c.result == c.want {
			r, _ := strings.CutPrefix(c.result, "warn:")
			named[r] = true
		}
	}
	var missing []string
	for _, id := range rules {
		_, ok := spec.Lookup(id)
		Expect(ok).To(BeTrue(), "%s is not in the catalog", id)
		if !named[id] {
			missing = append(missing, id)
		}
	}
	Expect(missing).To(BeEmpty(), "rules no case of %s makes the lint name", path)
}

// sentTypes are the types of the events a lint case's app sent, in order.
func sentTypes(c lintCase) []string {
	var out []string
	for _, l := range c.lines {
		if t, ok := strings.CutPrefix(l, "send "); ok {
			out = append(out, t)
		}
	}
	return out
}

// findLintCase returns the case called name, failing when the file at path
// has none.
func findLintCase(cases []lintCase, path, name string) lintCase {
	GinkgoHelper()
	for _, c := range cases {
		if c.name == name {
			return c
		}
	}
	Fail(filepath.Base(path) + " has no case " + name)
	return lintCase{}
}
