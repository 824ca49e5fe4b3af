//go:build lua54 || luajit

package clua

// #include <stdlib.h>
// #include "lasgi.h"
import "C"

import (
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/lasgi/lasgi/reference/server/luatype"
	"github.com/lasgi/lasgi/spec/event"
)

// The callbacks lasgi.c makes from receive() and send(), on the goroutine
// that is running the call's coroutine, with its worker's VM held. They
// must not panic (a Go panic cannot unwind C frames) and must not call
// back into Lua: they only fill the worker's C buffers.

// handles are the live workers by the integer their C state carries, for
// the callbacks to find theirs: a lock-free read of a copy-on-write slice
// (cgo.Handle's map lookup cost a measurable part of each callback).
var handles workerTable

type workerTable struct {
	mu   sync.Mutex
	list atomic.Pointer[[]*worker]
	free []int
}

func (t *workerTable) add(w *worker) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	var list []*worker
	if p := t.list.Load(); p != nil {
		list = append(list, *p...)
	}
	var i int
	if n := len(t.free); n > 0 {
		i, t.free = t.free[n-1], t.free[:n-1]
		list[i] = w
	} else {
		i = len(list)
		list = append(list, w)
	}
	t.list.Store(&list)
	return i
}

func (t *workerTable) remove(i int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	list := append([]*worker(nil), *t.list.Load()...)
	list[i] = nil
	t.list.Store(&list)
	t.free = append(t.free, i)
}

func (t *workerTable) get(h C.uintptr_t) *worker { return (*t.list.Load())[h] }

// noRef is LUA_NOREF.
const noRef = -2

// Results of a callback, as lasgi.c reads them.
const (
	cbRaise = -1 // raise vm->msg in the app
	cbWait  = 0  // yield: the app waits (receive: for an event; send: for the socket)
	cbReady = 1  // receive: an event's ops are in vm->ops; send: go on
)

//export lasgiReceive
func lasgiReceive(h C.uintptr_t, id, gen, owner C.int, nodes *C.lasgi_node, nn C.int, n *C.size_t) (r C.int) {
	w := handles.get(h)
	defer w.guard("receive", &r)
	cc := w.own(int(id), int(gen), owner != 0, "receive")
	if cc == nil {
		return cbRaise
	}
	cc.bareYields = 0
	// receive({timeout = s}): the lasgi.timers extension (spec/timers.md).
	opts := cval{i: -1}
	if nn > 0 {
		opts = cval{unsafe.Slice(nodes, int(nn)), 0}
	}
	d, timed, err := luatype.ReceiveOptions(opts, cc.c.Fault, cc.c.Scope)
	if err != nil {
		return w.raise(err.Error())
	}
	ev, ok := cc.c.ReceiveFor(cc, d, timed)
	if !ok {
		cc.waiting = inReceive
		return cbWait
	}
	w.ops.reset()
	w.ops.event(&ev)
	if !w.putOps() {
		return w.raise("not enough memory for a received event")
	}
	*n = C.size_t(len(w.ops.b))
	return cbReady
}

//export lasgiSend
func lasgiSend(h C.uintptr_t, id, gen, owner C.int, nodes *C.lasgi_node, nn C.int) (r C.int) {
	w := handles.get(h)
	defer w.guard("send", &r)
	cc := w.own(int(id), int(gen), owner != 0, "send")
	if cc == nil {
		return cbRaise
	}
	cc.bareYields = 0
	root := cval{unsafe.Slice(nodes, int(nn)), 0}
	lent := w.lending(cc, root)
	ev, err := luatype.DecodeFor(root, cc.c.Fault, cc.c.Scope)
	if err == nil {
		var wait bool
		wait, err = cc.c.Send(&ev, cc)
		if err == nil {
			if lent != nil {
				w.borrow(cc, &ev, lent)
			}
			if cc.lifeRef != noRef && ev.Type == event.LifespanStartupComplete {
				w.stateRef = cc.lifeRef // the VM is held: begin reads it so too
			}
			if wait {
				cc.waiting = inSend
				return cbWait
			}
			return cbReady
		}
	}
	// The value is exactly "lasgi: <rule-id>: <detail>" (core.send.error-value).
	return w.raise(err.Error())
}

//export lasgiWrite
func lasgiWrite(h C.uintptr_t, s *C.char, n C.size_t) {
	w := handles.get(h)
	if out := w.e.opts.Output; out != nil {
		out.Write(C.GoBytes(unsafe.Pointer(s), C.int(n)))
	}
}

// own returns the call that (id, gen) names, when the coroutine calling fn
// may call it for that call (core.call.same-coroutine); otherwise nil, the
// error in vm->msg.
func (w *worker) own(id, gen int, owner bool, fn string) *coCall {
	var cc *coCall
	if id >= 0 && id < len(w.calls) {
		cc = w.calls[id]
	}
	switch {
	case cc == nil || cc.gen != gen || cc.done:
		w.raise("lasgi: core.call.same-coroutine: " + fn + " called after the application call returned")
		return nil
	case !owner:
		w.raise("lasgi: core.call.same-coroutine: " + fn + " called from a coroutine the server did not create for this call (coroutines the app creates must not call receive or send)")
		return nil
	}
	return cc
}

// guard turns a panic in a callback into an error raised in the app.
func (w *worker) guard(fn string, r *C.int) {
	if p := recover(); p != nil {
		*r = w.raise(fmt.Sprintf("lasgi: internal error in %s: %v", fn, p))
	}
}

// raise puts msg in vm->msg for lasgi.c to raise.
func (w *worker) raise(msg string) C.int {
	C.lasgi_setmsg(w.c, (*C.char)(unsafe.Pointer(unsafe.StringData(msg))), C.size_t(len(msg)))
	return cbRaise
}

// putOps copies the ops built into the VM's C buffer.
func (w *worker) putOps() bool {
	n := len(w.ops.b)
	if n == 0 {
		return true
	}
	if C.lasgi_ensure_ops(w.c, C.size_t(n)) == 0 {
		return false
	}
	copy(unsafe.Slice((*byte)(unsafe.Pointer(w.c.ops)), n), w.ops.b)
	return true
}

// message is the text lasgi.c kept for the last error.
func (w *worker) message() string {
	return C.GoStringN(w.c.msg, C.int(w.c.msglen))
}
