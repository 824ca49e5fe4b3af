package gopherlua

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"

	lua "github.com/yuin/gopher-lua"

	"github.com/lasgi/lasgi/reference/server/internal/mutant"
	"github.com/lasgi/lasgi/spec/event"
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
	case mutant.GroupsNoLimits:
		if exts, ok := scope.RawGetString("extensions").(*lua.LTable); ok {
			if entry, ok := exts.RawGetString(event.ExtensionGroups).(*lua.LTable); ok {
				for _, k := range []string{"max_message_bytes", "queue", "max_groups"} {
					entry.RawSetString(k, lua.LNil)
				}
			}
		}
	}
}

// faultEvent returns the event table t, without its more_body = false for
// mutant.MoreBodyKeyMissing. It is small enough to inline into receive, so
// a call without a fault pays one comparison.
func faultEvent(f mutant.Fault, t *lua.LTable) *lua.LTable {
	if f.ID() != 0 {
		faultEventTable(f, t)
	}
	return t
}

func faultEventTable(f mutant.Fault, t *lua.LTable) {
	dropMoreBody(f, t)
	faultGroupMessage(f, t)
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

// faultGroupMessage breaks a lasgi.group.message table t: its data's
// strings cut at a NUL, its numbers truncated, its data table the one an
// earlier member in the process got for the same message, or dropped = 0
// where none were dropped.
func faultGroupMessage(f mutant.Fault, t *lua.LTable) {
	data, ok := t.RawGetString("data").(*lua.LTable)
	if !ok || t.RawGetString("type") != lua.LString(event.GroupMessage) {
		return
	}
	switch f.ID() {
	case mutant.GroupsStringCutAtNUL:
		mapData(data, func(v lua.LValue) lua.LValue {
			if s, ok := v.(lua.LString); ok {
				if i := strings.IndexByte(string(s), 0); i >= 0 {
					return s[:i]
				}
			}
			return v
		})
	case mutant.GroupsFloatTruncated:
		mapData(data, func(v lua.LValue) lua.LValue {
			if n, ok := v.(lua.LNumber); ok {
				return lua.LNumber(math.Trunc(float64(n)))
			}
			return v
		})
	case mutant.GroupsDataShared:
		key := t.RawGetString("group").String() + "\x00" + dataKey(data)
		if first, seen := sharedData.LoadOrStore(key, data); seen {
			t.RawSetString("data", first.(*lua.LTable))
		}
	case mutant.GroupsDroppedZero:
		if t.RawGetString("dropped") == lua.LNil {
			t.RawSetString("dropped", lua.LNumber(0))
		}
	}
}

// sharedData holds, under mutant.GroupsDataShared, the first data table
// built for each message (by group and content): the engine that caches it
// for every member of its Lua state (the mutants test runs one worker).
var sharedData sync.Map

// mapData replaces every value of data, at every depth, with change's.
func mapData(data *lua.LTable, change func(lua.LValue) lua.LValue) {
	data.ForEach(func(k, v lua.LValue) {
		if nested, ok := v.(*lua.LTable); ok {
			mapData(nested, change)
			return
		}
		data.RawSet(k, change(v))
	})
}

// dataKey is data's content as text, its pairs sorted (ForEach goes
// through Go maps, in no fixed order).
func dataKey(data *lua.LTable) string {
	var pairs []string
	data.ForEach(func(k, v lua.LValue) {
		p := fmt.Sprintf("%s:%q=", k.Type(), k.String())
		if nested, ok := v.(*lua.LTable); ok {
			p += "{" + dataKey(nested) + "}"
		} else {
			p += fmt.Sprintf("%s:%q", v.Type(), v.String())
		}
		pairs = append(pairs, p)
	})
	slices.Sort(pairs)
	return strings.Join(pairs, ";")
}
