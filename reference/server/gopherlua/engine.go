// Package gopherlua runs LASGI apps on the embedded gopher-lua VM.
//
// Each worker owns one Lua state with its own copy of the app (so module-level
// state is per worker). Every call is a coroutine in the worker's state;
// receive() and send() yield it when they must wait, so a call blocked on the
// network never holds up the others. A worker has no goroutine of its own:
// the goroutine that has work for it (the connection starting a call, or the
// one delivering the event a call waits for) takes the worker's lock and runs
// the Lua code itself. That saves the two goroutine switches per request a
// worker goroutine would cost (docs/performance.md, step 9).
package gopherlua

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"

	"github.com/lasgi/lasgi/reference/server/bridge"
	"github.com/lasgi/lasgi/reference/server/engine"
)

// Options configure an Engine: engine.Options, the contract every engine
// takes.
type Options = engine.Options

// Engine hosts one app file on a set of workers. It implements bridge.Engine.
type Engine struct {
	// slots hold the workers. A worker stuck in Go code past its timeouts is
	// abandoned, and its slot gets a fresh one (abandon.go).
	slots []atomic.Pointer[worker]
	next  atomic.Uint32
	opts  Options
	name  string             // the app file, for messages and replacements
	proto *lua.FunctionProto // the compiled app file, run by every new worker
	stop  chan struct{}
	wg    sync.WaitGroup // the watchdog

	// ready is set once every worker has made its startup: from then on an
	// abandoned worker is replaced (abandon.go), and replacing counts the
	// replacements under way. closing is closed, under replMu, when the
	// engine begins to stop: no replacement starts after it. draining
	// makes new calls end at once.
	ready     atomic.Bool
	draining  atomic.Bool
	closing   chan struct{}
	replMu    sync.Mutex
	replacing sync.WaitGroup
	closeOnce sync.Once
	closeErr  error

	// pending are workers running their lifespan startup outside a slot
	// (replacements), for the watchdog to watch too.
	pendingMu sync.Mutex
	pending   map[*worker]struct{}
	// unsupportedLogged: the app's lack of lifespan was logged, once for
	// all workers.
	unsupportedLogged atomic.Bool
}

// LoadFile loads the app returned by the Lua file at path.
func LoadFile(path string, opts Options) (*Engine, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load app: %w", err)
	}
	return Load(path, src, opts)
}

// Load compiles src (named name in messages) once and starts the workers,
// each running the chunk in its own state. The chunk must return the app: a
// function, or a table or userdata whose metatable has __call.
func Load(name string, src []byte, opts Options) (*Engine, error) {
	chunk, err := parse.Parse(strings.NewReader(string(src)), name)
	if err != nil {
		return nil, fmt.Errorf("load app %s: %w", name, err)
	}
	proto, err := lua.Compile(chunk, name)
	if err != nil {
		return nil, fmt.Errorf("load app %s: %w", name, err)
	}
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
		opts.MaxVMBytes = DefaultMaxVMBytes
	}
	if opts.LifespanTimeout <= 0 {
		opts.LifespanTimeout = DefaultLifespanTimeout
	}
	e := &Engine{opts: opts, name: name, proto: proto, stop: make(chan struct{}), closing: make(chan struct{}), pending: map[*worker]struct{}{}}
	e.slots = make([]atomic.Pointer[worker], opts.Workers)
	for i := range e.slots {
		w, err := newWorker(e, i)
		if err != nil {
			for j := range i {
				e.slots[j].Load().L.Close()
			}
			return nil, err
		}
		e.slots[i].Store(w)
	}
	e.wg.Add(1)
	go e.watchdog()
	if err := e.startupAll(); err != nil {
		return nil, err
	}
	e.ready.Store(true)
	return e, nil
}

// startupAll runs every worker's lifespan startup, all at once, before the
// engine serves anything (lifespan.startup.wait). When one fails, none may
// serve (lifespan.startup.failed): the engine is stopped, the workers whose
// startup completed getting their lifespan.shutdown, and the error names
// each worker that failed.
func (e *Engine) startupAll() error {
	errs := engine.EachWorker(len(e.slots), func(i int) error { return e.startup(e.slots[i].Load()) })
	err := errors.Join(errs...)
	if err != nil {
		if stopErr := e.Close(); stopErr != nil {
			err = errors.Join(err, stopErr)
		}
	}
	return err
}

// Start implements bridge.Engine. The call goes to the next worker in turn,
// or to the next one free when that one is busy, and the app runs until it
// first waits or returns: on the caller's goroutine, or with Options.Async on
// a goroutine of its own.
func (e *Engine) Start(c *bridge.Call) {
	if e.opts.Async {
		go e.start(c)
	} else {
		e.start(c)
	}
}

func (e *Engine) start(c *bridge.Call) {
	var queued *time.Timer // armed only when no worker is free at once
	defer func() {
		if queued != nil {
			queued.Stop()
		}
	}()
	for {
		n := len(e.slots)
		first := int(e.next.Add(1))
		for i := range n {
			if w := e.slots[(first+i)%n].Load(); w.vm.TryLock() && e.begin(w, c) {
				return
			}
		}
		if queued == nil {
			queued = time.NewTimer(e.opts.QueueTimeout)
		}
		w := e.slots[first%n].Load()
		select {
		case <-w.vm:
			if e.begin(w, c) {
				return
			}
		case <-w.gone:
			// Abandoned: wait for its successor in the slot, or any free
			// worker, until the queue's deadline.
			select {
			case <-w.replaced:
			case <-queued.C:
				e.overloaded(c)
				return
			case <-time.After(10 * time.Millisecond):
			}
		case <-queued.C:
			e.overloaded(c)
			return
		}
	}
}

func (e *Engine) logf(format string, args ...any) {
	if e.opts.ErrorLog != nil {
		e.opts.ErrorLog.Printf(format, args...)
	} else {
		log.Printf(format, args...)
	}
}

// overloaded ends a call that waited for a worker past Options.QueueTimeout.
func (e *Engine) overloaded(c *bridge.Call) {
	c.Finish(fmt.Errorf("%w: every one of the %d workers was busy for --queue-timeout %v",
		bridge.ErrOverloaded, len(e.slots), e.opts.QueueTimeout))
}

// begin starts c on w, whose VM the caller holds, and lets go of it. It
// reports false, having started nothing, when w was abandoned: the caller
// looks for another worker.
func (e *Engine) begin(w *worker, c *bridge.Call) bool {
	defer w.vm.Unlock()
	switch {
	case w.abandoned.Load():
		return false
	case w.closed || e.draining.Load():
		c.Finish(errors.New("the server is shutting down"))
	case c.Expired(time.Now()):
		// The deadline counts from the request, time spent queued included.
		c.Finish(bridge.ErrTimeout)
	default:
		w.begin(c)
	}
	return true
}

// Close stops the engine as Shutdown does, each worker's lifespan shutdown
// bounded by Options.LifespanTimeout alone.
func (e *Engine) Close() error { return e.Shutdown(context.Background()) }

// Shutdown stops the engine: new calls end at once; each worker with a
// lifespan call still running has its other calls cancelled, receives
// lifespan.shutdown and gets Options.LifespanTimeout (and at most until ctx
// is done) to reply; then its Lua state is closed. A call still running is
// cancelled, so Shutdown returns even when an app loops; a worker that goes
// on in Go code the cancellation cannot reach (string.find backtracking) is
// abandoned after a grace (at most a second), and Shutdown says so, as it
// says which lifespan shutdowns failed. Calls still suspended are dropped.
// Only the first call does this; later ones return its error.
func (e *Engine) Shutdown(ctx context.Context) error {
	e.closeOnce.Do(func() { e.closeErr = e.stopAll(ctx) })
	return e.closeErr
}

func (e *Engine) stopAll(ctx context.Context) error {
	e.draining.Store(true)
	e.replMu.Lock()
	close(e.closing)
	e.replMu.Unlock()
	// A replacement still making its startup is let finish, so that a
	// state whose startup completed gets its shutdown too.
	replaced := make(chan struct{})
	go func() { e.replacing.Wait(); close(replaced) }()
	select {
	case <-replaced:
	case <-ctx.Done():
	}
	errs := engine.EachWorker(len(e.slots), func(i int) error { return e.shutdown(ctx, e.slots[i].Load()) })

	close(e.stop)
	e.wg.Wait() // the watchdog
	var stuck []string
	for i := range e.slots {
		if w := e.slots[i].Load(); !w.close() {
			stuck = append(stuck, strconv.Itoa(i))
		}
	}
	if len(stuck) > 0 {
		errs = append(errs, fmt.Errorf("gopherlua: worker %s still running Go code %v after it was cancelled: abandoned", strings.Join(stuck, ", "), e.abandonGrace()))
	}
	return errors.Join(errs...)
}

// watchdog cancels a coroutine that has run too long without yielding. A Lua
// loop cannot be interrupted otherwise: the VM only checks its context.
func (e *Engine) watchdog() {
	defer e.wg.Done()
	tick := time.NewTicker(e.opts.BusyTimeout / 20)
	defer tick.Stop()
	mem := newMemWatch(e)
	memTick := time.NewTicker(memWatchTick)
	defer memTick.Stop()
	for {
		select {
		case <-e.stop:
			return
		case now := <-memTick.C:
			mem.tick(e, now)
		case now := <-tick.C:
			for i := range e.slots {
				e.slots[i].Load().checkBusy(now, e.opts.BusyTimeout)
			}
			for _, w := range e.pendingWorkers() {
				if e.slots[w.slot].Load() != w {
					w.checkBusy(now, e.opts.BusyTimeout)
				}
			}
		}
	}
}
