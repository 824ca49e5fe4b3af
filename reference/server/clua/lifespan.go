//go:build lua54 || luajit

package clua

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/lasgi/lasgi/reference/server/bridge"
	"github.com/lasgi/lasgi/reference/server/engine"
	"github.com/lasgi/lasgi/spec/event"
)

// Lifespan (spec/lifespan.md), as gopherlua/lifespan.go runs it: each
// worker makes its own lifespan call before it serves, a coroutine that
// replies to lifespan.startup and waits in receive() for lifespan.shutdown;
// its state table is copied into every connection scope of the worker.

type lifespan struct {
	w        *worker
	call     *bridge.Call
	stopping atomic.Bool // the end of the call is the shutdown's to report
}

// startup runs w's lifespan startup: nil when w may serve (w.stateRef and
// w.life set when the app completed it), a *engine.StartupError when not.
func (e *Engine) startup(w *worker) error {
	if e.opts.Lifespan == engine.LifespanOff {
		return nil
	}
	call := engine.NewLifespanCall(e.opts)
	call.Push(event.Event{Type: event.LifespanStartup})
	// On a goroutine of its own, so that this wait keeps its deadline.
	go func() {
		if !w.lock() {
			call.Finish(errors.New("the worker was closed before its lifespan call could start"))
			return
		}
		w.begin(call)
		w.vm.Unlock()
	}()
	fail := func(why string) error { return &engine.StartupError{Worker: w.slot, Reason: why} }
	timer := time.NewTimer(e.opts.LifespanTimeout)
	defer timer.Stop()
	for {
		st := call.State() // before Take: a reply sent just before the end is in the outbox
		for _, ev := range call.Take() {
			switch ev.Type {
			case event.LifespanStartupComplete:
				w.life = &lifespan{w: w, call: call}
				call.OnFinish(w.life.ended)
				return nil
			case event.LifespanStartupFailed:
				call.Disconnect() // whatever it does next, startup failed (lifespan.error.after-failed)
				return fail("the app sent lifespan.startup.failed" + engine.MessageText(ev.Message))
			}
		}
		if st.Finished {
			return e.unsupported(w, st.Err)
		}
		select {
		case <-call.Notify():
		case <-timer.C:
			call.Disconnect()
			return fail(fmt.Sprintf("the app did not reply to lifespan.startup within --lifespan-timeout %v (lifespan.startup.timeout)", e.opts.LifespanTimeout))
		}
	}
}

// unsupported handles a lifespan call that ended before it replied.
func (e *Engine) unsupported(w *worker, err error) error {
	how := "returned"
	if err != nil {
		how = "raised an error (" + errText(err) + ")"
	}
	if e.opts.Lifespan == engine.LifespanOn {
		return &engine.StartupError{Worker: w.slot, Reason: "the app " + how + " before replying to lifespan.startup (--lifespan on)"}
	}
	if e.unsupportedLogged.CompareAndSwap(false, true) {
		e.logf("lasgi-serve: lifespan: the app does not support it: in worker %d it %s before replying to lifespan.startup; serving without lifespan state (--lifespan off makes no lifespan call)", w.slot, how)
	}
	return nil
}

// ended: an error before the shutdown is one after startup; the worker
// serves on and gets no lifespan.shutdown (lifespan.error.after-startup).
func (l *lifespan) ended(err error) {
	if err != nil && !l.stopping.Load() {
		l.w.e.logf("lasgi-serve: worker %d: lifespan call: app error after startup: %v (serving on, without lifespan.shutdown for it)", l.w.slot, err)
	}
}

// shutdown sends lifespan.shutdown to w's lifespan call once its other
// calls are cancelled (lifespan.shutdown.when), and waits for the reply
// within Options.LifespanTimeout and ctx.
func (e *Engine) shutdown(ctx context.Context, w *worker) error {
	l := w.life
	if l == nil {
		return nil
	}
	l.stopping.Store(true)
	if l.call.State().Finished {
		return nil
	}
	if !w.lockCtx(ctx) {
		if ctx.Err() != nil {
			return fmt.Errorf("worker %d: lifespan shutdown failed: lifespan.shutdown was not sent, the shutdown ran out of time first (%v)", w.slot, context.Cause(ctx))
		}
		return nil
	}
	for _, cc := range w.calls {
		if cc != nil && cc.c != l.call {
			cc.finish(errShuttingDown)
		}
	}
	w.vm.Unlock()
	go l.call.Push(event.Event{Type: event.LifespanShutdown}) // resumes the app, which may not come back
	return engine.AwaitShutdown(ctx, l.call, w.slot, e.opts.LifespanTimeout, errText)
}

var errShuttingDown = errors.New("the server is shutting down: the call was cancelled before lifespan.shutdown")

// lockCtx is lock, giving up when ctx is done.
func (w *worker) lockCtx(ctx context.Context) bool {
	return engine.LockCtx(ctx, w.lock, w.vm.Unlock)
}

// errText is an app error on one line: without the traceback.
func errText(err error) string {
	s := err.Error()
	if i := strings.Index(s, "\nstack traceback:"); i >= 0 {
		s = s[:i]
	}
	return s
}
