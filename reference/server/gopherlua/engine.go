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
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"

	"github.com/lasgi/lasgi/reference/server/bridge"
)

// Options configure an Engine. The zero value is usable.
type Options struct {
	// Workers is the number of Lua states; 0 means one per CPU.
	Workers int
	// BusyTimeout bounds how long the app may run without yielding (one
	// resume of its coroutine); it stops an app stuck in a loop from holding
	// a worker. 0 means 10 seconds.
	BusyTimeout time.Duration
	// Async makes Start and the calls' wake-ups return at once and run the
	// app on a goroutine of their own. By default the app runs on the
	// caller's goroutine until it waits or returns, which is faster; a caller
	// that must keep its own deadlines while the app runs (the app checker)
	// sets Async.
	Async bool
	// Sandbox removes what an untrusted app could use against the machine:
	// running programs (os.execute, io.popen) and files outside its own
	// modules (io.open, os.remove, dofile, ...). os.exit never ends the
	// process, sandbox or not: it raises ExitError.
	Sandbox bool
	// Output receives what the app prints (print, io.write); nil means the
	// process's stdout.
	Output io.Writer
}

// Engine hosts one app file on a set of workers. It implements bridge.Engine.
type Engine struct {
	workers []*worker
	next    atomic.Uint32
	opts    Options
	stop    chan struct{}
	wg      sync.WaitGroup
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
	e := &Engine{opts: opts, stop: make(chan struct{})}
	for i := 0; i < opts.Workers; i++ {
		w, err := newWorker(e, name, proto)
		if err != nil {
			for _, w := range e.workers {
				w.L.Close()
			}
			return nil, err
		}
		e.workers = append(e.workers, w)
	}
	e.wg.Add(1)
	go e.watchdog()
	return e, nil
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
	n := len(e.workers)
	first := int(e.next.Add(1))
	for i := range n {
		if w := e.workers[(first+i)%n]; w.vm.TryLock() {
			e.begin(w, c)
			return
		}
	}
	w := e.workers[first%n]
	w.vm.Lock()
	e.begin(w, c)
}

// begin starts c on w, whose VM the caller holds.
func (e *Engine) begin(w *worker, c *bridge.Call) {
	defer w.vm.Unlock()
	if w.closed {
		c.Finish(errors.New("the server is shutting down"))
		return
	}
	w.begin(c)
}

// Close stops the engine. A call still running is cancelled, so Close
// returns even when an app loops; calls still suspended are dropped.
func (e *Engine) Close() error {
	close(e.stop)
	for _, w := range e.workers {
		w.close()
	}
	e.wg.Wait()
	return nil
}

// watchdog cancels a coroutine that has run too long without yielding. A Lua
// loop cannot be interrupted otherwise: the VM only checks its context.
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
