package gopherlua

import (
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	lua "github.com/yuin/gopher-lua"

	"github.com/lasgi/lasgi/reference/server/internal/mutant"
	"github.com/lasgi/lasgi/spec/event"
)

var _ = Describe("websocket tables", func() {
	var L *lua.LState
	BeforeEach(func() {
		L = lua.NewState()
		DeferCleanup(L.Close)
	})

	// decode runs the Lua expression src and reads it as an event sent in a
	// websocket scope.
	decode := func(src string) (event.Event, error) {
		GinkgoHelper()
		Expect(L.DoString("return " + src)).To(Succeed())
		t := L.Get(-1)
		L.Pop(1)
		return decodeEvent(t, mutant.Fault{}, &event.Scope{Type: event.ScopeWebSocket})
	}

	DescribeTable("reads what an app sends",
		func(src string, want event.Event) {
			ev, err := decode(src)
			Expect(err).NotTo(HaveOccurred())
			Expect(ev).To(Equal(want))
		},
		Entry("text", `{type = "websocket.send", text = "hi"}`, event.Event{Type: event.WebSocketSend, Message: "hi"}),
		Entry("bytes", `{type = "websocket.send", bytes = "\0\255"}`, event.Event{Type: event.WebSocketSend, Message: "\x00\xff", Binary: true}),
		Entry("accept", `{type = "websocket.accept", subprotocol = "chat", headers = {{"x-a", "1"}}}`,
			event.Event{Type: event.WebSocketAccept, Subprotocol: "chat", Headers: []event.Header{{Name: "x-a", Value: "1"}}}),
		Entry("close", `{type = "websocket.close", code = 4001, reason = "bye"}`, event.Event{Type: event.WebSocketClose, Code: 4001, Reason: "bye"}),
		Entry("a bare close", `{type = "websocket.close"}`, event.Event{Type: event.WebSocketClose}),
		Entry("a denial start", `{type = "websocket.http.response.start", status = 401, headers = {{"x-a", "1"}}}`,
			event.Event{Type: event.WebSocketDenialStart, Status: 401, Headers: []event.Header{{Name: "x-a", Value: "1"}}}),
		Entry("a denial body", `{type = "websocket.http.response.body", body = "no", more_body = true}`,
			event.Event{Type: event.WebSocketDenialBody, Body: "no", MoreBody: true}),
	)

	DescribeTable("refuses keys of the wrong Lua type, naming the rule",
		func(src, rule string) {
			_, err := decode(src)
			Expect(err).To(MatchError(HavePrefix("lasgi: " + rule + ": ")))
		},
		Entry("text and bytes", `{type = "websocket.send", text = "a", bytes = "b"}`, event.RuleWSSendOneOf),
		Entry("neither", `{type = "websocket.send"}`, event.RuleWSSendOneOf),
		Entry("text a number", `{type = "websocket.send", text = 5}`, event.RuleWSSendText),
		Entry("bytes a number", `{type = "websocket.send", bytes = 5}`, event.RuleWSSendBytes),
		Entry("code a string", `{type = "websocket.close", code = "1000"}`, event.RuleWSCloseCode),
		Entry("code a fraction", `{type = "websocket.close", code = 1000.5}`, event.RuleWSCloseCode),
		Entry("code 0", `{type = "websocket.close", code = 0}`, event.RuleWSCloseCode),
		Entry("reason a table", `{type = "websocket.close", reason = {}}`, event.RuleWSCloseReason),
		Entry("subprotocol a number", `{type = "websocket.accept", subprotocol = 1}`, event.RuleWSSubprotocol),
		Entry("headers a map", `{type = "websocket.accept", headers = {["x-a"] = "1"}}`, event.RuleWSAcceptHeaders),
		Entry("a denial status string, as the HTTP rule websocket.denial.keys refers to", `{type = "websocket.http.response.start", status = "401"}`, event.RuleWSDenialKeys),
		Entry("a denial body a number", `{type = "websocket.http.response.body", body = 5}`, event.RuleWSDenialKeys),
	)

	It("names the HTTP rule a denial event breaks in the detail", func() {
		_, err := decode(`{type = "websocket.http.response.start", status = "401"}`)
		Expect(err).To(MatchError(HaveSuffix("(" + event.RuleStatusType + ")")))
	})

	It("builds the scope and the events the app receives", func() {
		s := &event.Scope{Type: "websocket", HTTPVersion: "1.1", Scheme: "ws", Path: "/chat", RawPath: "/chat",
			Headers: []event.Header{{Name: "host", Value: "t"}}, Subprotocols: []string{"chat", "v2"},
			Client: &event.Addr{Host: "127.0.0.1", Port: 5}, Extensions: []string{event.ExtensionWebSocketDeny}}
		scope := wsScopeTable(L, s, L.CreateTable(0, 0))
		L.SetGlobal("scope", scope)
		L.SetGlobal("receive", wsEventTable(L, &event.Event{Type: event.WebSocketReceive, Message: "\xff", Binary: true}))
		L.SetGlobal("gone", wsEventTable(L, &event.Event{Type: event.WebSocketDisconnect, Code: 1006}))
		Expect(L.DoString(`return table.concat({scope.type, scope.asgi.spec_version, scope.scheme, scope.path,
			scope.subprotocols[1], scope.subprotocols[2], tostring(scope.method), scope.client[1],
			tostring(scope.extensions["websocket.http.response"] ~= nil), type(scope.state),
			tostring(receive.text), receive.bytes, gone.code, gone.reason}, ",")`)).To(Succeed())
		Expect(strings.Split(L.Get(-1).String(), ",")).To(Equal([]string{
			"websocket", "2.5", "ws", "/chat", "chat", "v2", "nil", "127.0.0.1", "true", "table", "nil", "\xff", "1006", ""}))
	})
})
