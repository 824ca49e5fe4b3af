//go:build lua54 || luajit

package clua

import (
	"context"
	"errors"
	"fmt"
	"log"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lasgi/lasgi/reference/server/bridge"
	"github.com/lasgi/lasgi/reference/server/engine"
)

func init() {
	engine.Register(Name, summary, func(name string, src []byte, opts engine.Options) (engine.Engine, error) {
		return Load(name, src, opts)
	})
}

// Engine hosts one app file on a set of workers, each a lua_State of its
// own. It implements engine.Engine.
type Engine struct {
	opts    engine.Options
	name    string
	workers []*worker
	next    atomic.Uint32
	stop    chan struct{}
	wg      sync.WaitGroup // the watchdog

	draining          atomic.Bool
	closeOnce         sync.Once
	closeErr          error
	unsupportedLogged atomic.Bool
}

// Load runs src (named name in messages) in every worker's state and makes
// each worker's lifespan startup. The chunk must return the app.
func Load(name string, src []byte, opts engine.Options) (*Engine, error) {
	if opts.Workers <= 0 {
		opts.Workers = runtime.NumCPU()
	}
	if opts.BusyTimeout <= 0 {
		opts.BusyTimeout = 10 * time.Second
	}
	if opts.QueueTimeout <= 0 {
		opts.QueueTimeout = 5 * time.Second
	}
	if opts.MaxVMBytes <= 0 {
		opts.MaxVMBytes = engine.DefaultMaxVMBytes
	}
	if opts.LifespanTimeout <= 0 {
		opts.LifespanTimeout = engine.DefaultLifespanTimeout
	}
	e := &Engine{opts: opts, name: name, stop: make(chan struct{})}
	for i := range opts.Workers {
		w, err := newWorker(e, i, src)
		if err != nil {
			for _, w := range e.workers {
				w.close()
			}
			return nil, err
		}
		e.workers = append(e.workers, w)
	}
	e.wg.Add(1)
	go e.watchdog()
	if err := e.startupAll(); err != nil {
		return nil, err
	}
	return e, nil
}

// startupAll runs every worker's lifespan startup at once; when one fails
// none may serve (lifespan.startup.failed), and the engine is stopped.
func (e *Engine) startupAll() error {
	errs := engine.EachWorker(len(e.workers), func(i int) error { return e.startup(e.workers[i]) })
	err := errors.Join(errs...)
	if err != nil {
		if stopErr := e.Close(); stopErr != nil {
			err = errors.Join(err, stopErr)
		}
	}
	return err
}

// Start implements bridge.Engine: the call goes to the next worker in turn,
// or the next free one, and runs until it first waits or returns; with
// Options.Async on a goroutine of its own.
func (e *Engine) Start(c *bridge.Call) {
	if e.opts.Async {
		go e.start(c)
	} else {
		e.start(c)
	}
}

func (e *Engine) start(c *bridge.Call) {
	n := len(e.workers)
	first := int(e.next.Add(1))
	for i := range n {
		if w := e.workers[(first+i)%n]; w.vm.TryLock() {
			e.begin(w, c)
			return
		}
	}
	w := e.workers[first%n]
	queued := time.NewTimer(e.opts.QueueTimeout)
	defer queued.Stop()
	select {
	case <-w.vm:
		e.begin(w, c)
	case <-queued.C:
		c.Finish(fmt.Errorf("%w: every one of the %d workers was busy for --queue-timeout %v",
			bridge.ErrOverloaded, n, e.opts.QueueTimeout))
	}
}

// begin starts c on w, whose VM the caller holds, and lets go of it.
func (e *Engine) begin(w *worker, c *bridge.Call) {
	defer w.vm.Unlock()
	switch {
	case w.closed || e.draining.Load():
		c.Finish(errors.New("the server is shutting down"))
	case c.Expired(time.Now()):
		c.Finish(bridge.ErrTimeout)
	default:
		w.begin(c)
	}
}

func (e *Engine) logf(format string, args ...any) {
	if e.opts.ErrorLog != nil {
		e.opts.ErrorLog.Printf(format, args...)
	} else {
		log.Printf(format, args...)
	}
}

// Close stops the engine as Shutdown does, without a deadline of its own.
func (e *Engine) Close() error { return e.Shutdown(context.Background()) }

// Shutdown stops the engine: new calls end at once, each worker's lifespan
// call gets lifespan.shutdown (its other calls cancelled first) and
// Options.LifespanTimeout to reply, within ctx; then every state is closed.
// A call still running is interrupted; a worker stuck in C code past a
// grace after that is left running, and Shutdown says so. Only the first
// call does this; later ones return its error.
func (e *Engine) Shutdown(ctx context.Context) error {
	e.closeOnce.Do(func() { e.closeErr = e.stopAll(ctx) })
	return e.closeErr
}

func (e *Engine) stopAll(ctx context.Context) error {
	e.draining.Store(true)
	errs := engine.EachWorker(len(e.workers), func(i int) error { return e.shutdown(ctx, e.workers[i]) })
	select {
	case <-e.stop:
	default:
		close(e.stop)
	}
	e.wg.Wait()
	var stuck, lent []string
	for _, w := range e.workers {
		if !w.close() {
			stuck = append(stuck, fmt.Sprint(w.slot))
		} else if w.lentOut {
			lent = append(lent, fmt.Sprint(w.slot))
		}
	}
	if len(stuck) > 0 {
		errs = append(errs, fmt.Errorf("%s: worker %s still running C code %v after it was interrupted: left running", Name, strings.Join(stuck, ", "), closeGrace))
	}
	if len(lent) > 0 {
		errs = append(errs, fmt.Errorf("%s: worker %s: response bodies or WebSocket messages it lent still being written %v after its calls ended: its Lua state is left unfreed", Name, strings.Join(lent, ", "), closeGrace))
	}
	return errors.Join(errs...)
}

// watchdog interrupts a coroutine that has run too long without yielding,
// or past its call's deadline.
func (e *Engine) watchdog() {
	defer e.wg.Done()
	tick := time.NewTicker(e.opts.BusyTimeout / 20)
	defer tick.Stop()
	for {
		select {
		case <-e.stop:
			return
		case now := <-tick.C:
			for _, w := range e.workers {
				w.checkBusy(now, e.opts.BusyTimeout)
			}
		}
	}
}
