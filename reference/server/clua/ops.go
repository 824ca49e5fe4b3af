//go:build lua54 || luajit

package clua

import (
	"encoding/binary"

	"github.com/lasgi/lasgi/spec/event"
)

// ops is a table for lasgi.c to build, as the ops its build() reads.
type ops struct{ b []byte }

func (o *ops) reset() { o.b = o.b[:0] }

func (o *ops) u32(v int) { o.b = binary.LittleEndian.AppendUint32(o.b, uint32(v)) }

func (o *ops) table(narr, nrec int) { o.b = append(o.b, 'T'); o.u32(narr); o.u32(nrec) }

func (o *ops) str(s string) { o.b = append(o.b, 'S'); o.u32(len(s)); o.b = append(o.b, s...) }

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

// set pops a value into the table below it, under key.
func (o *ops) set(key string) { o.b = append(o.b, 'K'); o.u32(len(key)); o.b = append(o.b, key...) }

// setStr is t[key] = s.
func (o *ops) setStr(key, s string) { o.str(s); o.set(key) }

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
	o.setStr("version", event.ASGIVersion)
	o.setStr("spec_version", spec)
	o.set("asgi")
	o.table(0, 1)
	o.setStr("version", version)
	o.set("lasgi")
}

// connScope is an http or websocket scope, its state a copy of the table
// under stateRef (an empty one for noRef).
func (o *ops) connScope(s *event.Scope, stateRef int) {
	ws := s.Type == event.ScopeWebSocket
	o.table(0, 16)
	o.setStr("type", s.Type)
	o.versions(s, event.ASGISpecVersion) // 2.5 for websocket too
	o.setStr("http_version", s.HTTPVersion)
	if !ws {
		o.setStr("method", s.Method)
	}
	o.setStr("scheme", s.Scheme)
	o.setStr("path", s.Path)
	o.setStr("raw_path", s.RawPath)
	o.setStr("query_string", s.QueryString)
	o.setStr("root_path", s.RootPath)
	o.table(len(s.Headers), 0)
	for i, h := range s.Headers {
		o.table(2, 0)
		o.str(h.Name)
		o.append(1)
		o.str(h.Value)
		o.append(2)
		o.append(i + 1)
	}
	o.set("headers")
	o.addr("client", s.Client)
	o.addr("server", s.Server)
	if ws {
		o.table(len(s.Subprotocols), 0)
		for i, p := range s.Subprotocols {
			o.str(p)
			o.append(i + 1)
		}
		o.set("subprotocols")
	}
	o.copyOf(stateRef)
	o.set("state")
	o.table(0, len(s.Extensions))
	for _, name := range s.Extensions {
		o.table(0, 0)
		o.set(name)
	}
	o.set("extensions")
}

func (o *ops) addr(key string, a *event.Addr) {
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
// (lifespan.scope.state); it has no extensions key.
func (o *ops) lifespanScope(s *event.Scope, stateRef int) {
	o.table(0, 4)
	o.setStr("type", event.ScopeLifespan)
	o.versions(s, event.LifespanSpecVersion)
	o.ref(stateRef)
	o.set("state")
}

// event is an event the server hands the app.
func (o *ops) event(ev *event.Event) {
	o.table(0, 3)
	o.setStr("type", ev.Type)
	switch ev.Type {
	case event.HTTPRequest:
		o.setStr("body", ev.Body)
		o.boolean(ev.MoreBody)
		o.set("more_body")
	case event.WebSocketReceive:
		if ev.Binary {
			o.setStr("bytes", ev.Message)
		} else {
			o.setStr("text", ev.Message)
		}
	case event.WebSocketDisconnect:
		o.integer(int64(ev.Code))
		o.set("code")
		o.setStr("reason", ev.Reason)
	}
}
