//go:build lua54 || luajit

package clua

// #include "lasgi.h"
import "C"

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/lasgi/lasgi/reference/server/bridge"
	"github.com/lasgi/lasgi/reference/server/engine"
	"github.com/lasgi/lasgi/spec/event"
)

type worker struct {
	e    *Engine
	slot int

	// vm is held while the state runs Lua: it guards every field below
	// but mu's, and the fields of this worker's calls. Whoever has work for
	// the worker takes it and runs the Lua code on its own goroutine.
	vm     vmLock
	c      *C.lasgi_vm
	handle int // its index in handles, which the C side hands back in callbacks
	closed bool
	ops    ops

	// calls are the live calls by id (the id their receive and send
	// closures carry, with gen); free lists the ids not in use.
	calls []*coCall
	free  []int
	gen   int
	spare []thread // coroutines of calls that returned, for reuse
	owed  []owed   // ended calls' bodies the HTTP side may still read (loans.go)
	// lentOut: close found bodies still lent past its grace and left the
	// state as it was.
	lentOut bool

	// stateRef is the worker's lifespan state (noRef without), life its
	// lifespan call.
	stateRef int
	life     *lifespan

	// The running coroutine, for the watchdog; each resume counts itself
	// in runs.
	mu        sync.Mutex
	busy      *coCall
	runs      uint64
	seenRun   uint64
	seenAt    time.Time
	interrupt bool // the watchdog interrupted the run under way
}

type thread struct {
	th  *C.lua_State
	ref C.int
}

// coCall is one call running as a coroutine on a worker, one allocation
// per call: its small fields are packed to keep it within 96 bytes.
type coCall struct {
	w       *worker
	c       *bridge.Call
	id, gen int
	thread
	loans []loan // bodies lent to the HTTP side (loans.go)
	// lifeRef is the state table of a lifespan call: at its
	// lifespan.startup.complete it becomes the worker's (noRef otherwise).
	lifeRef    int
	bareYields int32
	killed     atomic.Bool // the watchdog stopped it for running too long
	expired    atomic.Bool // the watchdog stopped it at the call's deadline
	waiting    waitKind
	done       bool
}

type waitKind uint8

const (
	notWaiting waitKind = iota
	inReceive
	inSend
	inYield // the app yielded on its own
)

func newWorker(e *Engine, slot int, src []byte) (*worker, error) {
	w := &worker{e: e, slot: slot, vm: newVMLock(), stateRef: noRef}
	w.handle = handles.add(w)
	w.c = C.lasgi_new(C.uintptr_t(w.handle), C.size_t(e.opts.MaxVMBytes))
	if w.c == nil {
		handles.remove(w.handle)
		return nil, errors.New(Name + ": cannot create a Lua state: out of memory")
	}
	setup := setupChunk(filepath.Dir(e.name), e.opts)
	name := "@" + e.name
	cname := append([]byte(name), 0)
	// The chunk runs with the same limit as any call, so a file that loops
	// at load time is an error, not a hang.
	var timedOut atomic.Bool
	t := time.AfterFunc(e.opts.BusyTimeout, func() {
		timedOut.Store(true)
		C.lasgi_interrupt(w.c, nil)
	})
	r := C.lasgi_load(w.c, (*C.char)(unsafe.Pointer(unsafe.SliceData(src))), C.size_t(len(src)),
		(*C.char)(unsafe.Pointer(&cname[0])), (*C.char)(unsafe.Pointer(unsafe.StringData(setup))), C.size_t(len(setup)),
		(*C.char)(unsafe.Pointer(unsafe.StringData(commonBlob))), C.int(len(commonStrings)))
	t.Stop()
	if r != C.LR_OK {
		msg := w.message()
		if timedOut.Load() {
			msg += fmt.Sprintf(" (the file ran for longer than --busy-timeout %v)", e.opts.BusyTimeout)
		}
		w.closeState()
		return nil, fmt.Errorf("load app %s: %s", e.name, msg)
	}
	C.lasgi_clear_interrupt(w.c, nil)
	return w, nil
}

// setupChunk is Lua run in a new state before the app file: modules next
// to the app are found first, os.exit raises, the sandbox (Options.Sandbox)
// removes engine.Sandboxed, LuaJIT's compiler is off unless Options.JIT,
// and Options.Output takes print and io.write.
func setupChunk(dir string, opts engine.Options) string {
	var b strings.Builder
	q := strconv.Quote
	b.WriteString("local write = ...\n")
	fmt.Fprintf(&b, "package.path = %s .. ';' .. package.path\n", q(filepath.Join(dir, "?.lua")))
	fmt.Fprintf(&b, "os.exit = function() error(%s, 2) end\n", q(engine.ExitError))
	if !opts.JIT {
		b.WriteString("if jit then jit.off() end\n") // engine.Options.JIT
	}
	if opts.Sandbox {
		libs := make([]string, 0, len(engine.Sandboxed))
		for lib := range engine.Sandboxed {
			libs = append(libs, lib)
		}
		sort.Strings(libs)
		for _, lib := range libs {
			for _, name := range engine.Sandboxed[lib] {
				fmt.Fprintf(&b, "%s.%s = nil\n", lib, name)
			}
		}
	}
	if opts.Output != nil {
		b.WriteString(`print = function(...)
  local t = {}
  for i = 1, select('#', ...) do t[i] = tostring((select(i, ...))) end
  write(table.concat(t, '\t') .. '\n')
end
local out = {}
local function w(...)
  local first = 1
  if (...) == out then first = 2 end
  for i = first, select('#', ...) do
    local v = select(i, ...)
    if type(v) ~= 'string' and type(v) ~= 'number' then
      error("bad argument #" .. i .. " to 'write' (string expected, got " .. type(v) .. ")", 2)
    end
    write(tostring(v))
  end
  return out
end
out.write, out.flush = w, function() return out end
io.write = w
`)
	}
	return b.String()
}

// vmLock is engine.VMLock, the lock every engine's workers take in turn.
type vmLock = engine.VMLock

var newVMLock = engine.NewVMLock

// lock takes the VM, reporting false (not held) once the worker is closed.
func (w *worker) lock() bool {
	w.vm.Lock()
	if w.closed {
		w.vm.Unlock()
		return false
	}
	return true
}

// begin starts the app for c as a new coroutine. The VM is held. A
// connection scope gets a copy of the worker's lifespan state; a lifespan
// scope a new state table, which becomes the worker's at its
// lifespan.startup.complete.
func (w *worker) begin(c *bridge.Call) {
	cc := w.newCall(c)
	w.ops.reset()
	if c.Scope.Type == event.ScopeLifespan {
		cc.lifeRef = int(C.lasgi_new_table(w.c))
		if cc.lifeRef == noRef {
			cc.finish(errors.New("not enough memory for the lifespan state"))
			return
		}
		w.ops.lifespanScope(c.Scope, cc.lifeRef)
	} else {
		w.ops.connScope(c.Scope, w.stateRef)
	}
	if !w.putOps() {
		cc.finish(errors.New("not enough memory for the scope"))
		return
	}
	reuse := C.int(0)
	if n := len(w.spare); n > 0 {
		cc.thread = w.spare[n-1]
		w.spare = w.spare[:n-1]
		reuse = 1
	}
	opslen := C.size_t(len(w.ops.b))
	w.run(cc, true, opslen, reuse)
}

// newCall gives c an id among the worker's calls.
func (w *worker) newCall(c *bridge.Call) *coCall {
	w.gen++
	cc := &coCall{w: w, c: c, gen: w.gen, lifeRef: noRef, thread: thread{ref: noRef}}
	if n := len(w.free); n > 0 {
		cc.id = w.free[n-1]
		w.free = w.free[:n-1]
		w.calls[cc.id] = cc
	} else {
		cc.id = len(w.calls)
		w.calls = append(w.calls, cc)
	}
	return cc
}

// Wake implements bridge.Waker: the call's wait is over.
func (cc *coCall) Wake() {
	if cc.w.e.opts.Async {
		go cc.w.wake(cc)
	} else {
		cc.w.wake(cc)
	}
}

var _ bridge.TryWaker = (*coCall)(nil)

// TryWake implements bridge.TryWaker: Wake, if the worker's VM is free at
// once (with Options.Async, Wake, which never waits then).
func (cc *coCall) TryWake() bool {
	w := cc.w
	if w.e.opts.Async {
		go w.wake(cc)
		return true
	}
	if !w.vm.TryLock() {
		return false
	}
	defer w.vm.Unlock()
	if !w.closed {
		w.step(cc)
	}
	return true
}

func (w *worker) wake(cc *coCall) {
	if w.lock() {
		defer w.vm.Unlock()
		w.step(cc)
	}
}

// step resumes a coroutine whose wait is over. The VM is held.
func (w *worker) step(cc *coCall) {
	if cc.done {
		return
	}
	if cc.c.Expired(time.Now()) {
		cc.finish(bridge.ErrTimeout)
		return
	}
	var opslen C.size_t
	switch cc.waiting {
	case inReceive:
		ev, ok := cc.c.Receive(cc)
		if !ok {
			return // woken early; the wake-up is armed again
		}
		w.ops.reset()
		w.ops.event(&ev)
		if !w.putOps() {
			cc.finish(errors.New("not enough memory for a received event"))
			return
		}
		opslen = C.size_t(len(w.ops.b))
	case notWaiting:
		return
	}
	cc.waiting = notWaiting
	w.run(cc, false, opslen, 0)
}

// run makes one run of cc's coroutine, its start (reusing a spare
// coroutine when reuse) or a resume (with opslen bytes of ops: the event
// receive() waited for), under the watchdog's eye, and handles how it
// stopped.
func (w *worker) run(cc *coCall, start bool, opslen C.size_t, reuse C.int) {
	if len(w.owed) > 0 {
		w.payOwed()
	}
	if len(cc.loans) > 0 {
		w.payBack(cc.c, &cc.loans, false)
	}
	w.mu.Lock()
	w.busy = cc
	w.runs++
	w.mu.Unlock()
	w.c.memfail = 0
	var r C.int
	if start {
		r = C.lasgi_start(w.c, C.int(cc.id), C.int(cc.gen), opslen, &cc.th, &cc.ref, reuse)
	} else {
		r = C.lasgi_resume(w.c, cc.th, opslen)
	}
	w.ops.unpin() // C has built what the ops named
	w.mu.Lock()
	w.busy = nil
	interrupted := w.interrupt
	w.interrupt = false
	w.mu.Unlock()
	if interrupted {
		C.lasgi_clear_interrupt(w.c, cc.th)
	}
	switch r {
	case C.LR_OK:
		cc.finish(nil)
	case C.LR_ERROR:
		msg := w.message()
		if w.c.memfail != 0 {
			msg = fmt.Sprintf("%s (the worker's Lua state reached --max-vm-bytes %d)", msg, w.e.opts.MaxVMBytes)
		}
		cc.finish(errors.New(msg))
		if w.c.memfail != 0 {
			// What the failed call held is garbage now: free it before the
			// next call needs the room.
			C.lasgi_collect(w.c)
		}
	case C.LR_YIELD:
		if cc.waiting == notWaiting {
			// A bare coroutine.yield() from the app: let others run first,
			// and back off if it keeps yielding without waiting for anything.
			cc.waiting = inYield
			engine.AfterBareYield(int(cc.bareYields), func() { w.wake(cc) })
			cc.bareYields++
		}
	}
}

// finish ends cc: its coroutine is kept for reuse when it returned, else
// let go. The VM is held.
func (cc *coCall) finish(err error) {
	if cc.done {
		return
	}
	cc.done = true
	w := cc.w
	w.calls[cc.id] = nil
	w.free = append(w.free, cc.id)
	if len(cc.loans) > 0 {
		w.owed = append(w.owed, owed{cc.c, cc.loans})
		cc.loans = nil
	}
	if cc.th != nil {
		if err == nil && len(w.spare) < maxSpare && C.lasgi_recycle(w.c, cc.th, cc.ref) != 0 {
			w.spare = append(w.spare, cc.thread)
		} else {
			C.lasgi_unref(w.c, cc.ref)
		}
		cc.thread = thread{ref: noRef}
	}
	switch {
	case err == nil:
	case cc.killed.Load():
		err = fmt.Errorf("%w (the app ran for longer than --busy-timeout %v without yielding)", err, w.e.opts.BusyTimeout)
	case cc.expired.Load():
		err = fmt.Errorf("%w (%v)", bridge.ErrTimeout, err)
	}
	cc.c.Finish(err)
}

// maxSpare bounds the coroutines a worker keeps for reuse.
const maxSpare = 64

// checkBusy interrupts the running coroutine when it has not yielded for
// limit (limit < 0: at once), or its call's deadline has passed.
func (w *worker) checkBusy(now time.Time, limit time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.busy == nil || w.interrupt {
		return
	}
	if w.seenRun != w.runs {
		w.seenRun, w.seenAt = w.runs, now
	}
	switch {
	case now.Sub(w.seenAt) > limit:
		w.busy.killed.Store(true)
	case w.busy.c.Expired(now):
		w.busy.expired.Store(true)
	default:
		return
	}
	w.interrupt = true
	C.lasgi_interrupt(w.c, w.busy.th)
}

// closeGrace is how long close waits for a run it interrupted to stop.
const closeGrace = time.Second

// close takes the VM for good and closes the state; calls still suspended
// are dropped. It reports false when a run would not stop: the state is
// then left as it is.
func (w *worker) close() bool {
	got := make(chan struct{})
	go func() {
		w.vm.Lock()
		close(got)
	}()
	deadline := time.After(closeGrace)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-got:
			if !w.closed {
				w.closed = true
				for _, cc := range w.calls {
					if cc != nil {
						cc.done = true
						cc.c.Finish(errors.New("the server is shutting down"))
					}
				}
				if out := w.outstanding(); len(out) > 0 {
					w.vm.Unlock()
					if !awaitReturned(out, closeGrace) {
						w.lentOut = true // the bytes may still be read: the state stays
						return true
					}
					w.vm.Lock()
				}
				w.closeState()
			}
			w.vm.Unlock()
			return true
		case <-deadline:
			return false
		case now := <-tick.C:
			w.checkBusy(now, -1)
		}
	}
}

func (w *worker) closeState() {
	C.lasgi_close(w.c)
	w.c = nil
	handles.remove(w.handle)
}
