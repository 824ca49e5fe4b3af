package gopherlua

import (
	"fmt"
	"runtime"
	"runtime/metrics"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/lasgi/lasgi/reference/server/engine"
)

// Memory. gopher-lua allocates from the Go heap and keeps no account of its
// own, and a Go allocation the machine cannot give kills the whole process.
// So the engine does two things within Options.MaxVMBytes, the budget of one
// worker:
//
//   - The library functions that make a string of a size the app chooses
//     (string.rep, table.concat, string.format's widths) check the size
//     first and raise instead of allocating past the budget: one call
//     cannot ask for a terabyte.
//   - A memory watch reads the Go heap every 10 ms. Past the budget of all
//     workers (plus memWatchBase for the server itself), it collects, and if
//     the live heap is still past it, stops the running call that allocated
//     most during its run, as the busy-timeout watchdog stops a loop. If the
//     memory is still held after that (module state that grew), that call's
//     worker is abandoned, which frees its whole VM. The heap is shared, so
//     which worker holds what is estimated from who was running while it
//     grew.

// DefaultMaxVMBytes is Options.MaxVMBytes when it is zero.
const DefaultMaxVMBytes = engine.DefaultMaxVMBytes

// memWatchBase is heap the server may use on top of the workers' budgets
// (connections, buffers, the scope of each call).
const memWatchBase = 256 << 20

const memWatchTick = 10 * time.Millisecond

// errMemory is the message of a call stopped by the memory watch.
func (e *Engine) errMemory(err error) error {
	return fmt.Errorf("lasgi-serve: the app's memory passed --max-vm-bytes %d per worker while this call ran, and the call allocated the most: stopped (%w)", e.opts.MaxVMBytes, err)
}

// guardAllocations replaces the size-chosen string makers of L with ones
// that refuse a result larger than limit bytes.
func guardAllocations(L *lua.LState, limit int64) {
	str, _ := L.GetGlobal("string").(*lua.LTable)
	tbl, _ := L.GetGlobal("table").(*lua.LTable)
	if str == nil || tbl == nil {
		return
	}
	tooBig := func(L *lua.LState, fn string, n int64) {
		L.RaiseError("%s would make a string of %d bytes, past the worker's memory budget (--max-vm-bytes %d)", fn, n, limit)
	}
	if rep, ok := str.RawGetString("rep").(*lua.LFunction); ok && rep.IsG {
		str.RawSetString("rep", L.NewFunction(func(L *lua.LState) int {
			s := L.CheckString(1)
			if n := L.CheckInt64(2); n > 0 && int64(len(s)) > 0 && n > limit/int64(len(s)) {
				tooBig(L, "string.rep", n*int64(len(s)))
			}
			return rep.GFunction(L)
		}))
	}
	if concat, ok := tbl.RawGetString("concat").(*lua.LFunction); ok && concat.IsG {
		tbl.RawSetString("concat", L.NewFunction(func(L *lua.LState) int {
			t := L.CheckTable(1)
			sep := int64(len(L.OptString(2, "")))
			i, j := L.OptInt(3, 1), L.OptInt(4, t.Len())
			var n int64
			for k := i; k <= j; k++ {
				if s, ok := t.RawGetInt(k).(lua.LString); ok {
					n += int64(len(s))
				} else {
					n += 24 // a number's text; anything else fails in concat
				}
				if k > i {
					n += sep
				}
				if n > limit {
					tooBig(L, "table.concat", n)
				}
			}
			return concat.GFunction(L)
		}))
	}
	if format, ok := str.RawGetString("format").(*lua.LFunction); ok && format.IsG {
		str.RawSetString("format", L.NewFunction(func(L *lua.LState) int {
			if bad := wideConversion(L.CheckString(1)); bad != "" {
				// As Lua 5.4: a width or precision has at most two digits.
				L.RaiseError("invalid conversion '%s' to 'format' (a width or precision has at most two digits)", bad)
			}
			return format.GFunction(L)
		}))
	}
}

// wideConversion returns the first conversion of a string.format pattern
// whose width or precision has more than two digits, or "".
func wideConversion(f string) string {
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			continue
		}
		j := i + 1
		if j < len(f) && f[j] == '%' {
			i = j
			continue
		}
		for j < len(f) && strings.IndexByte("-+ #0", f[j]) >= 0 {
			j++
		}
		for part := 0; part < 2; part++ {
			k := j
			for j < len(f) && f[j] >= '0' && f[j] <= '9' {
				j++
			}
			if j-k > 2 {
				return f[i:min(j+1, len(f))]
			}
			if part == 0 && j < len(f) && f[j] == '.' {
				j++
			} else {
				break
			}
		}
		i = j
	}
	return ""
}

// memWatch is the engine's watch on the heap; only the watchdog goroutine
// uses it.
type memWatch struct {
	budget   uint64
	samples  []metrics.Sample
	allocs   uint64    // total bytes allocated at the last tick
	gcAt     time.Time // the last collection it forced
	stopped  *worker   // the worker whose call it last stopped
	stoppedN uint64    // how many it had stopped there then
	stoppedC *coCall   // the call
}

func newMemWatch(e *Engine) *memWatch {
	return &memWatch{
		budget: uint64(e.opts.MaxVMBytes)*uint64(len(e.slots)) + memWatchBase,
		samples: []metrics.Sample{
			{Name: "/gc/heap/allocs:bytes"},
			{Name: "/memory/classes/heap/objects:bytes"},
		},
	}
}

func (m *memWatch) read() (allocs, heap uint64) {
	metrics.Read(m.samples)
	return m.samples[0].Value.Uint64(), m.samples[1].Value.Uint64()
}

// tick charges what was allocated since the last tick to the runs in
// progress, and acts when the heap is past the budget.
func (m *memWatch) tick(e *Engine, now time.Time) {
	allocs, heap := m.read()
	grown := allocs - m.allocs
	m.allocs = allocs
	var busy []*worker
	for i := range e.slots {
		w := e.slots[i].Load()
		w.mu.Lock()
		if w.busy != nil && !w.abandoned.Load() {
			if w.memRun != w.busyRuns {
				w.memRun, w.runAllocs = w.busyRuns, 0
			}
			busy = append(busy, w)
		}
		w.mu.Unlock()
	}
	for _, w := range busy {
		w.mu.Lock()
		w.runAllocs += grown / uint64(len(busy))
		w.mu.Unlock()
	}
	if heap <= m.budget || now.Sub(m.gcAt) < 100*time.Millisecond {
		return
	}
	// Past the budget: is it live, or garbage not yet collected?
	runtime.GC()
	m.gcAt = time.Now()
	if _, heap = m.read(); heap <= m.budget {
		return
	}
	if w := m.stopped; w != nil && !w.abandoned.Load() && w.memStops == m.stoppedN {
		w.mu.Lock()
		if w.busy == m.stoppedC || w.abandoned.Load() {
			// Not over yet (unwinding, or in Go code the abandon grace
			// covers): wait for it to let go of what it held.
			w.mu.Unlock()
			return
		}
		// Still past it after that call ended: its worker holds it.
		m.stopped = nil
		e.logf("lasgi-serve: the heap is still %d MiB, past the workers' budget, after a call on worker %d was stopped for memory", heap>>20, w.slot)
		w.abandonFor("it kept the memory after its call was stopped for passing --max-vm-bytes")
		return
	}
	var worst *worker
	var most uint64
	for _, w := range busy {
		w.mu.Lock()
		if w.busy != nil && w.runAllocs >= most {
			worst, most = w, w.runAllocs
		}
		w.mu.Unlock()
	}
	if worst == nil {
		return
	}
	worst.mu.Lock()
	if cc := worst.busy; cc != nil && worst.cancelAt.IsZero() {
		cc.memory.Store(true)
		worst.busyCancel()
		worst.cancelAt = now
		worst.memStops++
		m.stopped, m.stoppedN, m.stoppedC = worst, worst.memStops, cc
	}
	worst.mu.Unlock()
}
