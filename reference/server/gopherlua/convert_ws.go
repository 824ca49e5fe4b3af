package gopherlua

import (
	"math"

	lua "github.com/yuin/gopher-lua"

	"github.com/lasgi/lasgi/reference/server/internal/mutant"
	"github.com/lasgi/lasgi/spec/event"
)

// The websocket scope's tables (spec/websocket.md) and the Lua type checks
// of what an app sends in one. WebSocket calls are few and long next to
// http requests, so these build plain tables rather than shapes.

// wsSpecVersion is the asgi spec_version of a websocket scope.
const wsSpecVersion = "2.5"

// wsScopeTable builds the Lua scope table of a websocket, with state as its
// state table.
func wsScopeTable(L *lua.LState, s *event.Scope, state *lua.LTable) *lua.LTable {
	version := s.LASGIVersion
	if version == "" {
		version = event.LASGIVersion
	}
	t := L.CreateTable(0, 16)
	t.RawSetString("type", str(s.Type))
	asgi := L.CreateTable(0, 2)
	asgi.RawSetString("version", str(event.ASGIVersion))
	asgi.RawSetString("spec_version", lua.LString(wsSpecVersion))
	t.RawSetString("asgi", asgi)
	lasgi := L.CreateTable(0, 1)
	lasgi.RawSetString("version", str(version))
	t.RawSetString("lasgi", lasgi)
	t.RawSetString("http_version", str(s.HTTPVersion))
	t.RawSetString("scheme", str(s.Scheme))
	t.RawSetString("path", str(s.Path))
	t.RawSetString("raw_path", lua.LString(s.RawPath))
	t.RawSetString("query_string", str(s.QueryString))
	t.RawSetString("root_path", str(s.RootPath))
	t.RawSetString("headers", headerList(L, s.Headers))
	if s.Client != nil {
		t.RawSetString("client", addrList(L, s.Client))
	}
	if s.Server != nil {
		t.RawSetString("server", addrList(L, s.Server))
	}
	protocols := L.CreateTable(len(s.Subprotocols), 0)
	for _, p := range s.Subprotocols {
		protocols.Append(lua.LString(p))
	}
	t.RawSetString("subprotocols", protocols)
	t.RawSetString("state", state)
	t.RawSetString("extensions", extensionsTable(L, s.Extensions))
	return t
}

// wsEventTable builds the table of a websocket event the server hands the
// app: websocket.connect, websocket.receive (text or bytes), or
// websocket.disconnect (code and reason).
func wsEventTable(L *lua.LState, ev *event.Event) *lua.LTable {
	t := L.CreateTable(0, 3)
	t.RawSetString("type", lua.LString(ev.Type))
	switch ev.Type {
	case event.WebSocketReceive:
		key := "text"
		if ev.Binary {
			key = "bytes"
		}
		t.RawSetString(key, lua.LString(ev.Message))
	case event.WebSocketDisconnect:
		t.RawSetString("code", lua.LNumber(ev.Code))
		t.RawSetString("reason", lua.LString(ev.Reason))
	}
	return t
}

// decodeWebSocket reads the keys of an event an app sent in a websocket
// scope, ev holding its type, checking each key's Lua type (spec rules
// websocket.send.one-of, -text-type, -bytes-type, websocket.close.code,
// -reason, websocket.accept.subprotocol, -headers-type). The denial
// response's events are read as the http events they stand for, an HTTP
// rule they break raised as websocket.denial.keys. An event
// of another type is left to the conversation (core.send.type).
func decodeWebSocket(t *lua.LTable, ev event.Event, f mutant.Fault) (event.Event, error) {
	var err error
	switch ev.Type {
	case event.WebSocketAccept:
		switch p := t.RawGetString("subprotocol").(type) {
		case lua.LString:
			ev.Subprotocol = string(p)
		case *lua.LNilType:
		default:
			return ev, event.Violationf(event.RuleWSSubprotocol, "subprotocol must be a string, got %s", describe(p))
		}
		if ev.Headers, err = decodeHeaders(t.RawGetString("headers"), event.RuleWSAcceptHeaders); err != nil {
			return ev, err
		}
	case event.WebSocketSend:
		text, bytes := t.RawGetString("text"), t.RawGetString("bytes")
		if (text == lua.LNil) == (bytes == lua.LNil) {
			return ev, event.Violationf(event.RuleWSSendOneOf, "websocket.send must have exactly one of text and bytes, got text %s and bytes %s", describe(text), describe(bytes))
		}
		if bytes != lua.LNil {
			b, ok := bytes.(lua.LString)
			if !ok {
				return ev, event.Violationf(event.RuleWSSendBytes, "bytes must be a string, got %s", describe(bytes))
			}
			ev.Message, ev.Binary = string(b), true
		} else {
			s, ok := text.(lua.LString)
			if !ok {
				return ev, event.Violationf(event.RuleWSSendText, "text must be a string, got %s", describe(text))
			}
			ev.Message = string(s)
		}
	case event.WebSocketClose:
		switch c := t.RawGetString("code").(type) {
		case lua.LNumber:
			if float64(c) != math.Trunc(float64(c)) || c < 0 || c > 1e9 {
				return ev, event.Violationf(event.RuleWSCloseCode, "code must be an integer close code, got %s", describe(c))
			}
			ev.Code = int(c)
			if ev.Code == 0 {
				// 0 would read as absent: refuse it as the code it is.
				return ev, event.Violationf(event.RuleWSCloseCode, "code 0 is not one an endpoint may send")
			}
		case *lua.LNilType:
		default:
			return ev, event.Violationf(event.RuleWSCloseCode, "code must be an integer, got %s", describe(c))
		}
		switch r := t.RawGetString("reason").(type) {
		case lua.LString:
			ev.Reason = string(r)
		case *lua.LNilType:
		default:
			return ev, event.Violationf(event.RuleWSCloseReason, "reason must be a string, got %s", describe(r))
		}
	case event.WebSocketDenialStart:
		err = event.DenialKeys(decodeStart(t, &ev, f))
		ev.Trailers = false // no meaning in a denial
	case event.WebSocketDenialBody:
		err = event.DenialKeys(decodeBody(t, &ev, f))
	}
	return ev, err
}
