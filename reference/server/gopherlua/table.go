package gopherlua

import (
	"maps"
	"reflect"
	"slices"
	"unsafe"

	lua "github.com/yuin/gopher-lua"
)

// A shape is the key set of a string-keyed table the server builds for every
// call, such as the scope. Building one key by key through gopher-lua's API
// costs about three allocations per key: the key boxed again, and the key
// list and index that next() walks grown one step at a time. A shape boxes
// its keys once and keeps that list and index ready, so a table of the shape
// is its hash part filled in one go plus a copy of the index. It was the
// largest cost per request left in the bridge (docs/performance.md, step 10).
type shape struct {
	names []string
	keys  []lua.LValue       // names, boxed once, in next() order
	index map[lua.LValue]int // key -> its place in keys
}

func newShape(names ...string) *shape {
	s := &shape{names: names, index: make(map[lua.LValue]int, len(names))}
	for i, n := range names {
		k := lua.LString(n)
		s.keys = append(s.keys, k)
		s.index[k] = i
	}
	s.keys = slices.Clip(s.keys)
	return s
}

// table returns a new table holding vals[i] at names[i]. No value may be
// nil or lua.LNil: a table holds no nil values.
func (s *shape) table(L *lua.LState, vals []lua.LValue) *lua.LTable {
	if !directTables {
		t := L.CreateTable(0, len(s.names))
		for i, n := range s.names {
			t.RawSetString(n, vals[i])
		}
		return t
	}
	t := &lua.LTable{Metatable: lua.LNil}
	d := (*tableLayout)(unsafe.Pointer(t))
	d.strdict = make(map[string]lua.LValue, len(s.names))
	for i, n := range s.names {
		d.strdict[n] = vals[i]
	}
	// The key list can be shared: gopher-lua only appends to it, and it is
	// full, so a table that gains a key gets a copy. The index is written
	// in place, so each table has its own.
	d.keys = s.keys
	d.k2i = maps.Clone(s.index)
	return t
}

// pair returns a new list {a, b}: header pairs and addresses. The table and
// its two slots are one allocation instead of two.
func pair(L *lua.LState, a, b lua.LValue) *lua.LTable {
	if !directTables {
		t := L.CreateTable(2, 0)
		t.RawSetInt(1, a)
		t.RawSetInt(2, b)
		return t
	}
	p := &struct {
		t     lua.LTable
		slots [2]lua.LValue
	}{}
	p.t.Metatable = lua.LNil
	p.slots = [2]lua.LValue{a, b}
	(*tableLayout)(unsafe.Pointer(&p.t)).array = p.slots[:]
	return &p.t
}

// tableLayout is gopher-lua's LTable (v1.1), field for field: the hash part
// (strdict for string keys) and the key list and index next() walks.
type tableLayout struct {
	Metatable lua.LValue
	array     []lua.LValue
	dict      map[lua.LValue]lua.LValue
	strdict   map[string]lua.LValue
	keys      []lua.LValue
	k2i       map[lua.LValue]int
}

// directTables says whether shape.table and pair may fill in an LTable's
// fields themselves: only when LTable is laid out exactly as tableLayout.
// With another gopher-lua they fall back to the API, slower but correct, and
// a test fails so that the layout is looked at again. They also rely on how
// gopher-lua uses the fields (it only appends to keys, for one); the tests
// compare both paths as Lua sees them, after the app changes the tables too.
var directTables = sameLayout(reflect.TypeFor[lua.LTable](), reflect.TypeFor[tableLayout]())

func sameLayout(a, b reflect.Type) bool {
	if a.Size() != b.Size() || a.NumField() != b.NumField() {
		return false
	}
	for i := range a.NumField() {
		fa, fb := a.Field(i), b.Field(i)
		if fa.Name != fb.Name || fa.Type != fb.Type || fa.Offset != fb.Offset {
			return false
		}
	}
	return true
}
