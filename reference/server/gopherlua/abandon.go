package gopherlua

import (
	"fmt"
	"time"
)

// A worker stuck in Go code. The watchdog stops a Lua loop by cancelling
// its context, which gopher-lua checks between instructions; a Go function
// the app called (string.find on a backtracking pattern, string.rep of a
// huge string) never looks at it. Such a worker still holds its VM, so every
// call on it, and every new call queued for it, would wait until the Go code
// ends, which may be never. A grace after the cancellation, the watchdog
// gives up on the worker instead: its calls end with an error, nobody takes
// its VM again, and a fresh worker, with the app file run anew (module state
// starts again), takes its slot. The goroutine running the Go code cannot be
// stopped; it finds the worker abandoned when it returns, and the VM is
// closed then.

// abandonGrace is how long a run may go on after its cancellation before
// its worker is abandoned.
func (e *Engine) abandonGrace() time.Duration {
	return min(e.opts.BusyTimeout, time.Second)
}

// abandon gives up on w, stuck in Go code. The caller (checkBusy) holds
// w.mu; abandon lets go of it.
func (w *worker) abandon() {
	w.abandonFor(fmt.Sprintf("the app went on for %v after it was stopped (at --busy-timeout %v or its deadline), in Go code that cannot be interrupted, such as string.find with a backtracking pattern",
		w.e.abandonGrace(), w.e.opts.BusyTimeout))
}

// abandonFor gives up on w for the reason why. The caller holds w.mu;
// abandonFor lets go of it.
func (w *worker) abandonFor(why string) {
	stuck := w.busy
	var calls []*coCall
	for cc := w.live; cc != nil; {
		next := cc.next
		cc.prev, cc.next, cc.linked = nil, nil, false
		calls = append(calls, cc)
		cc = next
	}
	w.live = nil
	w.abandoned.Store(true)
	w.mu.Unlock()
	close(w.gone)

	w.e.logf("lasgi-serve: worker %d abandoned and replaced by a fresh one: %s", w.slot, why)
	for _, cc := range calls {
		if cc == stuck {
			cc.c.Finish(fmt.Errorf("%s; its worker was abandoned", why))
		} else {
			cc.c.Finish(fmt.Errorf("the worker running this call was abandoned: another call on it %s", why))
		}
	}
	go w.retire()
	w.e.replace(w)
}

// retire closes an abandoned worker's VM once the goroutine stuck in it
// lets go.
func (w *worker) retire() {
	w.vm.Lock()
	if !w.closed {
		w.closed = true
		w.L.Close()
	}
	w.vm.Unlock()
}

// replace loads a fresh worker into old's slot, retrying each second while
// the app file fails to load, unless the engine is closing. The fresh
// worker makes its lifespan startup before it takes the slot (it serves
// nothing before, lifespan.startup.wait); when that fails, the slot stays
// with the abandoned worker, retired: the calls the engine hands out go to
// the other workers, and the log says so. A worker abandoned before the
// engine is ready (in its own startup) is not replaced: Load fails.
func (e *Engine) replace(old *worker) {
	if !e.ready.Load() || e.slots[old.slot].Load() != old {
		return
	}
	e.replMu.Lock()
	defer e.replMu.Unlock()
	select {
	case <-e.closing:
		return
	default:
	}
	e.replacing.Add(1)
	go func() {
		defer e.replacing.Done()
		for {
			w, err := newWorker(e, old.slot)
			if err == nil {
				if err := e.startup(w); err != nil {
					w.close()
					e.logf("lasgi-serve: replacing an abandoned worker: %v; the slot stays retired, serving nothing", err)
					return
				}
				e.slots[old.slot].Store(w)
				close(old.replaced)
				return
			}
			e.logf("lasgi-serve: worker %d could not be replaced: %v (trying again in a second)", old.slot, err)
			select {
			case <-e.closing:
				return
			case <-time.After(time.Second):
			}
		}
	}()
}
