//go:build lua54 || luajit

package clua

// #include "lasgi.h"
import "C"

import (
	"time"
	"unsafe"

	"github.com/lasgi/lasgi/reference/server/bridge"
	"github.com/lasgi/lasgi/spec/event"
)

// Loans: a response body or WebSocket message the app sends is handed to
// the HTTP side where it is, in Lua's memory, instead of copied out
// (bridge's lend.go), when the call allows it and the string is at least
// LASGI_LEND_MIN bytes. send()
// anchors the string in the registry; the call keeps the anchor as a loan
// until the HTTP side has written the body (bridge.Call.Returned), and the
// worker lets go of it on its next turn with the call, or, once the call
// has ended, with any call. Lua's collector never moves a string, so the
// bytes stay where they are while anchored.

// The fields lent are the same in both halves.
func _() {
	_ = uint(kBody - C.LASGI_FIELD_BODY)
	_ = uint(C.LASGI_FIELD_BODY - kBody)
	_ = uint(kText - C.LASGI_FIELD_TEXT)
	_ = uint(C.LASGI_FIELD_TEXT - kText)
	_ = uint(kBytes - C.LASGI_FIELD_BYTES)
	_ = uint(C.LASGI_FIELD_BYTES - kBytes)
}

// lentFields are the keys whose string send() may lend.
var lentFields = [...]string{"body", "text", "bytes"}

// lentNode is the node send() anchored, nil when none is.
func lentNode(root cval) *C.lasgi_node {
	for _, k := range lentFields {
		if f := root.Field(k); f.i >= 0 && f.node().lent != 0 {
			return f.node()
		}
	}
	return nil
}

// lentString is the string of ev that a lent node may be: the body of
// http.response.body, the message of websocket.send.
func lentString(ev *event.Event) string {
	switch ev.Type {
	case event.HTTPResponseBody:
		return ev.Body
	case event.WebSocketSend:
		return ev.Message
	}
	return ""
}

// loan is one body lent: its anchor and its position (bridge.Call.Mark).
type loan struct {
	ref  C.int
	mark int64
}

// owed are the loans of a call that ended before the HTTP side had
// written them all.
type owed struct {
	c     *bridge.Call
	loans []loan
}

// lending returns the node whose string send() anchored (vm->lendref),
// nil when none is or the call does not lend: its string is then copied as
// any other, and send() lets go of the anchor when the callback returns. A
// send callback is also when the call's loans written since are given back.
func (w *worker) lending(cc *coCall, root cval) *C.lasgi_node {
	if len(cc.loans) > 0 {
		w.payBack(cc.c, &cc.loans, true)
	}
	if w.c.lendref == noRef {
		return nil
	}
	n := lentNode(root)
	if n != nil && !cc.c.Lend {
		n.lent = 0
		return nil
	}
	return n
}

// borrow keeps the anchor of n's string, which lending returned: ev is what
// Send took, whose body or message is that string unless the event was of
// another type.
func (w *worker) borrow(cc *coCall, ev *event.Event, n *C.lasgi_node) {
	s := lentString(ev)
	if len(s) == 0 || unsafe.StringData(s) != (*byte)(unsafe.Pointer(n.s)) {
		return
	}
	cc.loans = append(cc.loans, loan{ref: w.c.lendref, mark: cc.c.Mark()})
	w.c.lendref = noRef
}

// payBack lets go of the loans at the front of *ls that c has returned:
// within a send callback through vm->drops (send() lets go of them as it
// returns, on the running coroutine), else at once. The VM is held.
func (w *worker) payBack(c *bridge.Call, ls *[]loan, inSend bool) {
	k := 0
	for ; k < len(*ls) && c.Returned((*ls)[k].mark); k++ {
		ref := (*ls)[k].ref
		if !inSend {
			C.lasgi_unref(w.c, ref)
			continue
		}
		if w.c.ndrop == C.LASGI_DROPS {
			break
		}
		w.c.drops[w.c.ndrop] = ref
		w.c.ndrop++
	}
	n := copy(*ls, (*ls)[k:])
	*ls = (*ls)[:n]
}

// payOwed gives back what the HTTP side has returned of the ended calls'
// loans. The VM is held, and no coroutine runs.
func (w *worker) payOwed() {
	kept := w.owed[:0]
	for _, o := range w.owed {
		w.payBack(o.c, &o.loans, false)
		if len(o.loans) > 0 {
			kept = append(kept, o)
		}
	}
	clear(w.owed[len(kept):])
	w.owed = kept
}

// outstanding gathers every loan still out, the ended calls' and the live
// ones', at close. The VM is held.
func (w *worker) outstanding() []owed {
	out := w.owed
	w.owed = nil
	for _, cc := range w.calls {
		if cc != nil && len(cc.loans) > 0 {
			out = append(out, owed{cc.c, cc.loans})
			cc.loans = nil
		}
	}
	return out
}

// awaitReturned waits, within grace, for the HTTP side to return every loan
// in out; false when some are still out, whose bytes may still be read.
// The VM is not held: the HTTP side's last Written may wake a call, and the
// wake-up must find the worker closed, not wait for it.
func awaitReturned(out []owed, grace time.Duration) bool {
	deadline := time.Now().Add(grace)
	for _, o := range out {
		last := o.loans[len(o.loans)-1].mark
		for !o.c.Returned(last) {
			if time.Now().After(deadline) {
				return false
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	return true
}

var _ bridge.BodyCopier = (*Engine)(nil)

// CopiesBodies implements bridge.BodyCopier: a received body becomes a Lua
// string, copied by C from the ops (or from the bytes a P op pins) before
// receive() returns, and nothing keeps the Go string after the run.
func (e *Engine) CopiesBodies() bool { return true }
