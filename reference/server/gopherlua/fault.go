package gopherlua

import (
	lua "github.com/yuin/gopher-lua"

	"github.com/lasgi/lasgi/reference/server/internal/mutant"
)

// The engine's mutants (reference/server/internal/mutant) that change the
// tables an app is handed. Only a call with a fault injected reaches them.

// faultScopeTable breaks one key of a scope table.
func faultScopeTable(f mutant.Fault, scope *lua.LTable) {
	switch f.ID() {
	case mutant.StateNotEmpty:
		if st, ok := scope.RawGetString("state").(*lua.LTable); ok {
			st.RawSetString("leaked", lua.LTrue)
		}
	case mutant.ASGIVersionWrong:
		if asgi, ok := scope.RawGetString("asgi").(*lua.LTable); ok {
			asgi.RawSetString("version", lua.LString("2.0"))
		}
	case mutant.WSSpecVersionWrong:
		if asgi, ok := scope.RawGetString("asgi").(*lua.LTable); ok {
			asgi.RawSetString("spec_version", lua.LString("2.4"))
		}
	}
}

// faultEvent returns the event table t, without its more_body = false for
// mutant.MoreBodyKeyMissing. It is small enough to inline into receive, so
// a call without a fault pays one comparison.
func faultEvent(f mutant.Fault, t *lua.LTable) *lua.LTable {
	if f.ID() != 0 {
		dropMoreBody(f, t)
	}
	return t
}

func dropMoreBody(f mutant.Fault, t *lua.LTable) {
	if f.Is(mutant.MoreBodyKeyMissing) && t.RawGetString("more_body") == lua.LFalse {
		t.RawSetString("more_body", lua.LNil)
	}
}

// faultLifespanScope breaks the lifespan scope table of a worker's
// lifespan call, or its state.
func faultLifespanScope(f mutant.Fault, scope, state *lua.LTable) {
	switch f.ID() {
	case mutant.LifespanSpecVersionWrong:
		if asgi, ok := scope.RawGetString("asgi").(*lua.LTable); ok {
			asgi.RawSetString("spec_version", lua.LString("2.3"))
		}
	case mutant.LifespanStateNotEmpty:
		state.RawSetString("lasgi_server", lua.LString("lasgi-serve"))
	}
}

// faultStateCopy is the state table of a connection scope under the
// lifespan state mutants: the lifespan state itself, a copy with nested
// tables copied too, or a copy after the server wrote a key of its own
// into the lifespan state. The VM is held.
func faultStateCopy(f mutant.Fault, L *lua.LState, state *lua.LTable) *lua.LTable {
	if state == nil {
		return stateCopy(L, state)
	}
	switch f.ID() {
	case mutant.LifespanStateShared:
		return state
	case mutant.LifespanStateDeepCopy:
		t := stateCopy(L, state)
		for k, v := t.Next(lua.LNil); k != lua.LNil; k, v = t.Next(k) {
			if nested, ok := v.(*lua.LTable); ok {
				t.RawSet(k, stateCopy(L, nested))
			}
		}
		return t
	case mutant.LifespanStateServerKey:
		state.RawSetString("lasgi_server", lua.LString("lasgi-serve"))
	}
	return stateCopy(L, state)
}
