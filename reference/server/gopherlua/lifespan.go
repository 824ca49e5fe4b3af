package gopherlua

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/lasgi/lasgi/reference/server/bridge"
	"github.com/lasgi/lasgi/reference/server/engine"
	"github.com/lasgi/lasgi/reference/server/internal/mutant"
	"github.com/lasgi/lasgi/spec/event"
)

// Lifespan (spec/lifespan.md). Module state is per worker, so each worker
// makes its own lifespan call, in its own Lua state, before it serves
// (lifespan.call.per-state): a long-lived coroutine that replies to
// lifespan.startup and then waits in receive() for lifespan.shutdown. Its
// scope's state table is the worker's lifespan state, copied into every
// connection scope of that worker (begin, stateCopy). The engine drives the
// call through a bridge.Call like any other, reading the app's replies from
// its outbox; the call's event.Lifespan holds the app to the send rules.

// The lifespan modes, the default timeout and StartupError are the engine
// contract's (package engine), named here too.
type (
	LifespanMode = engine.LifespanMode
	StartupError = engine.StartupError
)

const (
	LifespanOff            = engine.LifespanOff
	LifespanAuto           = engine.LifespanAuto
	LifespanOn             = engine.LifespanOn
	DefaultLifespanTimeout = engine.DefaultLifespanTimeout
)

// ParseLifespanMode is engine.ParseLifespanMode.
func ParseLifespanMode(s string) (LifespanMode, error) { return engine.ParseLifespanMode(s) }

// lifespan is a worker's lifespan call.
type lifespan struct {
	w    *worker
	call *bridge.Call
	// stopping is set when the shutdown begins: from then on the end of the
	// call is the shutdown's to report, not an error after startup.
	stopping atomic.Bool
}

// startup runs w's lifespan startup, w being a worker that serves nothing
// yet, and reports whether w may serve: nil, with w.state and w.life set
// when the app completed its startup, or left nil when it does not support
// lifespan (LifespanAuto). The wait is bounded by Options.LifespanTimeout.
// With lifespan off it does nothing.
func (e *Engine) startup(w *worker) error {
	if e.opts.Lifespan == LifespanOff {
		return nil
	}
	f := e.opts.Fault
	if f.Is(mutant.LifespanFirstWorkerOnly) && w.slot > 0 {
		return nil
	}
	call := engine.NewLifespanCall(e.opts)
	first := event.Event{Type: event.LifespanStartup} // the first receive() (lifespan.startup.first)
	if f.Is(mutant.LifespanStartupNotFirst) {
		first.Type = "lifespan.begin"
	}
	call.Push(first)
	w.vm.Lock()
	scope, state := lifespanScopeTable(w.L, call.Scope)
	faultLifespanScope(f, scope, state)
	w.vm.Unlock()
	// The app runs on a goroutine of its own, so that this wait keeps its
	// deadline even when the app is stuck in Go code the watchdog cannot
	// stop (and then abandons the worker).
	e.watchPending(w, true)
	defer e.watchPending(w, false)
	go func() {
		if !w.lock() {
			call.Finish(errors.New("the worker was closed before its lifespan call could start"))
			return
		}
		w.run(call, scope)
		w.vm.Unlock()
	}()

	if f.Is(mutant.LifespanServesBeforeReply) {
		return nil
	}
	timer := time.NewTimer(e.opts.LifespanTimeout)
	defer timer.Stop()
	failed := false // LifespanErrorAfterFailedServes
	for {
		st := call.State() // before Take: a reply sent just before the end is in the outbox
		for _, ev := range call.Take() {
			if f.Is(mutant.LifespanFailedIgnored) && ev.Type == event.LifespanStartupFailed {
				ev.Type = event.LifespanStartupComplete
			}
			if f.Is(mutant.LifespanErrorAfterFailedServes) && ev.Type == event.LifespanStartupFailed {
				failed = true
				continue
			}
			switch ev.Type {
			case event.LifespanStartupComplete:
				if f.Is(mutant.LifespanErrorAfterStartupFails) {
					// The mutant: an error right after the reply (the same
					// resume, a moment later) fails the startup.
					time.Sleep(100 * time.Millisecond)
					if st := call.State(); st.Err != nil {
						return &StartupError{Worker: w.slot, Reason: "the app raised an error: " + errText(st.Err)}
					}
				}
				if w.abandoned.Load() {
					return &StartupError{Worker: w.slot, Reason: "its worker was abandoned: " + errText(st.Err)}
				}
				w.state, w.life = state, &lifespan{w: w, call: call}
				call.OnFinish(w.life.ended)
				return nil
			case event.LifespanStartupFailed:
				// Whatever the call does next, startup failed (lifespan.error.after-failed).
				call.Disconnect()
				return &StartupError{Worker: w.slot, Reason: "the app sent lifespan.startup.failed" + engine.MessageText(ev.Message)}
			}
		}
		if st.Finished && failed {
			return nil // the mutant: served on, as without lifespan
		}
		if st.Finished {
			return e.unsupported(w, st.Err)
		}
		select {
		case <-call.Notify():
		case <-timer.C:
			call.Disconnect()
			return &StartupError{Worker: w.slot, Reason: fmt.Sprintf("the app did not reply to lifespan.startup within --lifespan-timeout %v (lifespan.startup.timeout)", e.opts.LifespanTimeout)}
		}
	}
}

// unsupported handles a lifespan call that ended, with err or returning,
// before it replied to lifespan.startup.
func (e *Engine) unsupported(w *worker, err error) error {
	how := "returned"
	if err != nil {
		how = "raised an error (" + errText(err) + ")"
	}
	switch {
	case w.abandoned.Load():
		return &StartupError{Worker: w.slot, Reason: "its worker was abandoned: " + errText(err)}
	case e.opts.Lifespan == LifespanOn || e.opts.Fault.Is(mutant.LifespanUnsupportedFails):
		return &StartupError{Worker: w.slot, Reason: "the app " + how + " before replying to lifespan.startup (--lifespan on)"}
	}
	if e.unsupportedLogged.CompareAndSwap(false, true) {
		e.logf("lasgi-serve: lifespan: the app does not support it: in worker %d it %s before replying to lifespan.startup; serving without lifespan state (--lifespan off makes no lifespan call)", w.slot, how)
	}
	return nil
}

// ended is told when the lifespan call ends. Before the shutdown that is an
// error after startup: the worker serves on, its state as it is, and gets
// no lifespan.shutdown (lifespan.error.after-startup).
func (l *lifespan) ended(err error) {
	if err != nil && !l.stopping.Load() && !l.w.abandoned.Load() {
		l.w.e.logf("lasgi-serve: worker %d: lifespan call: app error after startup: %v (serving on, without lifespan.shutdown for it)", l.w.slot, err)
	}
}

// shutdown sends lifespan.shutdown to w's lifespan call, once the worker
// serves nothing more, and waits for the reply: within
// Options.LifespanTimeout and ctx. The error says what went wrong; nil for
// lifespan.shutdown.complete, or when w has no lifespan call still running
// (lifespan.shutdown.only-after-startup).
func (e *Engine) shutdown(ctx context.Context, w *worker) error {
	l := w.life
	if l == nil || w.abandoned.Load() {
		return nil
	}
	l.stopping.Store(true)
	if st := l.call.State(); st.Finished {
		return nil
	}
	if !w.lockCtx(ctx) {
		if ctx.Err() != nil {
			return fmt.Errorf("worker %d: lifespan shutdown failed: lifespan.shutdown was not sent, the shutdown ran out of time first (%v)", w.slot, context.Cause(ctx))
		}
		return nil // abandoned meanwhile: nothing of it runs Lua any more
	}
	if !e.opts.Fault.Is(mutant.LifespanShutdownWithCallsRunning) {
		w.cancelCalls(l.call)
	}
	w.vm.Unlock()

	// Pushed from a goroutine of its own: the push resumes the app, which
	// may not come back.
	go l.call.Push(event.Event{Type: event.LifespanShutdown})
	if e.opts.Fault.Is(mutant.LifespanShutdownNotAwaited) {
		return nil
	}
	return engine.AwaitShutdown(ctx, l.call, w.slot, e.opts.LifespanTimeout, errText)
}

// cancelCalls ends every call live on w but keep, which are then never
// resumed: lifespan.shutdown goes only to a state whose connection scopes
// have ended or been cancelled (lifespan.shutdown.when). The VM is held.
func (w *worker) cancelCalls(keep *bridge.Call) {
	var calls []*coCall
	w.mu.Lock()
	for cc := w.live; cc != nil; cc = cc.next {
		if cc.c != keep {
			calls = append(calls, cc)
		}
	}
	w.mu.Unlock()
	for _, cc := range calls {
		cc.finish(errShuttingDown)
	}
}

var errShuttingDown = errors.New("the server is shutting down: the call was cancelled before lifespan.shutdown")

// lockCtx is lock, giving up when ctx is done.
func (w *worker) lockCtx(ctx context.Context) bool {
	return engine.LockCtx(ctx, w.lock, w.vm.Unlock)
}

// watchPending adds w to the workers the watchdog watches besides those in
// the slots (on == true), or takes it off: a worker running its startup
// serves nothing yet, and a replacement is not in its slot until then.
func (e *Engine) watchPending(w *worker, on bool) {
	e.pendingMu.Lock()
	defer e.pendingMu.Unlock()
	if on {
		e.pending[w] = struct{}{}
	} else {
		delete(e.pending, w)
	}
}

// pendingWorkers returns the workers watchPending added.
func (e *Engine) pendingWorkers() []*worker {
	e.pendingMu.Lock()
	defer e.pendingMu.Unlock()
	ws := make([]*worker, 0, len(e.pending))
	for w := range e.pending {
		ws = append(ws, w)
	}
	return ws
}

// errText is an app error for a one-line message: its text without the
// traceback gopher-lua appends to the error value.
func errText(err error) string {
	if err == nil {
		return "no error"
	}
	s := err.Error()
	var ae *lua.ApiError
	if errors.As(err, &ae) && ae.StackTrace != "" {
		s = strings.Replace(s, "\n"+ae.StackTrace, "", 1)
	}
	return s
}
