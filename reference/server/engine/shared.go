package engine

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/lasgi/lasgi/reference/server/bridge"
	"github.com/lasgi/lasgi/spec/event"
)

// What every engine's workers do the same way, whatever their Lua.

// VMLock is a mutex that serves its waiters in turn: a one-slot channel
// holding the token while the lock is free. A sync.Mutex lets a running
// goroutine take the lock ahead of parked waiters, which under load left
// some requests waiting tens of milliseconds for a worker.
type VMLock chan struct{}

// NewVMLock returns an unlocked VMLock.
func NewVMLock() VMLock {
	l := make(VMLock, 1)
	l <- struct{}{}
	return l
}

func (l VMLock) Lock()   { <-l }
func (l VMLock) Unlock() { l <- struct{}{} }

// TryLock takes the lock if it is free at once.
func (l VMLock) TryLock() bool {
	select {
	case <-l:
		return true
	default:
		return false
	}
}

// LockCtx takes a lock through lock (false: not taken, the worker is
// gone), giving up when ctx is done first; a lock taken after that is let
// go through unlock.
func LockCtx(ctx context.Context, lock func() bool, unlock func()) bool {
	got := make(chan bool, 1)
	go func() { got <- lock() }()
	select {
	case ok := <-got:
		return ok
	case <-ctx.Done():
		go func() {
			if <-got {
				unlock()
			}
		}()
		return false
	}
}

// EachWorker runs f for workers 0..n-1 at once, each on a goroutine of its
// own (a startup or a shutdown must not wait for another's), and returns
// their errors by worker.
func EachWorker(n int, f func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f(i)
		}()
	}
	wg.Wait()
	return errs
}

// AfterBareYield arranges wake, the resume of a coroutine that made its
// n-th bare coroutine.yield() in a row, after BareYieldDelay(n): on a
// goroutine of its own, so that others run first.
func AfterBareYield(n int, wake func()) {
	if delay := BareYieldDelay(n); delay > 0 {
		time.AfterFunc(delay, wake)
	} else {
		go wake()
	}
}

// BareYieldDelay is how long the n-th bare coroutine.yield() in a row (the
// app yielding without waiting in receive or send) waits before its
// resume: none for the first few (an app letting others run), then 1 ms
// doubling to 50 ms, so that an app yielding in a loop costs next to no CPU.
func BareYieldDelay(n int) time.Duration {
	const free = 8
	if n < free {
		return 0
	}
	return min(time.Millisecond<<min(n-free, 6), 50*time.Millisecond)
}

// AwaitShutdown waits for the reply to lifespan.shutdown, already pushed
// into the lifespan call of worker slot, within timeout and ctx; nil for
// lifespan.shutdown.complete, otherwise an error saying what went wrong
// (an app error as errText gives it: one line, without the traceback).
func AwaitShutdown(ctx context.Context, call *bridge.Call, slot int, timeout time.Duration, errText func(error) string) error {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		st := call.State()
		for _, ev := range call.Take() {
			switch ev.Type {
			case event.LifespanShutdownComplete:
				return nil
			case event.LifespanShutdownFailed:
				return fmt.Errorf("worker %d: lifespan shutdown failed: the app sent lifespan.shutdown.failed%s", slot, MessageText(ev.Message))
			}
		}
		if st.Finished {
			if st.Err != nil {
				return fmt.Errorf("worker %d: lifespan shutdown failed: the app raised an error: %s", slot, errText(st.Err))
			}
			return fmt.Errorf("worker %d: lifespan shutdown failed: lasgi: %s: the lifespan call returned without replying to lifespan.shutdown", slot, event.RuleLifespanShutdownReply)
		}
		select {
		case <-call.Notify():
		case <-timer.C:
			return fmt.Errorf("worker %d: lifespan shutdown failed: no reply to lifespan.shutdown within --lifespan-timeout %v; its Lua state is closed (lifespan.shutdown.timeout)", slot, timeout)
		case <-ctx.Done():
			return fmt.Errorf("worker %d: lifespan shutdown failed: no reply to lifespan.shutdown before the shutdown ran out of time (%v); its Lua state is closed", slot, context.Cause(ctx))
		}
	}
}

// MessageText quotes the message of a failed lifespan event for a log line.
func MessageText(m string) string {
	if m == "" {
		return " (no message)"
	}
	return ": " + m
}
