// Package gcpace tunes the Go garbage collector for a server whose live heap
// is small but whose allocation rate is high, without letting a large heap
// grow by the same factor.
//
// A fixed GOGC trades memory for throughput in proportion to the live heap:
// 1000 lets the heap grow to eleven times what is live before each
// collection. That is tens of MB for a hello-world server, where fewer
// collections buy requests per second, but gigabytes once an app or ten
// thousand idle connections keep 100 MB alive. The pacer sets GOGC after
// every collection so that the garbage allowed before the next one is about
// a fixed headroom in bytes, within [100, max] percent of the live heap.
package gcpace

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// DefaultHeadroom is the garbage a small heap may gather between
// collections (docs/performance.md measures it against hello world).
const DefaultHeadroom = 32 << 20

// Percent is the GOGC for a live heap of live bytes: Headroom as a share of
// it, kept within [100, max]. A max below 100 is returned as is.
func Percent(live uint64, max int, headroom uint64) int {
	if max <= 100 {
		return max
	}
	if live == 0 {
		return max
	}
	p := headroom * 100 / live
	switch {
	case p >= uint64(max):
		return max
	case p < 100:
		return 100
	default:
		return int(p)
	}
}

// Start sets GOGC now and after each collection from then on, until the
// returned stop is called. Only one pacer should run at a time: GOGC is
// process-wide.
func Start(max int, headroom uint64) (stop func()) {
	p := &pacer{max: max, headroom: headroom, last: -1}
	p.adjust()
	p.arm()
	return func() {
		p.mu.Lock()
		p.stopped = true
		p.mu.Unlock()
	}
}

type pacer struct {
	max      int
	headroom uint64

	mu      sync.Mutex
	stopped bool
	last    int // the GOGC last set
}

// sentinel is garbage from birth: the cleanup that runs when a collection
// frees it is the pacer's hook into every GC cycle. It is larger than the
// tiny-allocator's 16 bytes so that it is freed on its own.
type sentinel [4]*int

func (p *pacer) arm() {
	runtime.AddCleanup(new(sentinel), func(p *pacer) {
		if p.adjust() {
			p.arm()
		}
	}, p)
}

// adjust sets GOGC for the heap live now. It reports false, doing nothing,
// once the pacer is stopped.
func (p *pacer) adjust() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return false
	}
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	var live uint64
	if s[0].Value.Kind() == metrics.KindUint64 {
		live = s[0].Value.Uint64()
	}
	if pct := Percent(live, p.max, p.headroom); pct != p.last {
		debug.SetGCPercent(pct)
		p.last = pct
	}
	return true
}
