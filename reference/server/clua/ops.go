//go:build lua54 || luajit

package clua

import (
	"encoding/binary"
	"runtime"
	"unsafe"

	"github.com/lasgi/lasgi/spec/event"
)

// ops is a table for lasgi.c to build, as the ops its build() reads.
// Strings of bigString bytes or more are not copied into the ops but
// pinned where they are in Go's memory and named by address ('P'), so that
// a request body is copied once on its way in, into Lua, instead of three
// times (into the ops, the ops into C's buffer, and that into Lua). A
// pinned string stays so until the ops are reset or unpinned: until C has
// built from them.
type ops struct {
	b    []byte
	pins runtime.Pinner
}

// bigString is the length from which a string is pinned, not copied.
const bigString = 1024

func (o *ops) reset() {
	o.pins.Unpin()
	o.b = o.b[:0]
}

// unpin lets go of the strings the ops named, once C has built from them.
func (o *ops) unpin() { o.pins.Unpin() }

func (o *ops) u32(v int) { o.b = binary.LittleEndian.AppendUint32(o.b, uint32(v)) }

func (o *ops) table(narr, nrec int) { o.b = append(o.b, 'T'); o.u32(narr); o.u32(nrec) }

// str pushes s: by its index when it is one of commonStrings, by its
// address when it is long.
func (o *ops) str(s string) {
	if len(s) < bigString {
		if i, ok := common(s); ok {
			o.b = append(o.b, 's', byte(i))
			return
		}
	}
	o.bytes(s, 'S', 'P')
}

// bytes puts s in the ops after the op inline, when short, or else after
// the op pinned, by its address, pinned until the ops are done: a long
// string is not copied twice.
func (o *ops) bytes(s string, inline, pinned byte) {
	if len(s) >= bigString {
		p := unsafe.StringData(s)
		o.pins.Pin(p)
		o.b = append(o.b, pinned)
		o.b = binary.LittleEndian.AppendUint64(o.b, uint64(uintptr(unsafe.Pointer(p))))
		o.u32(len(s))
		return
	}
	o.b = append(o.b, inline)
	o.u32(len(s))
	o.b = append(o.b, s...)
}

func (o *ops) integer(v int64) {
	o.b = append(o.b, 'I')
	o.b = binary.LittleEndian.AppendUint64(o.b, uint64(v))
}

func (o *ops) boolean(v bool) {
	b := byte(0)
	if v {
		b = 1
	}
	o.b = append(o.b, 'B', b)
}

// set pops a value into the table below it, under the key commonStrings[k].
func (o *ops) set(k int) { o.b = append(o.b, 'k', byte(k)) }

// setName pops a value into the table below it, under name.
func (o *ops) setName(name string) {
	if i, ok := common(name); ok {
		o.set(i)
		return
	}
	o.b = append(o.b, 'K')
	o.u32(len(name))
	o.b = append(o.b, name...)
}

// setStr is t[commonStrings[k]] = s.
func (o *ops) setStr(k int, s string) { o.str(s); o.set(k) }

// append pops a value into the table below it, at i.
func (o *ops) append(i int) { o.b = append(o.b, 'A'); o.u32(i) }

// ref pushes the table kept under ref; copyOf a shallow copy of it.
func (o *ops) ref(r int)    { o.b = append(o.b, 'R'); o.u32(r) }
func (o *ops) copyOf(r int) { o.b = append(o.b, 'C'); o.u32(r) }

// The scopes (spec/http.md#scope, spec/websocket.md#scope,
// spec/lifespan.md#scope): the keys gopherlua's scope tables have.

func (o *ops) versions(s *event.Scope, spec string) {
	version := s.LASGIVersion
	if version == "" {
		version = event.LASGIVersion
	}
	o.table(0, 2)
	o.setStr(kVersion, event.ASGIVersion)
	o.setStr(kSpecVersion, spec)
	o.set(kASGI)
	o.table(0, 1)
	o.setStr(kVersion, version)
	o.set(kLASGI)
}

// connScope is an http or websocket scope, its state a copy of the table
// under stateRef (an empty one for noRef).
func (o *ops) connScope(s *event.Scope, stateRef int) {
	ws := s.Type == event.ScopeWebSocket
	o.table(0, 16)
	o.setStr(kType, s.Type)
	o.versions(s, event.ASGISpecVersion) // 2.5 for websocket too
	o.setStr(kHTTPVersion, s.HTTPVersion)
	if !ws {
		o.setStr(kMethod, s.Method)
	}
	o.setStr(kScheme, s.Scheme)
	o.setStr(kPath, s.Path)
	o.setStr(kRawPath, s.RawPath)
	o.setStr(kQueryString, s.QueryString)
	o.setStr(kRootPath, s.RootPath)
	o.table(len(s.Headers), 0)
	for i, h := range s.Headers {
		o.table(2, 0)
		o.str(h.Name)
		o.append(1)
		o.str(h.Value)
		o.append(2)
		o.append(i + 1)
	}
	o.set(kHeaders)
	o.addr(kClient, s.Client)
	o.addr(kServer, s.Server)
	if ws {
		o.table(len(s.Subprotocols), 0)
		for i, p := range s.Subprotocols {
			o.str(p)
			o.append(i + 1)
		}
		o.set(kSubprotocols)
	}
	o.copyOf(stateRef)
	o.set(kState)
	o.extensions(s.Extensions)
}

// extensions sets the scope's extensions table: an empty table under each
// name, groups' limits under lasgi.groups.
func (o *ops) extensions(names []string) {
	o.table(0, len(names))
	for _, name := range names {
		if name == event.ExtensionGroups {
			o.groupsOffer()
		} else {
			o.table(0, 0)
		}
		o.setName(name)
	}
	o.set(kExtensions)
}

func (o *ops) addr(key int, a *event.Addr) {
	if a == nil {
		return
	}
	o.table(2, 0)
	o.str(a.Host)
	o.append(1)
	o.integer(int64(a.Port))
	o.append(2)
	o.set(key)
}

// lifespanScope is a lifespan scope whose state is the table under stateRef
// (lifespan.scope.state); it has an extensions key only when it offers
// groups (groups.lifespan).
func (o *ops) lifespanScope(s *event.Scope, stateRef int) {
	o.table(0, 5)
	o.setStr(kType, event.ScopeLifespan)
	o.versions(s, event.LifespanSpecVersion)
	o.ref(stateRef)
	o.set(kState)
	if len(s.Extensions) > 0 {
		o.extensions(s.Extensions)
	}
}

// event is an event the server hands the app.
func (o *ops) event(ev *event.Event) {
	if ev.Type == event.GroupMessage {
		o.groupMessage(ev)
		return
	}
	o.table(0, 3)
	o.setStr(kType, ev.Type)
	switch ev.Type {
	case event.HTTPRequest:
		o.setStr(kBody, ev.Body)
		o.boolean(ev.MoreBody)
		o.set(kMoreBody)
	case event.WebSocketReceive:
		if ev.Binary {
			o.setStr(kBytes, ev.Message)
		} else {
			o.setStr(kText, ev.Message)
		}
	case event.WebSocketDisconnect:
		o.integer(int64(ev.Code))
		o.set(kCode)
		o.setStr(kReason, ev.Reason)
	}
}
