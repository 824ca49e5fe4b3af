package bridge

import (
	"container/heap"
	"runtime"
	"sync"
	"time"
)

// The clock ends the timed waits of receive({timeout}) (timers.go): every
// waiting call of the process in one heap by its deadline, and one runtime
// timer for the earliest. A wake-up is made clockSlack after the deadline,
// never before it (timers.receive.not-early), so that one firing of the
// timer serves every call due by then. A timer per call, each firing on a
// goroutine of its own that then ran the app, cost 10,000 calls that sleep
// a second each twice the CPU, most of it the scheduler's and stack copies
// (docs/performance.md).
const clockSlack = 5 * time.Millisecond

type clock struct {
	mu    sync.Mutex
	calls clockHeap   // by deadline
	timer *time.Timer // fires at next (monoNano), while armed
	next  int64
	armed bool
}

var theClock clock

// add puts c, whose wait ends at c.waitNano, in the clock, or moves it to
// its new place. c.mu is held (the order is c.mu, then the clock's).
func (k *clock) add(c *Call) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if c.clockAt > 0 {
		k.calls[int(c.clockAt-1)].at = c.waitNano
		heap.Fix(&k.calls, int(c.clockAt-1))
	} else {
		heap.Push(&k.calls, c)
	}
	at := c.waitNano + int64(clockSlack)
	if !k.armed || at < k.next {
		k.next, k.armed = at, true
		in := time.Duration(at - monoNano(time.Now()))
		if k.timer == nil {
			k.timer = time.AfterFunc(in, k.fire)
		} else {
			k.timer.Reset(in)
		}
	}
}

// remove takes c out of the clock, if it is in it (fire may have taken it
// out already). c.mu is held.
func (k *clock) remove(c *Call) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if c.clockAt > 0 {
		heap.Remove(&k.calls, int(c.clockAt-1))
	}
}

// fire wakes every call whose wait is over, and sets the timer for the
// next one. The calls are woken with the clock's lock let go, through
// timeUp, which takes each call's own.
func (k *clock) fire() {
	now := time.Now()
	var due []*Call
	k.mu.Lock()
	nano := monoNano(now)
	for len(k.calls) > 0 && k.calls[0].at <= nano {
		due = append(due, heap.Pop(&k.calls).(*Call))
	}
	k.armed = false
	if len(k.calls) > 0 {
		k.next, k.armed = k.calls[0].at+int64(clockSlack), true
		k.timer.Reset(time.Duration(k.next - nano))
	}
	k.mu.Unlock()
	for _, c := range due {
		c.timeUp()
	}
}

// monoNano is t on the monotonic clock, in nanoseconds since the process
// began: the heap compares these, cheaper than time.Time.Before.
func monoNano(t time.Time) int64 { return int64(t.Sub(clockEpoch)) }

var clockEpoch = time.Now()

// clockHeap is container/heap's view of the waiting calls, each with its
// deadline beside it (comparing through the calls' pointers was the clock's
// largest cost: a cache miss each); each call's clockAt is its place plus
// one (0: not in the heap).
type clockHeap []clockEntry

type clockEntry struct {
	at int64 // the call's waitNano
	c  *Call
}

func (h clockHeap) Len() int           { return len(h) }
func (h clockHeap) Less(i, j int) bool { return h[i].at < h[j].at }
func (h clockHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].c.clockAt, h[j].c.clockAt = int32(i+1), int32(j+1)
}
func (h *clockHeap) Push(x any) {
	c := x.(*Call)
	c.clockAt = int32(len(*h) + 1)
	*h = append(*h, clockEntry{c.waitNano, c})
}
func (h *clockHeap) Pop() any {
	old := *h
	c := old[len(old)-1].c
	old[len(old)-1] = clockEntry{}
	*h = old[:len(old)-1]
	c.clockAt = 0
	return c
}

// A TryWaker is a Waker that can also wake without waiting: TryWake does
// what Wake does and reports true, or reports false at once when that
// would wait (the call's Lua state is busy running another call).
type TryWaker interface {
	Waker
	TryWake() bool
}

// wakeups are the wake-ups of timed waits that are over, which a few
// long-lived goroutines (as many as Go runs at once) make in turn: a
// goroutine the timer starts would grow its small stack, and copy it, to
// run the app every time. A wake-up that would wait for a busy Lua state
// waits on a goroutine of its own, so that an app that runs long on one
// worker does not hold back the wake-ups of the others. A full queue holds
// the clock back until there is room: the wakers are as busy as the CPUs
// then anyway.
var (
	wakeups     = make(chan Waker, 4096)
	startWakers sync.Once
)

func wakeLater(w Waker) {
	startWakers.Do(func() {
		for range runtime.GOMAXPROCS(0) {
			go func() {
				for w := range wakeups {
					if tw, ok := w.(TryWaker); ok && tw.TryWake() {
						continue
					}
					go w.Wake()
				}
			}()
		}
	})
	wakeups <- w
}
