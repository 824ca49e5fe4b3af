package gopherlua

import (
	"context"
	"fmt"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/lasgi/lasgi/reference/server/bridge"
	"github.com/lasgi/lasgi/reference/server/engine"
	"github.com/lasgi/lasgi/reference/server/luatype"
	"github.com/lasgi/lasgi/spec/event"
)

// A call's coroutine: resuming it when its wait is over, finishing it, and
// the receive and send it is given, which yield when they must wait.

// step resumes a coroutine whose wait is over. The VM is held.
func (w *worker) step(cc *coCall) {
	if cc.done {
		return
	}
	if cc.c.Expired(time.Now()) {
		cc.finish(bridge.ErrTimeout)
		return
	}
	switch cc.waiting {
	case inReceive:
		ev, ok := cc.c.Receive(cc)
		if !ok {
			return // woken early; the wake-up is armed again
		}
		cc.waiting = notWaiting
		w.resume(cc, nil, faultEvent(cc.c.Fault, eventTable(w.L, &ev)))
	case inSend, inYield:
		cc.waiting = notWaiting
		w.resume(cc, nil)
	}
}

func (w *worker) resume(cc *coCall, fn *lua.LFunction, args ...lua.LValue) {
	if cc.th.Context() != w.ctx {
		cc.th.SetContext(w.ctx)
	}
	w.mu.Lock()
	w.busy, w.busyCancel = cc, w.cancel
	w.busyRuns++
	w.mu.Unlock()
	w.current = cc
	st, err, _ := w.resumeSafe(cc, fn, args)
	w.current = nil
	w.mu.Lock()
	w.busy, w.busyCancel = nil, nil
	w.mu.Unlock()
	if w.ctx.Err() != nil {
		// The watchdog stopped this coroutine: the others get a live context.
		w.ctx, w.cancel = context.WithCancel(context.Background())
	}

	switch st {
	case lua.ResumeOK:
		cc.finish(nil)
		w.recycle(cc.th)
	case lua.ResumeError:
		cc.finish(err)
	case lua.ResumeYield:
		if cc.waiting == notWaiting {
			// A bare coroutine.yield() from the app: let others run first,
			// and if it keeps yielding without waiting for anything, back off.
			cc.waiting = inYield
			engine.AfterBareYield(cc.bareYields, func() { w.wake(cc) })
			cc.bareYields++
		}
	}
}

// resumeSafe turns a Go panic inside the VM into an error for this call, so
// one broken call cannot take the worker down.
func (w *worker) resumeSafe(cc *coCall, fn *lua.LFunction, args []lua.LValue) (st lua.ResumeState, err error, ret []lua.LValue) {
	defer func() {
		if p := recover(); p != nil {
			st, err = lua.ResumeError, fmt.Errorf("lua VM panic: %v", p)
		}
	}()
	return w.L.Resume(cc.th, fn, args...)
}

func (cc *coCall) finish(err error) {
	if cc.done {
		return
	}
	cc.done = true
	cc.w.unlink(cc)
	switch {
	case err == nil:
	case cc.memory.Load():
		err = cc.w.e.errMemory(err)
	case cc.killed.Load():
		err = fmt.Errorf("%w (the app ran for longer than --busy-timeout %v without yielding)", err, cc.w.e.opts.BusyTimeout)
	case cc.expired.Load():
		err = fmt.Errorf("%w (%v)", bridge.ErrTimeout, err)
	}
	cc.c.Finish(err)
}

// receive is the app's receive(): the next event, yielding until there is one.
func (cc *coCall) receive(L *lua.LState) int {
	cc.checkThread(L, "receive")
	cc.bareYields = 0
	// receive({timeout = s}): the lasgi.timers extension (spec/timers.md).
	d, timed, err := luatype.ReceiveOptions(lval{L.Get(1)}, cc.c.Fault, cc.c.Scope)
	if err != nil {
		L.Error(lua.LString(err.Error()), 0) // as send raises: core.send.error-value
		return 0
	}
	ev, ok := cc.c.ReceiveFor(cc, d, timed)
	if ok {
		L.Push(faultEvent(cc.c.Fault, eventTable(L, &ev)))
		return 1
	}
	cc.waiting = inReceive
	return L.Yield()
}

// send is the app's send(event): checked, queued for the wire, and yielding
// while the client is behind.
func (cc *coCall) send(L *lua.LState) int {
	cc.checkThread(L, "send")
	cc.bareYields = 0
	ev, err := decodeEvent(L.Get(1), cc.c.Fault, cc.c.Scope)
	if err == nil {
		var wait bool
		wait, err = cc.c.Send(&ev, cc)
		if err == nil && cc.lifeState != nil && ev.Type == event.LifespanStartupComplete {
			cc.w.state = cc.lifeState // the VM is held: begin reads it so too
		}
		if err == nil {
			if wait {
				cc.waiting = inSend
				return L.Yield()
			}
			return 0
		}
	}
	// Level 0: the value is exactly "lasgi: <rule-id>: <detail>", with no
	// position prefix (spec rule core.send.error-value).
	L.Error(lua.LString(err.Error()), 0)
	return 0
}
