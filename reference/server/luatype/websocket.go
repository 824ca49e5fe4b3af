package luatype

import (
	"math"

	"github.com/lasgi/lasgi/reference/server/internal/mutant"
	"github.com/lasgi/lasgi/spec/event"
)

// decodeWebSocket reads the keys of an event an app sent in a websocket
// scope, ev holding its type, checking each key's Lua type (spec rules
// websocket.send.one-of, -text-type, -bytes-type, websocket.close.code,
// -reason, websocket.accept.subprotocol, -headers-type). The denial
// response's events are read as the http events they stand for, an HTTP
// rule they break raised as websocket.denial.keys. An event of another type
// is left to the conversation (core.send.type).
func decodeWebSocket[V Value[V]](t V, ev event.Event, f mutant.Fault) (event.Event, error) {
	var err error
	switch ev.Type {
	case event.WebSocketAccept:
		switch p := t.Field("subprotocol"); p.Kind() {
		case String:
			ev.Subprotocol = p.Str()
		case Nil:
		default:
			return ev, event.Violationf(event.RuleWSSubprotocol, "subprotocol must be a string, got %s", Describe(p))
		}
		if ev.Headers, err = decodeHeaders(t.Field("headers"), event.RuleWSAcceptHeaders); err != nil {
			return ev, err
		}
	case event.WebSocketSend:
		text, bytes := t.Field("text"), t.Field("bytes")
		if (text.Kind() == Nil) == (bytes.Kind() == Nil) {
			return ev, event.Violationf(event.RuleWSSendOneOf, "websocket.send must have exactly one of text and bytes, got text %s and bytes %s", Describe(text), Describe(bytes))
		}
		if bytes.Kind() != Nil {
			if bytes.Kind() != String {
				return ev, event.Violationf(event.RuleWSSendBytes, "bytes must be a string, got %s", Describe(bytes))
			}
			ev.Message, ev.Binary = bytes.Str(), true
		} else {
			if text.Kind() != String {
				return ev, event.Violationf(event.RuleWSSendText, "text must be a string, got %s", Describe(text))
			}
			ev.Message = text.Str()
		}
	case event.WebSocketClose:
		switch c := t.Field("code"); c.Kind() {
		case Number:
			n := c.Num()
			if n != math.Trunc(n) || n < 0 || n > 1e9 {
				return ev, event.Violationf(event.RuleWSCloseCode, "code must be an integer close code, got %s", Describe(c))
			}
			ev.Code = int(n)
			if ev.Code == 0 {
				// 0 would read as absent: refuse it as the code it is.
				return ev, event.Violationf(event.RuleWSCloseCode, "code 0 is not one an endpoint may send")
			}
		case Nil:
		default:
			return ev, event.Violationf(event.RuleWSCloseCode, "code must be an integer, got %s", Describe(c))
		}
		switch r := t.Field("reason"); r.Kind() {
		case String:
			ev.Reason = r.Str()
		case Nil:
		default:
			return ev, event.Violationf(event.RuleWSCloseReason, "reason must be a string, got %s", Describe(r))
		}
	case event.WebSocketDenialStart:
		err = event.DenialKeys(decodeStart(t, &ev, f))
		ev.Trailers = false // no meaning in a denial
	case event.WebSocketDenialBody:
		err = event.DenialKeys(decodeBody(t, &ev, f))
	}
	return ev, err
}
