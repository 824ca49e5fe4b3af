package gopherlua

import (
	lua "github.com/yuin/gopher-lua"

	"github.com/lasgi/lasgi/spec/event"
)

// The Lua side of lifespan: its scope and the copies of its state that
// connection scopes get.

var lifespanShape = newShape("type", "asgi", "lasgi", "state")

// lifespanScopeTable builds a lifespan scope (spec/lifespan.md#scope) and
// returns it with its state table, a new empty one (lifespan.scope.state).
// It has an extensions key only when it offers groups (groups.lifespan).
func lifespanScopeTable(L *lua.LState, s *event.Scope) (scope, state *lua.LTable) {
	version := s.LASGIVersion
	if version == "" {
		version = event.LASGIVersion
	}
	state = L.CreateTable(0, 0)
	scope = lifespanShape.table(L, []lua.LValue{
		str(event.ScopeLifespan),
		asgiShape.table(L, []lua.LValue{str(event.ASGIVersion), str(event.LifespanSpecVersion)}),
		lasgiShape.table(L, []lua.LValue{str(version)}),
		state,
	})
	if len(s.Extensions) > 0 {
		scope.RawSetString("extensions", extensionsTable(L, s.Extensions))
	}
	return scope, state
}

// stateCopy returns the state table of a new connection scope: a new table
// holding the keys and values of the lifespan state at this moment, nested
// tables and functions shared, not copied (lifespan.state.copy,
// lifespan.state.shallow); an empty table without lifespan state. The
// lifespan state is read raw, only to be copied, and never changed
// (lifespan.state.server-hands-off).
func stateCopy(L *lua.LState, state *lua.LTable) *lua.LTable {
	if state == nil {
		return L.CreateTable(0, 0)
	}
	n := 0
	for k, _ := state.Next(lua.LNil); k != lua.LNil; k, _ = state.Next(k) {
		n++
	}
	t := L.CreateTable(0, n)
	for k, v := state.Next(lua.LNil); k != lua.LNil; k, v = state.Next(k) {
		t.RawSet(k, v)
	}
	return t
}
