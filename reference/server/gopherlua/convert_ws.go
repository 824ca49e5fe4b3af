package gopherlua

import (
	lua "github.com/yuin/gopher-lua"

	"github.com/lasgi/lasgi/spec/event"
)

// The websocket scope's tables (spec/websocket.md); the Lua type checks of
// what an app sends in one are luatype's. WebSocket calls are few and long next to
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
