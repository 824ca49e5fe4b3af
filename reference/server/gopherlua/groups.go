package gopherlua

import (
	"math"
	"sync"

	lua "github.com/yuin/gopher-lua"

	"github.com/lasgi/lasgi/reference/server/groups"
	"github.com/lasgi/lasgi/spec/event"
)

// CarriesGroups says that this engine carries lasgi.groups
// (bridge.GroupsEngine): lval encodes the data of lasgi.group.send and
// eventTable builds lasgi.group.message.
func (e *Engine) CarriesGroups() bool { return true }

// encoders keep the buffers of encodings under way; the data is copied out
// of them (Encoder.Data), so one goes back as soon as a send is decoded.
var encoders = sync.Pool{New: func() any { return groups.NewEncoder(0) }}

// GroupData encodes the table l holds, as luatype.GroupData asks.
func (l lval) GroupData(max int) (string, error) {
	e := encoders.Get().(*groups.Encoder)
	defer encoders.Put(e)
	e.Reset(max)
	if err := encodeTable(e, l.v.(*lua.LTable)); err != nil {
		return "", err
	}
	return e.Data(), nil
}

func encodeTable(e *groups.Encoder, t *lua.LTable) error {
	mark, err := e.Open()
	if err != nil {
		return err
	}
	n := 0
	for k, v := t.Next(lua.LNil); k != lua.LNil; k, v = t.Next(k) {
		switch k := k.(type) {
		case lua.LString:
			err = e.String(string(k))
		case lua.LNumber:
			if math.IsNaN(float64(k)) {
				return groups.BadKey(describe(k))
			}
			err = e.Number(float64(k))
		default:
			return groups.BadKey(describe(k))
		}
		if err != nil {
			return err
		}
		switch v := v.(type) {
		case lua.LString:
			err = e.String(string(v))
		case lua.LNumber:
			err = e.Number(float64(v))
		case lua.LBool:
			err = e.Bool(bool(v))
		case *lua.LTable:
			err = encodeTable(e, v)
		default:
			return groups.BadValue(describe(v))
		}
		if err != nil {
			return err
		}
		n++
	}
	e.Close(mark, n)
	return nil
}

var groupMessageShape = newShape("type", "group", "data")

// groupMessageTable builds lasgi.group.message: data decoded into tables
// of this member's own (groups.copy), dropped only when some were.
func groupMessageTable(L *lua.LState, ev *event.Event) *lua.LTable {
	r := groups.NewReader(ev.Body)
	data := decodeValue(L, r)
	if r.Err() != nil {
		data = L.NewTable() // a bug in the encoder; Go made these bytes
	}
	if ev.Code == 0 {
		return groupMessageShape.table(L, []lua.LValue{str(ev.Type), lua.LString(ev.Group), data})
	}
	t := L.CreateTable(0, 4)
	t.RawSetString("type", str(ev.Type))
	t.RawSetString("group", lua.LString(ev.Group))
	t.RawSetString("data", data)
	t.RawSetString("dropped", lua.LNumber(ev.Code))
	return t
}

func decodeValue(L *lua.LState, r *groups.Reader) lua.LValue {
	v, ok := r.Next()
	if !ok {
		return lua.LNil
	}
	switch v.Tag {
	case groups.TagTable:
		t := L.CreateTable(0, v.Pairs)
		for i := 0; i < v.Pairs; i++ {
			k := decodeValue(L, r)
			val := decodeValue(L, r)
			if k == lua.LNil || val == lua.LNil {
				return t
			}
			t.RawSet(k, val)
		}
		return t
	case groups.TagString:
		return lua.LString(v.Str)
	case groups.TagInt:
		return lua.LNumber(float64(v.Int))
	case groups.TagFloat:
		return lua.LNumber(v.Float)
	case groups.TagTrue:
		return lua.LTrue
	default:
		return lua.LFalse
	}
}
