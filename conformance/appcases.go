package conformance

import (
	"strconv"
	"strings"

	"github.com/lasgi/lasgi/spec/event"
)

// appScope is the scope the app cases start from: an HTTP/1.1 GET offering,
// as lasgi-serve does, trailers, timers and groups.
func appScope(change func(*event.Scope)) event.Scope {
	s := event.Scope{
		Type: "http", HTTPVersion: "1.1", Method: "GET", Scheme: "http",
		Path: "/", RawPath: "/", QueryString: "",
		Headers: []event.Header{
			{Name: "host", Value: "app.test"},
			{Name: "user-agent", Value: "lasgi-check"},
			{Name: "accept", Value: "*/*"},
		},
		Client:     &event.Addr{Host: "127.0.0.1", Port: 50000},
		Server:     &event.Addr{Host: "127.0.0.1", Port: 8000},
		Extensions: []string{event.ExtensionTrailers, event.ExtensionTimers, event.ExtensionGroups},
	}
	if change != nil {
		change(&s)
	}
	return s
}

// without is names less name: a case that takes one extension away keeps
// the others (timers above all, which an app may need to serve at all).
func without(names []string, name string) []string {
	var out []string
	for _, n := range names {
		if n != name {
			out = append(out, n)
		}
	}
	return out
}

func post(body string) func(*event.Scope) {
	return func(s *event.Scope) {
		s.Method = "POST"
		s.Headers = append(s.Headers, event.Header{Name: "content-length", Value: strconv.Itoa(len(body))})
	}
}

func split(s string, n int) []string {
	var out []string
	for len(s) > n {
		out = append(out, s[:n])
		s = s[n:]
	}
	return append(out, s)
}

// sendRules are checked in every app case: whatever the app sends must be
// valid, in order, and complete.
var sendRules = []string{"core.app.complete-response", "core.send.type", "http.start.first", "http.send.after-complete"}

// httpAppCases are the exchanges of the http scope: scopes and request
// bodies in one piece or many, and the client going away at each point.
func httpAppCases() []*AppCase {
	all := strings.Repeat("\x00\x01\x02\xfe\xff binary ", 100)
	big := strings.Repeat("0123456789abcdef", 1<<16) // 1 MiB
	never := -1
	cases := []*AppCase{
		{ID: "app.http/get", Scope: appScope(nil), DisconnectAfter: never},
		{ID: "app.http/head", Rules: []string{"http.body.head-app"}, Scope: appScope(func(s *event.Scope) { s.Method = "HEAD" }), DisconnectAfter: never},
		{ID: "app.http/options-asterisk", Scope: appScope(func(s *event.Scope) { s.Method, s.Path, s.RawPath = "OPTIONS", "*", "*" }), DisconnectAfter: never},
		{ID: "app.http/http-1.0", Scope: appScope(func(s *event.Scope) { s.HTTPVersion = "1.0" }), DisconnectAfter: never},
		{ID: "app.http/path-and-query", Scope: appScope(func(s *event.Scope) {
			s.Path, s.RawPath, s.QueryString = "/caf\u00e9/a b", "/caf%C3%A9/a%20b", "x=1&y=%20&parts=3&size=1000"
		}), DisconnectAfter: never},
		{ID: "app.http/post-one-piece", Scope: appScope(post("hello")), Body: []string{"hello"}, DisconnectAfter: never},
		{ID: "app.http/post-many-pieces", Scope: appScope(post("hello world, in pieces")), Body: split("hello world, in pieces", 3), DisconnectAfter: never},
		{ID: "app.http/post-empty-pieces", Scope: appScope(post("ab")), Body: []string{"", "a", "", "b", ""}, DisconnectAfter: never},
		{ID: "app.http/post-binary", Rules: []string{"core.value.bytes"}, Scope: appScope(post(all)), Body: split(all, 700), DisconnectAfter: never},
		{ID: "app.http/post-1-mib", Scope: appScope(post(big)), Body: split(big, 64<<10), DisconnectAfter: never},
		{ID: "app.http/no-trailers-extension", Rules: []string{"http.trailers.offered", "core.extensions.offered-only"},
			Scope: appScope(func(s *event.Scope) { s.Extensions = without(s.Extensions, event.ExtensionTrailers) }), DisconnectAfter: never},
		{ID: "app.disconnect/before-the-body", Rules: []string{"http.disconnect.app-return"}, Scope: appScope(post("abc")), Body: []string{"a", "b", "c"}, DisconnectAfter: 0},
		{ID: "app.disconnect/in-the-middle-of-the-body", Rules: []string{"http.disconnect.app-return"}, Scope: appScope(post("abc")), Body: []string{"a", "b", "c"}, DisconnectAfter: 1},
		{ID: "app.disconnect/after-the-body", Rules: []string{"http.disconnect.app-return"}, Scope: appScope(post("abc")), Body: []string{"a", "b", "c"}, DisconnectAfter: 3},
		{ID: "app.scope/unknown-type", Rules: []string{"core.app.scope-type"}, Scope: appScope(func(s *event.Scope) { s.Type = "x-unknown" }), DisconnectAfter: never, WantRaise: "core.app.scope-type"},
		{ID: "app.scope/unknown-major-version", Rules: []string{"core.scope.version-check"}, Scope: appScope(func(s *event.Scope) { s.LASGIVersion = "2.0" }), DisconnectAfter: never, WantRaise: "core.scope.version-check"},
	}
	for _, c := range cases {
		c.Rules = append(append(c.Rules, sendRules...), groupsSendRules...)
	}
	return cases
}

// wsAppScope is the scope the WebSocket app cases start from: a ws:// GET
// upgraded over HTTP/1.1, offering the subprotocols chat and superchat and,
// as lasgi-serve does, the denial response, timers and groups extensions.
func wsAppScope(change func(*event.Scope)) event.Scope {
	s := event.Scope{
		Type: event.ScopeWebSocket, HTTPVersion: "1.1", Scheme: "ws",
		Path: "/ws", RawPath: "/ws", QueryString: "",
		Headers: []event.Header{
			{Name: "host", Value: "app.test"},
			{Name: "upgrade", Value: "websocket"},
			{Name: "connection", Value: "Upgrade"},
			{Name: "sec-websocket-key", Value: "dGhlIHNhbXBsZSBub25jZQ=="},
			{Name: "sec-websocket-version", Value: "13"},
			{Name: "sec-websocket-protocol", Value: "chat, superchat"},
		},
		Subprotocols: []string{"chat", "superchat"},
		Client:       &event.Addr{Host: "127.0.0.1", Port: 50000},
		Server:       &event.Addr{Host: "127.0.0.1", Port: 8000},
		Extensions:   []string{event.ExtensionWebSocketDeny, event.ExtensionTimers, event.ExtensionGroups},
	}
	if change != nil {
		change(&s)
	}
	return s
}

// wsSendRules are checked in every WebSocket app case: the answer to the
// handshake, and whatever the app sends after it.
var wsSendRules = []string{
	event.RuleWSConnectReply, event.RuleEventType, event.RuleWSAcceptOnce, event.RuleWSSubprotocol,
	event.RuleWSAcceptHeaders, event.RuleWSNoProtocolHeader, event.RuleWSSendOneOf, event.RuleWSSendText,
	event.RuleWSSendBytes, event.RuleWSSendAfterAccept, event.RuleWSSendAfterClose, event.RuleWSCloseCode,
	event.RuleWSCloseReason, event.RuleWSDenialOffered, event.RuleWSDenialWhen, event.RuleWSDenialClose,
}

func wsText(s string) WSAction  { return WSAction{Message: s} }
func wsBytes(s string) WSAction { return WSAction{Message: s, Binary: true} }
func wsClose(code int, reason string) WSAction {
	return WSAction{Close: true, Code: code, Reason: reason}
}

// websocketAppCases are the exchanges of the websocket scope: messages of
// each kind, a large one, the client closing with several codes or the
// transport ending, at each point.
func websocketAppCases() []*AppCase {
	big := strings.Repeat("0123456789abcdef", 1<<16) // 1 MiB
	all := strings.Repeat("\x00\x01\x02\xfe\xff binary ", 100)
	ws := func(id string, rules []string, scope event.Scope, script WSScript) *AppCase {
		return &AppCase{ID: id, Rules: rules, Scope: scope, DisconnectAfter: -1, WS: &script}
	}
	cases := []*AppCase{
		ws("app.websocket/text-messages", []string{"websocket.receive.text"}, wsAppScope(nil),
			WSScript{Actions: []WSAction{wsText("hello"), wsText("caf\u00e9 \u2603"), wsText(""), wsClose(1000, "")}}),
		ws("app.websocket/bytes-messages", []string{"websocket.receive.binary"}, wsAppScope(nil),
			WSScript{Actions: []WSAction{wsBytes(all), wsBytes(""), wsText("and text"), wsClose(1000, "")}}),
		ws("app.websocket/message-1-mib", []string{"websocket.receive.whole-messages"}, wsAppScope(nil),
			WSScript{Actions: []WSAction{wsText(big), wsBytes(big), wsClose(1000, "")}}),
		ws("app.websocket/no-subprotocols", []string{"websocket.scope.subprotocols"}, wsAppScope(func(s *event.Scope) {
			s.Subprotocols = nil
			s.Headers = s.Headers[:len(s.Headers)-1]
		}), WSScript{Actions: []WSAction{wsText("hello"), wsClose(1000, "")}}),
		ws("app.websocket/no-denial-extension", []string{event.RuleWSDenialOffered, "core.extensions.offered-only"},
			wsAppScope(func(s *event.Scope) { s.Extensions = without(s.Extensions, event.ExtensionWebSocketDeny) }),
			WSScript{Actions: []WSAction{wsText("hello"), wsClose(1000, "")}}),
		ws("app.websocket.close/1000", []string{"websocket.disconnect.code"}, wsAppScope(nil),
			WSScript{Actions: []WSAction{wsText("hello"), wsClose(1000, "")}}),
		ws("app.websocket.close/1001-going-away", []string{"websocket.disconnect.code"}, wsAppScope(nil),
			WSScript{Actions: []WSAction{wsText("hello"), wsClose(1001, "going away")}}),
		ws("app.websocket.close/4000-with-reason", []string{"websocket.disconnect.reason"}, wsAppScope(nil),
			WSScript{Actions: []WSAction{wsClose(4000, "the client's own reason")}}),
		ws("app.websocket.close/no-code", []string{"websocket.disconnect.code"}, wsAppScope(nil),
			WSScript{Actions: []WSAction{wsText("hello"), wsClose(1005, "")}}),
		ws("app.websocket.close/transport-ends", []string{"websocket.disconnect.on-close"}, wsAppScope(nil),
			WSScript{Actions: []WSAction{wsText("hello"), {Gone: true}}}),
		ws("app.websocket.close/right-after-accept", []string{"websocket.disconnect.on-close"}, wsAppScope(nil),
			WSScript{Actions: []WSAction{wsClose(1000, "")}}),
		ws("app.websocket.close/before-accept", []string{"websocket.send.after-disconnect", "core.send.disconnected-normal"}, wsAppScope(nil),
			WSScript{Eager: true, Actions: []WSAction{wsClose(1001, "")}}),
		ws("app.websocket.close/transport-ends-before-accept", []string{"websocket.send.after-disconnect", "core.send.disconnected-normal"}, wsAppScope(nil),
			WSScript{Eager: true, Actions: []WSAction{{Gone: true}}}),
		// A path such as a chat room's (spec/groups.md), for the apps that
		// join a group named after it and pass each message on to it.
		ws("app.websocket/groups-room", nil, wsAppScope(func(s *event.Scope) { s.Path, s.RawPath = "/room/lobby", "/room/lobby" }),
			WSScript{Actions: []WSAction{wsText("hello"), wsText("caf\u00e9"), wsText("again"), wsClose(1000, "")}}),
	}
	for _, c := range cases {
		c.Rules = append(append(c.Rules, wsSendRules...), groupsSendRules...)
	}
	return cases
}
