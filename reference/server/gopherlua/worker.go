package gopherlua

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/lasgi/lasgi/reference/server/bridge"
	"github.com/lasgi/lasgi/reference/server/engine"
	"github.com/lasgi/lasgi/spec/event"
)

type worker struct {
	e    *Engine
	slot int // its index in e.slots

	// abandoned is set, and gone closed, when the watchdog gives up on a
	// worker stuck in Go code past its timeouts (abandon.go): its calls are
	// finished, nobody takes its VM again, and replaced is closed once a
	// fresh worker holds its slot.
	abandoned atomic.Bool
	gone      chan struct{}
	replaced  chan struct{}

	// vm is held while the state runs Lua: it guards L, spare and closed,
	// and the fields of every coCall on this worker. Whoever has work for
	// the worker takes it and runs the Lua code on its own goroutine.
	vm     vmLock
	L      *lua.LState
	runner *lua.LFunction // calls the app; the bottom frame of every call's coroutine
	closed bool
	// ctx is the context of every coroutine the worker resumes, which makes
	// them interruptible; the watchdog cancels it to stop the one running,
	// and the worker then makes a new one. One per worker, not one per call:
	// a context costs four allocations.
	ctx    context.Context
	cancel context.CancelFunc

	// state is the worker's lifespan state: the state table of its
	// lifespan scope, which each connection scope gets a copy of; nil
	// without lifespan. life is its lifespan call, for the shutdown. Both
	// are set before the worker serves, and not changed after.
	state *lua.LTable
	life  *lifespan

	// spare holds coroutines of calls that returned normally, for reuse:
	// a new gopher-lua thread costs a whole state (its profile's biggest
	// allocation per request).
	spare []*lua.LState

	// current is the call being resumed (nil between resumes), for the
	// prelude's pcall to know whose coroutines it creates. Guarded by vm.
	current *coCall

	// The running coroutine, for the watchdog. Each resume counts itself in
	// busyRuns instead of reading the clock: the watchdog times a run from
	// the first tick that sees its number.
	mu         sync.Mutex // guards the fields below
	busy       *coCall
	busyCancel context.CancelFunc // stops busy
	busyRuns   uint64
	seenRun    uint64    // the watchdog's: the run it last saw
	seenAt     time.Time // when it first saw it
	cancelAt   time.Time // when it cancelled that run (zero: not yet)
	// The memory watch's (memory.go): the run it charges, what that run
	// allocated by its estimate, and how many calls it stopped here.
	memRun    uint64
	runAllocs uint64
	memStops  uint64
	// live lists the calls begun on this worker and not finished, for
	// abandon to finish them.
	live *coCall
}

// coCall is one call running as a coroutine on a worker.
type coCall struct {
	w       *worker
	c       *bridge.Call
	th      *lua.LState
	waiting waitKind
	done    bool
	// prev and next link the worker's live calls; guarded by w.mu.
	prev, next *coCall
	linked     bool
	killed     atomic.Bool // the watchdog stopped it for running too long
	expired    atomic.Bool // the watchdog stopped it at the call's deadline
	memory     atomic.Bool // the memory watch stopped it
	// protected holds the coroutines the prelude's pcall/xpcall created
	// for this call and that have not finished: they count as the call's
	// own (spec rule core.call.yield-safe-pcall). Nil until the first.
	protected map[*lua.LState]struct{}
	// bareYields counts the app's own coroutine.yield() calls since it last
	// called receive or send: past a few, each waits longer before it is
	// resumed, so an app that yields in a loop costs next to no CPU.
	bareYields int
	// lifeState is the state table of a lifespan call handed to Start
	// (lasgi-check app plays the server): at its lifespan.startup.complete
	// it becomes the worker's lifespan state, as the engine's own startup's
	// does, so the connection scopes that follow get copies of it
	// (lifespan.state.copy). Nil for every other call.
	lifeState *lua.LTable
}

type waitKind int

const (
	notWaiting waitKind = iota
	inReceive
	inSend
	inYield // the app yielded on its own: resume it on the next turn
)

// Lua states are created lean: coroutines inherit these options, and a
// call's coroutine needs far less than gopher-lua's defaults.
var stateOptions = lua.Options{
	CallStackSize:       120,
	RegistrySize:        256,
	RegistryMaxSize:     256 * 1024,
	RegistryGrowStep:    64,
	MinimizeStackMemory: true,
}

func newWorker(e *Engine, slot int) (*worker, error) {
	name, proto := e.name, e.proto
	L := lua.NewState(stateOptions)
	guardProcess(L, e.opts.Sandbox)
	guardCoroutines(L)
	guardAllocations(L, e.opts.MaxVMBytes)
	if e.opts.Output != nil {
		redirectOutput(L, e.opts.Output)
	}
	// Let the app require modules that sit next to it.
	dir := filepath.Dir(name)
	if pkg, ok := L.GetGlobal("package").(*lua.LTable); ok {
		path := lua.LVAsString(pkg.RawGetString("path"))
		pkg.RawSetString("path", lua.LString(filepath.Join(dir, "?.lua")+";"+path))
	}
	w := &worker{e: e, slot: slot, vm: newVMLock(), gone: make(chan struct{}), replaced: make(chan struct{})}
	if err := w.loadPrelude(L); err != nil {
		L.Close()
		return nil, fmt.Errorf("gopherlua prelude: %w", err)
	}
	// The chunk runs with the same limit as any call of the app, so a file
	// that loops at load time is an error, not a hang.
	ctx, cancel := context.WithTimeout(context.Background(), e.opts.BusyTimeout)
	L.SetContext(ctx)
	L.Push(L.NewFunctionFromProto(proto))
	err := L.PCall(0, 1, nil)
	cancel()
	L.RemoveContext()
	if err != nil {
		L.Close()
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (the file ran for longer than --busy-timeout %v)", err, e.opts.BusyTimeout)
		}
		return nil, fmt.Errorf("load app %s: %w", name, err)
	}
	app := L.Get(-1)
	L.Pop(1)
	if !callable(L, app) {
		L.Close()
		return nil, fmt.Errorf("load app %s: lasgi: %s: the file returned %s, not a function or a table with __call",
			name, event.RuleAppCallable, describe(app))
	}
	// The runner is the coroutine's bottom frame. It must not tail-call the
	// app: gopher-lua loses a coroutine whose bottom frame was replaced by a
	// tail call when it yields.
	mk, err := L.LoadString("local app = ...\nreturn function(scope, receive, send) app(scope, receive, send) end")
	if err != nil {
		L.Close()
		return nil, err
	}
	L.Push(mk)
	L.Push(app)
	if err := L.PCall(1, 1, nil); err != nil {
		L.Close()
		return nil, err
	}
	runner := L.Get(-1).(*lua.LFunction)
	L.Pop(1)
	w.L, w.runner = L, runner
	w.ctx, w.cancel = context.WithCancel(context.Background())
	return w, nil
}

// vmLock is engine.VMLock, the lock every engine's workers take in turn.
type vmLock = engine.VMLock

var newVMLock = engine.NewVMLock

func callable(L *lua.LState, v lua.LValue) bool {
	if v.Type() == lua.LTFunction {
		return true
	}
	if v.Type() == lua.LTTable || v.Type() == lua.LTUserData {
		return L.GetMetaField(v, "__call") != lua.LNil
	}
	return false
}

// link adds cc to the worker's live calls.
func (w *worker) link(cc *coCall) {
	w.mu.Lock()
	cc.next = w.live
	if w.live != nil {
		w.live.prev = cc
	}
	w.live, cc.linked = cc, true
	w.mu.Unlock()
}

// unlink takes cc off the live calls, unless abandon already did.
func (w *worker) unlink(cc *coCall) {
	w.mu.Lock()
	if cc.linked {
		if cc.prev != nil {
			cc.prev.next = cc.next
		} else {
			w.live = cc.next
		}
		if cc.next != nil {
			cc.next.prev = cc.prev
		}
		cc.prev, cc.next, cc.linked = nil, nil, false
	}
	w.mu.Unlock()
}

// lock takes the worker's VM. It reports false, with the VM not held, once
// the worker is closed or abandoned.
func (w *worker) lock() bool {
	select {
	case <-w.vm:
	case <-w.gone:
		return false
	}
	if w.closed || w.abandoned.Load() {
		w.vm.Unlock()
		return false
	}
	return true
}

// begin starts the app for c as a new coroutine. The VM is held. A
// connection scope gets a copy of the worker's lifespan state; a lifespan
// scope (the engine's own lifespan call is started with run) a new state,
// which becomes the worker's at its startup.complete (coCall.lifeState).
func (w *worker) begin(c *bridge.Call) {
	if c.Scope.Type == event.ScopeLifespan {
		scope, state := lifespanScopeTable(w.L, c.Scope)
		cc := &coCall{w: w, c: c, th: w.thread(), lifeState: state}
		w.link(cc)
		w.start(cc, scope)
		return
	}
	cc := &coCall{w: w, c: c, th: w.thread()}
	w.link(cc)
	var state *lua.LTable
	if c.Fault.ID() == 0 {
		state = stateCopy(w.L, w.state)
	} else {
		state = faultStateCopy(c.Fault, w.L, w.state)
	}
	var scope *lua.LTable
	if c.Scope.Type == event.ScopeWebSocket {
		scope = wsScopeTable(w.L, c.Scope, state)
	} else {
		scope = scopeTable(w.L, c.Scope, state)
	}
	if c.Fault.ID() != 0 {
		faultScopeTable(c.Fault, scope)
	}
	w.start(cc, scope)
}

// run starts the app for c with the scope table given. The VM is held.
func (w *worker) run(c *bridge.Call, scope *lua.LTable) {
	cc := &coCall{w: w, c: c, th: w.thread()}
	w.link(cc)
	w.start(cc, scope)
}

func (w *worker) start(cc *coCall, scope *lua.LTable) {
	recv := w.L.NewFunction(cc.receive)
	send := w.L.NewFunction(cc.send)
	w.resume(cc, w.runner, scope, recv, send)
}

// Wake implements bridge.Waker: the call's wait is over. It resumes the
// coroutine on the calling goroutine, or with Options.Async on its own.
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
	if !w.closed && !w.abandoned.Load() {
		w.step(cc)
	}
	return true
}

// wake resumes cc when its wait is over, unless the worker has closed.
func (w *worker) wake(cc *coCall) {
	if w.lock() {
		defer w.vm.Unlock()
		w.step(cc)
	}
}

// close takes the VM for good: the coroutine running now, if any, is
// cancelled until it lets go. Calls still suspended are dropped. It reports
// false when the worker had to be abandoned instead: still running Go code
// past the grace after its cancellation.
func (w *worker) close() bool {
	if w.abandoned.Load() {
		return true // nothing of it runs Lua any more, or its retire closes it
	}
	got := make(chan struct{})
	go func() {
		if w.lock() {
			close(got)
		}
	}()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-got:
			w.closed = true
			w.L.Close()
			w.vm.Unlock()
			return true
		case <-w.gone:
			return false
		case now := <-tick.C:
			w.checkBusy(now, -1)
		}
	}
}

// maxSpare bounds the coroutines a worker keeps for reuse.
const maxSpare = 64

// thread returns a coroutine for a new call, reused when one is spare.
func (w *worker) thread() *lua.LState {
	if n := len(w.spare); n > 0 {
		th := w.spare[n-1]
		w.spare = w.spare[:n-1]
		// A coroutine that returned is marked dead with an empty stack;
		// clearing the mark makes the next Resume start it afresh.
		th.Dead = false
		return th
	}
	// A coroutine starts with a registry (its Lua stack) of
	// threadRegistrySize slots instead of the state's 256: an idle
	// WebSocket keeps its call's coroutine, waiting in receive(), for as
	// long as it is open, and 256 slots are 4 KiB. It grows as it needs
	// (RegistryGrowStep); the coroutines the app creates inherit the size.
	opts := w.L.Options
	w.L.Options.RegistrySize = threadRegistrySize
	th, _ := w.L.NewThread() // no context yet: resume gives it the worker's
	w.L.Options = opts
	return th
}

// threadRegistrySize is the registry a call's coroutine starts with.
const threadRegistrySize = 32

// recycle keeps the coroutine of a call that returned normally.
func (w *worker) recycle(th *lua.LState) {
	if len(w.spare) < maxSpare && w.L.Status(th) == "dead" {
		th.SetTop(0)
		w.spare = append(w.spare, th)
	}
}

// checkBusy cancels the running coroutine when it has not yielded for
// limit, or its call's deadline has passed; and abandons the worker when
// that run still goes on a grace after its cancellation (abandon.go).
func (w *worker) checkBusy(now time.Time, limit time.Duration) {
	w.mu.Lock()
	if w.busy == nil || w.abandoned.Load() {
		w.mu.Unlock()
		return
	}
	if w.seenRun != w.busyRuns {
		w.seenRun, w.seenAt, w.cancelAt = w.busyRuns, now, time.Time{}
	}
	switch {
	case !w.cancelAt.IsZero():
		if now.Sub(w.cancelAt) > w.e.abandonGrace() {
			w.abandon() // unlocks w.mu
			return
		}
	case now.Sub(w.seenAt) > limit:
		w.busy.killed.Store(true)
		w.busyCancel()
		w.cancelAt = now
	case w.busy.c.Expired(now):
		w.busy.expired.Store(true)
		w.busyCancel()
		w.cancelAt = now
	}
	w.mu.Unlock()
}
