// Package luatype holds the Lua type rules of the events an app sends,
// written once for every engine: which keys are read, what Lua type each
// must have, and the rule a wrong one breaks (spec/http.md,
// spec/websocket.md, spec/lifespan.md). An engine hands Decode the event
// as its own value type; the order and value rules come after, from the
// call's event.Conversation.
package luatype

import (
	"fmt"
)

// Kind is a Lua value's type, as far as the rules tell types apart.
type Kind uint8

const (
	Nil Kind = iota
	Boolean
	Number
	String
	Table
	Other // functions, userdata, threads: named by TypeName
)

// Value is a Lua value as an engine holds it. V is the engine's own value
// type, a small struct passed by value, so that decoding boxes nothing.
type Value[V any] interface {
	Kind() Kind
	Str() string      // Kind String: the string, which the caller may keep
	Num() float64     // Kind Number
	Bool() bool       // Kind Boolean
	TypeName() string // Lua's name of the type ("function", "userdata", ...), for messages
	// Field is t[key], raw; a value of Kind Nil when absent (and for a
	// key the engine does not read: only the keys this package reads).
	Field(key string) V
	Index(i int) V // t[i], raw
	// List reports t's border n (#t, raw) and whether every key of t is an
	// integer in 1..n; when not, bad is the first key found that is not.
	List() (n int, bad V, ok bool)
	// StrNum converts a string to a number as Lua would (only the
	// status-string mutant uses it).
	StrNum() (float64, bool)
}

// Describe names a Lua value for an error message.
func Describe[V Value[V]](v V) string {
	switch v.Kind() {
	case String:
		s := v.Str()
		if len(s) > 40 {
			return fmt.Sprintf("string %q...", s[:40])
		}
		return fmt.Sprintf("string %q", s)
	case Number:
		return "number " + numberText(v.Num())
	case Nil:
		return "nil"
	case Boolean:
		return fmt.Sprintf("boolean %v", v.Bool())
	case Table:
		return "table"
	default:
		return v.TypeName()
	}
}

// numberText is a number as gopher-lua prints it: integers without a
// fraction.
func numberText(f float64) string {
	if f == float64(int64(f)) {
		return fmt.Sprint(int64(f))
	}
	return fmt.Sprint(f)
}
