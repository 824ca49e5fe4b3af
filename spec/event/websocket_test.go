package event_test

import (
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/spec"
	"github.com/lasgi/lasgi/spec/event"
)

var _ = Describe("the websocket checks", func() {
	scope := func(extensions ...string) *event.Scope {
		return &event.Scope{Type: "websocket", Subprotocols: []string{"chat", "v2.chat"}, Extensions: extensions}
	}
	accept := event.Event{Type: event.WebSocketAccept}
	text := func(s string) event.Event { return event.Event{Type: event.WebSocketSend, Message: s} }
	closeWith := func(code int, reason string) event.Event {
		return event.Event{Type: event.WebSocketClose, Code: code, Reason: reason}
	}
	denyStart := event.Event{Type: event.WebSocketDenialStart, Status: 401}
	denyBody := event.Event{Type: event.WebSocketDenialBody, Body: "no"}

	// send sends evs in order, each of which must be accepted but the last,
	// and returns the last one's error.
	send := func(w *event.WebSocket, evs ...event.Event) error {
		GinkgoHelper()
		for i := range evs[:len(evs)-1] {
			Expect(w.Send(&evs[i])).To(Succeed(), "event %d, %s", i+1, evs[i].Type)
		}
		return w.Send(&evs[len(evs)-1])
	}

	DescribeTable("accepts what an app may send",
		func(extensions []string, evs ...event.Event) {
			w := event.NewWebSocket(scope(extensions...))
			Expect(send(w, evs...)).To(Succeed())
		},
		Entry("accept, text, bytes, close", nil, accept, text("hi"), event.Event{Type: event.WebSocketSend, Message: "\xff", Binary: true}, closeWith(4001, "bye")),
		Entry("accept with a subprotocol the client offered and headers", nil,
			event.Event{Type: event.WebSocketAccept, Subprotocol: "v2.chat", Headers: []event.Header{{Name: "x-a", Value: "1"}}}),
		Entry("close before accept (a 403)", nil, closeWith(0, "")),
		Entry("close codes at the edges of each range", nil, accept, closeWith(1014, strings.Repeat("é", 61)+"x")),
		Entry("a denial response where offered", []string{event.ExtensionWebSocketDeny}, denyStart, denyBody),
	)

	DescribeTable("refuses what it must not, naming the rule",
		func(extensions []string, rule string, evs ...event.Event) {
			w := event.NewWebSocket(scope(extensions...))
			err := send(w, evs...)
			Expect(err).To(MatchError(HavePrefix("lasgi: " + rule + ": ")))
			_, known := spec.Lookup(rule)
			Expect(known).To(BeTrue(), rule)
		},
		Entry("send before accept", nil, event.RuleWSSendAfterAccept, text("early")),
		Entry("accept twice", nil, event.RuleWSAcceptOnce, accept, accept),
		Entry("accept after a close", nil, event.RuleWSSendAfterClose, closeWith(0, ""), accept),
		Entry("send after close", nil, event.RuleWSSendAfterClose, accept, closeWith(1000, ""), text("late")),
		Entry("a subprotocol the client did not offer", nil, event.RuleWSSubprotocol, event.Event{Type: event.WebSocketAccept, Subprotocol: "x"}),
		Entry("a sec-websocket-protocol header", nil, event.RuleWSNoProtocolHeader,
			event.Event{Type: event.WebSocketAccept, Headers: []event.Header{{Name: "Sec-WebSocket-Protocol", Value: "chat"}}}),
		Entry("an accept header with a line break", nil, event.RuleHeaderBytes,
			event.Event{Type: event.WebSocketAccept, Headers: []event.Header{{Name: "x-a", Value: "1\r\nx-b: 2"}}}),
		Entry("text that is not UTF-8", nil, event.RuleWSSendText, accept, text("\xff")),
		Entry("close code 1005", nil, event.RuleWSCloseCode, accept, closeWith(1005, "")),
		Entry("close code 2999", nil, event.RuleWSCloseCode, accept, closeWith(2999, "")),
		Entry("close code 5000", nil, event.RuleWSCloseCode, accept, closeWith(5000, "")),
		Entry("a close reason of 124 bytes", nil, event.RuleWSCloseReason, accept, closeWith(1000, strings.Repeat("x", 124))),
		Entry("a close reason that is not UTF-8", nil, event.RuleWSCloseReason, accept, closeWith(1000, "\xff")),
		Entry("a denial where not offered", nil, event.RuleWSDenialOffered, denyStart),
		Entry("a denial after accept", []string{event.ExtensionWebSocketDeny}, event.RuleWSDenialWhen, accept, denyStart),
		// The HTTP rules a denial event breaks are websocket.denial.keys's (the detail
		// names the HTTP rule: below).
		Entry("a denial body before its start", []string{event.ExtensionWebSocketDeny}, event.RuleWSDenialKeys, denyBody),
		Entry("a denial status out of range", []string{event.ExtensionWebSocketDeny}, event.RuleWSDenialKeys, event.Event{Type: event.WebSocketDenialStart, Status: 101}),
		Entry("a second denial start", []string{event.ExtensionWebSocketDeny}, event.RuleWSDenialKeys, denyStart, denyStart),
		Entry("send during the denial", []string{event.ExtensionWebSocketDeny}, event.RuleWSConnectReply, denyStart, text("x")),
		Entry("anything after the denial", []string{event.ExtensionWebSocketDeny}, event.RuleWSDenialClose, denyStart, denyBody, closeWith(0, "")),
		Entry("an http event", nil, event.RuleEventType, event.Event{Type: event.HTTPResponseStart, Status: 200}),
	)

	It("keeps the state as it was after a refused event", func() {
		w := event.NewWebSocket(scope())
		Expect(w.Send(&event.Event{Type: event.WebSocketAccept, Subprotocol: "x"})).NotTo(Succeed())
		Expect(w.Open()).To(BeFalse())
		Expect(w.Send(&accept)).To(Succeed())
		Expect(w.Open()).To(BeTrue())
	})

	It("lowercases accept header names, and reports it as the SHOULD rule it is", func() {
		w := event.NewWebSocket(scope())
		ev := event.Event{Type: event.WebSocketAccept, Headers: []event.Header{{Name: "X-A", Value: "1"}}}
		Expect(w.Send(&ev)).To(Succeed())
		Expect(ev.Headers[0].Name).To(Equal("x-a"))
		Expect(w.Findings()).To(HaveLen(1))
		Expect(w.Findings()[0].Rule).To(Equal(event.RuleHeaderLowercase))
	})

	It("is done after a close or a complete denial, and repeats the disconnect the app received", func() {
		w := event.NewWebSocket(scope())
		_, _, ok := w.Final()
		Expect(ok).To(BeFalse(), "no disconnect yet: receive() waits for one")
		Expect(send(w, accept, closeWith(1000, ""))).To(Succeed())
		Expect(w.Done()).To(BeTrue())
		w.Received(&event.Event{Type: event.WebSocketDisconnect, Code: 4001, Reason: "bye"})
		w.Received(&event.Event{Type: event.WebSocketDisconnect, Code: 1006})
		ev, rule, ok := w.Final()
		Expect(ok).To(BeTrue())
		Expect(ev).To(Equal(event.Event{Type: event.WebSocketDisconnect, Code: 4001, Reason: "bye"}))
		Expect(rule).To(Equal(event.RuleWSDisconnectRepeat))
	})

	It("is the conversation of websocket scopes", func() {
		_, ok := event.NewConversation(scope()).(*event.WebSocket)
		Expect(ok).To(BeTrue())
	})

	It("names only rules of the catalog", func() {
		for _, id := range event.WebSocketRules {
			_, ok := spec.Lookup(id)
			Expect(ok).To(BeTrue(), id)
		}
	})

	It("names the HTTP rule a denial event breaks in the detail, and passes other errors on", func() {
		w := event.NewWebSocket(scope(event.ExtensionWebSocketDeny))
		Expect(send(w, event.Event{Type: event.WebSocketDenialBody, Body: "x"})).To(MatchError(HaveSuffix("(" + event.RuleStartFirst + ")")))
		v := event.Violationf(event.RuleWSDenialWhen, "x")
		Expect(event.DenialKeys(v)).To(BeIdenticalTo(v))
		Expect(event.DenialKeys(nil)).To(BeNil())
	})
})
