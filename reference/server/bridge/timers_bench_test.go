package bridge_test

import (
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/lasgi/lasgi/reference/server/bridge"
	"github.com/lasgi/lasgi/spec/event"
)

// looper is a call that waits 1 ms again each time its wait times out, as
// an app looping on receive({timeout = 0.001}) does, until the benchmark
// has had its wake-ups.
type looper struct {
	c    *bridge.Call
	left *atomic.Int64
	done func()
}

func (l *looper) TryWake() bool { l.Wake(); return true }
func (l *looper) Wake() {
	ev, ok := l.c.Receive(l)
	for ok {
		if ev.Type != event.Timeout {
			panic("got " + ev.Type)
		}
		if l.left.Add(-1) <= 0 {
			l.done()
			return
		}
		// ok again when the goroutine was held up past the 1 ms before
		// the wait was looked at: its time is up already.
		ev, ok = l.c.ReceiveWithin(l, time.Millisecond)
	}
}

// BenchmarkTimedWakeups is the clock's cost per wake-up (clock.go), without
// an engine: 1,000 calls, each waiting 1 ms in a loop, b.N wake-ups in all.
// Its ns/op is wall time, mostly the waits and the clock's slack; cpu-ns/op
// is the process's CPU time (user and system) per wake-up, what a wake-up
// costs (bench/run's sleep section measures it with Lua).
func BenchmarkTimedWakeups(b *testing.B) {
	const calls = 1000
	var left atomic.Int64
	left.Store(int64(b.N))
	finished := make(chan struct{})
	var once sync.Once
	done := func() { once.Do(func() { close(finished) }) }
	loopers := make([]*looper, calls)
	for i := range loopers {
		c, _ := newTimedCall()
		loopers[i] = &looper{c: c, left: &left, done: done}
	}
	cpu0 := cpuTime()
	b.ResetTimer()
	for _, l := range loopers {
		l.c.ReceiveWithin(l, time.Millisecond)
	}
	<-finished
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
	for _, l := range loopers {
		l.c.Finish(nil)
	}
}

// cpuTime is the process's CPU time so far, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
