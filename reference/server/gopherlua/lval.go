package gopherlua

import (
	"math"

	lua "github.com/yuin/gopher-lua"

	"github.com/lasgi/lasgi/reference/server/internal/mutant"
	"github.com/lasgi/lasgi/reference/server/luatype"
	"github.com/lasgi/lasgi/spec/event"
)

// lval is a gopher-lua value as luatype reads it.
type lval struct{ v lua.LValue }

var _ luatype.Value[lval] = lval{}

func (l lval) Kind() luatype.Kind {
	switch l.v.(type) {
	case *lua.LNilType:
		return luatype.Nil
	case lua.LBool:
		return luatype.Boolean
	case lua.LNumber:
		return luatype.Number
	case lua.LString:
		return luatype.String
	case *lua.LTable:
		return luatype.Table
	}
	return luatype.Other
}

func (l lval) Str() string      { s, _ := l.v.(lua.LString); return string(s) }
func (l lval) Num() float64     { n, _ := l.v.(lua.LNumber); return float64(n) }
func (l lval) Bool() bool       { b, _ := l.v.(lua.LBool); return bool(b) }
func (l lval) TypeName() string { return l.v.Type().String() }

func (l lval) Field(key string) lval {
	if t, ok := l.v.(*lua.LTable); ok {
		return lval{t.RawGetString(key)}
	}
	return lval{lua.LNil}
}

func (l lval) Index(i int) lval {
	if t, ok := l.v.(*lua.LTable); ok {
		return lval{t.RawGetInt(i)}
	}
	return lval{lua.LNil}
}

func (l lval) List() (int, lval, bool) {
	t, ok := l.v.(*lua.LTable)
	if !ok {
		return 0, lval{lua.LNil}, false
	}
	n := t.Len()
	// Next, not ForEach: a closure per table is an allocation per send.
	for k, _ := t.Next(lua.LNil); k != lua.LNil; k, _ = t.Next(k) {
		if kn, ok := k.(lua.LNumber); !ok || float64(kn) != math.Trunc(float64(kn)) || kn < 1 || int(kn) > n {
			return n, lval{k}, false
		}
	}
	return n, lval{lua.LNil}, true
}

func (l lval) StrNum() (float64, bool) { return float64(lua.LVAsNumber(l.v)), true }

// decodeEvent reads an event the app sent in scope (luatype.DecodeFor).
func decodeEvent(v lua.LValue, f mutant.Fault, scope *event.Scope) (event.Event, error) {
	return luatype.DecodeFor(lval{v}, f, scope)
}
