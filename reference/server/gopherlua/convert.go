package gopherlua

import (
	"fmt"
	"math"

	lua "github.com/yuin/gopher-lua"

	"github.com/lasgi/lasgi/reference/server/internal/mutant"
	"github.com/lasgi/lasgi/spec/event"
)

// The scope's shapes: the keys of spec/http.md#scope, without client or
// server when the scope has none.
var (
	scopeShapes [2][2]*shape // [has client][has server]
	asgiShape   = newShape("version", "spec_version")
	lasgiShape  = newShape("version")
	// trailersOnly is the extensions table the reference server offers.
	trailersOnly = newShape(event.ExtensionTrailers)
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
	if len(names) == 1 && names[0] == event.ExtensionTrailers {
		return trailersOnly.table(L, []lua.LValue{L.CreateTable(0, 0)})
	}
	t := L.CreateTable(0, len(names))
	for _, name := range names {
		t.RawSetString(name, L.CreateTable(0, 0))
	}
	return t
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
	return typeOnly.table(L, []lua.LValue{str(ev.Type)})
}

// decodeEvent reads an event the app sent in a scope of type scope, checking
// each key's Lua type against the spec. Only the keys of the scope's own
// events are read: any other type is core.send.type, which comes before any
// rule on the event's keys (core.send.check-order). Order and value checks
// are the call's conversation's (event.Response for http). f is a fault to
// inject (tests only).
func decodeEvent(v lua.LValue, f mutant.Fault, scope string) (event.Event, error) {
	var ev event.Event
	t, ok := v.(*lua.LTable)
	if !ok {
		return ev, event.Violationf(event.RuleEventTable, "send takes an event table, got %s", describe(v))
	}
	typ, ok := t.RawGetString("type").(lua.LString)
	if !ok {
		return ev, event.Violationf(event.RuleEventType, "event type must be a string, got %s", describe(t.RawGetString("type")))
	}
	ev.Type = string(typ)
	if scope == event.ScopeLifespan {
		return decodeLifespan(t, ev)
	}
	if scope == event.ScopeWebSocket {
		return decodeWebSocket(t, ev, f)
	}
	var err error
	switch ev.Type {
	case event.HTTPResponseStart:
		err = decodeStart(t, &ev, f)
	case event.HTTPResponseBody:
		err = decodeBody(t, &ev, f)
	case event.HTTPResponseTrailers:
		if ev.Headers, err = decodeHeaders(t.RawGetString("headers"), event.RuleTrailersHeaders); err != nil {
			return ev, err
		}
		ev.MoreTrailers, err = decodeBool(t, "more_trailers", event.RuleMoreTrailersType)
	}
	return ev, err
}

// decodeStart reads the keys of http.response.start (and of the websocket
// denial's start, which has the same).
func decodeStart(t *lua.LTable, ev *event.Event, f mutant.Fault) error {
	st := t.RawGetString("status")
	if _, ok := st.(lua.LString); ok && f.Is(mutant.StatusStringCoerced) {
		st = lua.LVAsNumber(st)
	}
	n, isNum := st.(lua.LNumber)
	if !isNum || float64(n) != math.Trunc(float64(n)) || math.IsInf(float64(n), 0) {
		return event.Violationf(event.RuleStatusType, "status must be an integer, got %s", describe(st))
	}
	if n < -1e9 || n > 1e9 {
		return event.Violationf(event.RuleStatusRange, "status %v is outside 200..599", float64(n))
	}
	ev.Status = int(n)
	var err error
	if ev.Headers, err = decodeHeaders(t.RawGetString("headers"), event.RuleHeadersType); err != nil && !f.Is(mutant.HeadersMapAccepted) {
		return err
	}
	if ev.Trailers, err = decodeBool(t, "trailers", event.RuleTrailersType); err != nil {
		return err
	}
	return nil
}

// decodeBody reads the keys of http.response.body (and of the websocket
// denial's body).
func decodeBody(t *lua.LTable, ev *event.Event, f mutant.Fault) error {
	switch b := t.RawGetString("body").(type) {
	case lua.LString:
		ev.Body = string(b)
	case lua.LNumber:
		if !f.Is(mutant.BodyNumberCoerced) {
			return event.Violationf(event.RuleBodyType, "body must be a string, got %s", describe(b))
		}
		ev.Body = b.String()
	case *lua.LNilType:
	default:
		return event.Violationf(event.RuleBodyType, "body must be a string, got %s", describe(b))
	}
	var err error
	if ev.MoreBody, err = decodeBool(t, "more_body", event.RuleMoreBodyType); err != nil && !f.Is(mutant.MoreBodyStringAccepted) {
		return err
	}
	return nil
}

func decodeBool(t *lua.LTable, key, rule string) (bool, error) {
	switch b := t.RawGetString(key).(type) {
	case lua.LBool:
		return bool(b), nil
	case *lua.LNilType:
		return false, nil
	default:
		return false, event.Violationf(rule, "%s must be a boolean, got %s", key, describe(b))
	}
}

// decodeHeaders reads a list of {name, value} pairs of strings.
func decodeHeaders(v lua.LValue, rule string) ([]event.Header, error) {
	if v == lua.LNil {
		return nil, nil
	}
	t, ok := v.(*lua.LTable)
	if !ok {
		return nil, event.Violationf(rule, "headers must be a list of {name, value} pairs, got %s", describe(v))
	}
	n := t.Len()
	// Next, not ForEach: a closure per table is an allocation per send.
	for k, _ := t.Next(lua.LNil); k != lua.LNil; k, _ = t.Next(k) {
		if kn, ok := k.(lua.LNumber); !ok || float64(kn) != math.Trunc(float64(kn)) || kn < 1 || int(kn) > n {
			return nil, event.Violationf(rule, "headers must be a list (keys 1..n), found key %s", describe(k))
		}
	}
	hs := make([]event.Header, 0, n)
	for i := 1; i <= n; i++ {
		pair, ok := t.RawGetInt(i).(*lua.LTable)
		if ok {
			keys := 0
			for k, _ := pair.Next(lua.LNil); k != lua.LNil; k, _ = pair.Next(k) {
				keys++
			}
			ok = keys == 2 && pair.Len() == 2
		}
		if !ok {
			return nil, event.Violationf(rule, "header %d must be a {name, value} pair, got %s", i, describe(t.RawGetInt(i)))
		}
		name, ok1 := pair.RawGetInt(1).(lua.LString)
		value, ok2 := pair.RawGetInt(2).(lua.LString)
		if !ok1 || !ok2 {
			return nil, event.Violationf(rule, "header %d must be two strings, got {%s, %s}", i, describe(pair.RawGetInt(1)), describe(pair.RawGetInt(2)))
		}
		hs = append(hs, event.Header{Name: string(name), Value: string(value)})
	}
	return hs, nil
}

// describe names a Lua value for an error message.
func describe(v lua.LValue) string {
	switch v := v.(type) {
	case lua.LString:
		if len(v) > 40 {
			return fmt.Sprintf("string %q...", string(v[:40]))
		}
		return fmt.Sprintf("string %q", string(v))
	case lua.LNumber:
		return "number " + v.String()
	case *lua.LNilType:
		return "nil"
	case lua.LBool:
		return "boolean " + v.String()
	default:
		return v.Type().String()
	}
}
