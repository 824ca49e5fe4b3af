package gopherlua

import (
	"slices"

	lua "github.com/yuin/gopher-lua"

	"github.com/lasgi/lasgi/reference/server/luatype"
	"github.com/lasgi/lasgi/spec/event"
)

// The scope's shapes: the keys of spec/http.md#scope, without client or
// server when the scope has none.
var (
	scopeShapes [2][2]*shape // [has client][has server]
	asgiShape   = newShape("version", "spec_version")
	lasgiShape  = newShape("version")
	// extensionShapes are the extensions tables the reference server
	// offers (http on 1.1 and 1.0, websocket; with groups and without),
	// and a lone trailers as before timers came.
	extensionShapes = []*shape{
		newShape(event.ExtensionTrailers, event.ExtensionTimers, event.ExtensionGroups),
		newShape(event.ExtensionTimers, event.ExtensionGroups),
		newShape(event.ExtensionWebSocketDeny, event.ExtensionTimers, event.ExtensionGroups),
		newShape(event.ExtensionTrailers, event.ExtensionTimers),
		newShape(event.ExtensionTimers),
		newShape(event.ExtensionWebSocketDeny, event.ExtensionTimers),
		newShape(event.ExtensionTrailers),
	}
	groupsShape = newShape("max_message_bytes", "queue", "max_groups")
)

func init() {
	for _, client := range []bool{false, true} {
		for _, server := range []bool{false, true} {
			names := []string{"type", "asgi", "lasgi", "http_version", "method", "scheme", "path", "raw_path", "query_string", "root_path", "headers"}
			if client {
				names = append(names, "client")
			}
			if server {
				names = append(names, "server")
			}
			scopeShapes[b2i(client)][b2i(server)] = newShape(append(names, "state", "extensions")...)
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// scopeTable builds the Lua scope table (spec/http.md#scope), with state as
// its state table.
func scopeTable(L *lua.LState, s *event.Scope, state *lua.LTable) *lua.LTable {
	version := s.LASGIVersion
	if version == "" {
		version = event.LASGIVersion
	}
	var vals [15]lua.LValue
	v := append(vals[:0],
		str(s.Type),
		asgiShape.table(L, []lua.LValue{str(event.ASGIVersion), str(event.ASGISpecVersion)}),
		lasgiShape.table(L, []lua.LValue{str(version)}),
		str(s.HTTPVersion),
		str(s.Method),
		str(s.Scheme),
		str(s.Path),
		lua.LString(s.RawPath),
		str(s.QueryString),
		str(s.RootPath),
		headerList(L, s.Headers),
	)
	if s.Client != nil {
		v = append(v, addrList(L, s.Client))
	}
	if s.Server != nil {
		v = append(v, addrList(L, s.Server))
	}
	v = append(v, state, extensionsTable(L, s.Extensions))
	return scopeShapes[b2i(s.Client != nil)][b2i(s.Server != nil)].table(L, v)
}

func extensionsTable(L *lua.LState, names []string) *lua.LTable {
	for _, sh := range extensionShapes {
		if slices.Equal(sh.names, names) {
			var vals [3]lua.LValue
			for i, name := range names {
				vals[i] = extensionEntry(L, name)
			}
			return sh.table(L, vals[:len(names)])
		}
	}
	t := L.CreateTable(0, len(names))
	for _, name := range names {
		t.RawSetString(name, extensionEntry(L, name))
	}
	return t
}

// extensionEntry is the table under an extension's name: empty but for
// groups, which says its limits (groups.offer.limits).
func extensionEntry(L *lua.LState, name string) *lua.LTable {
	if name == event.ExtensionGroups {
		return groupsShape.table(L, []lua.LValue{
			lua.LNumber(event.GroupsMaxMessageBytes), lua.LNumber(event.GroupsQueue), lua.LNumber(event.GroupsMaxGroups)})
	}
	return L.CreateTable(0, 0)
}

// Strings that most scopes carry, boxed once: boxing a string for Lua is an
// allocation. commonLen is the longest, so that longer strings (paths,
// header values) skip the lookup.
var common, commonLen = func() (map[string]lua.LValue, int) {
	m, longest := map[string]lua.LValue{}, 0
	for _, s := range []string{
		"", "/", "http", "https", "1.0", "1.1", "2", event.ASGIVersion, event.ASGISpecVersion, event.LASGIVersion,
		event.HTTPRequest, event.HTTPDisconnect,
		event.ScopeLifespan, event.LifespanSpecVersion, event.LifespanStartup, event.LifespanShutdown,
		"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS",
		"host", "user-agent", "accept", "accept-encoding", "accept-language", "connection",
		"content-type", "content-length", "cookie", "keep-alive", "close",
	} {
		m[s] = lua.LString(s)
		longest = max(longest, len(s))
	}
	return m, longest
}()

// str boxes s for Lua, without allocating for the common strings.
func str(s string) lua.LValue {
	if len(s) <= commonLen {
		if v, ok := common[s]; ok {
			return v
		}
	}
	return lua.LString(s)
}

func headerList(L *lua.LState, hs []event.Header) *lua.LTable {
	t := L.CreateTable(len(hs), 0)
	for _, h := range hs {
		t.Append(pair(L, str(h.Name), lua.LString(h.Value)))
	}
	return t
}

func addrList(L *lua.LState, a *event.Addr) *lua.LTable {
	return pair(L, str(a.Host), lua.LNumber(a.Port))
}

var (
	requestShape = newShape("type", "body", "more_body")
	typeOnly     = newShape("type")
)

// eventTable builds the Lua table of an event the server hands the app.
func eventTable(L *lua.LState, ev *event.Event) *lua.LTable {
	if ev.Type == event.WebSocketReceive || ev.Type == event.WebSocketDisconnect {
		return wsEventTable(L, ev)
	}
	if ev.Type == event.HTTPRequest {
		return requestShape.table(L, []lua.LValue{str(ev.Type), lua.LString(ev.Body), lua.LBool(ev.MoreBody)})
	}
	if ev.Type == event.GroupMessage {
		return groupMessageTable(L, ev)
	}
	return typeOnly.table(L, []lua.LValue{str(ev.Type)})
}

// describe names a Lua value for an error message.
func describe(v lua.LValue) string { return luatype.Describe(lval{v}) }
