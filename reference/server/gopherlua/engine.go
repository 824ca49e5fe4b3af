// Package gopherlua runs LASGI apps on the embedded gopher-lua VM.
//
// Each worker owns one Lua state with its own copy of the app (so module-level
// state is per worker) and one goroutine that drives it. Every call is a
// coroutine in the worker's state; receive() and send() yield it when they
// must wait, so a call blocked on the network never holds up the others.
package gopherlua

import (
	"errors"
	"fmt"
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
	for _, w := range e.workers {
		e.wg.Add(1)
		go w.run()
	}
	e.wg.Add(1)
	go e.watchdog()
	return e, nil
}

// Start implements bridge.Engine: the call goes to the next worker in turn.
func (e *Engine) Start(c *bridge.Call) {
	w := e.workers[int(e.next.Add(1))%len(e.workers)]
	select {
	case w.tasks <- task{start: c}:
	case <-e.stop:
		c.Finish(errors.New("the server is shutting down"))
	}
}

// Close stops the workers. Calls still suspended are dropped, and a call
// still running is cancelled, so Close returns even when an app loops.
func (e *Engine) Close() error {
	close(e.stop)
	done := make(chan struct{})
	go func() {
		e.wg.Wait()
		close(done)
	}()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return nil
		case now := <-tick.C:
			for _, w := range e.workers {
				w.checkBusy(now, -1)
			}
		}
	}
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
