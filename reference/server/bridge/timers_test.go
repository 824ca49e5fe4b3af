package bridge_test

import (
	"testing"
	"time"

	"github.com/lasgi/lasgi/reference/server/bridge"
	"github.com/lasgi/lasgi/spec/event"
)

// chanWake is a Waker that can be waited for.
type chanWake chan struct{}

func (w chanWake) Wake() { w <- struct{}{} }

func newTimedCall() (*bridge.Call, chanWake) {
	c := bridge.NewCall(&event.Scope{Type: "http", Extensions: []string{event.ExtensionTimers}}, time.Time{})
	c.Push(event.Event{Type: event.HTTPRequest}) // the request, all read
	if ev, ok := c.Receive(noWake{}); !ok || ev.Type != event.HTTPRequest {
		panic("the request did not come first")
	}
	return c, make(chanWake, 4)
}

// awaitWake waits for w at most limit, reporting whether it came.
func awaitWake(w chanWake, limit time.Duration) bool {
	select {
	case <-w:
		return true
	case <-time.After(limit):
		return false
	}
}

// timers.receive.timeout, timers.receive.not-early: nothing comes, so the
// wait ends with lasgi.timeout, not before its time, by a timer's wake-up.
func TestReceiveWithinTimesOut(t *testing.T) {
	c, wake := newTimedCall()
	began := time.Now()
	if ev, ok := c.ReceiveWithin(wake, 50*time.Millisecond); ok {
		t.Fatalf("ReceiveWithin returned %q at once; want a wait", ev.Type)
	}
	if !awaitWake(wake, 5*time.Second) {
		t.Fatal("no wake-up within 5s of a 50ms timeout")
	}
	ev, ok := c.Receive(wake)
	if !ok || ev.Type != event.Timeout {
		t.Fatalf("Receive after the wake-up = %q, %v; want %s", ev.Type, ok, event.Timeout)
	}
	if waited := time.Since(began); waited < 50*time.Millisecond {
		t.Errorf("lasgi.timeout after %v, before the 50ms timeout", waited)
	}
}

// timers.receive.event-first: an event there, or one that comes during the
// wait, is given instead; the timer of that wait wakes nobody later.
func TestReceiveWithinEventFirst(t *testing.T) {
	c, wake := newTimedCall()
	c.Push(event.Event{Type: event.HTTPRequest, Body: "queued"})
	if ev, ok := c.ReceiveWithin(wake, 0); !ok || ev.Body != "queued" {
		t.Fatalf("ReceiveWithin(0) with an event queued = %+v, %v; want the event", ev, ok)
	}
	if _, ok := c.ReceiveWithin(wake, 60*time.Millisecond); ok {
		t.Fatal("ReceiveWithin returned at once with nothing queued")
	}
	c.Push(event.Event{Type: event.HTTPRequest, Body: "late"})
	if !awaitWake(wake, time.Second) {
		t.Fatal("Push did not wake the waiting call")
	}
	if ev, ok := c.Receive(wake); !ok || ev.Body != "late" {
		t.Fatalf("Receive after Push = %+v, %v; want the pushed event", ev, ok)
	}
	if awaitWake(wake, 150*time.Millisecond) {
		t.Error("the ended wait's timer woke the call")
	}
}

// A timeout of 0 only looks: lasgi.timeout at once when nothing is there.
func TestReceiveWithinZero(t *testing.T) {
	c, wake := newTimedCall()
	if ev, ok := c.ReceiveWithin(wake, 0); !ok || ev.Type != event.Timeout {
		t.Fatalf("ReceiveWithin(0) = %q, %v; want %s at once", ev.Type, ok, event.Timeout)
	}
}

// timers.receive.no-loss: what comes after a lasgi.timeout is received, in
// order.
func TestReceiveWithinNoLoss(t *testing.T) {
	c, wake := newTimedCall()
	if ev, _ := c.ReceiveWithin(wake, 0); ev.Type != event.Timeout {
		t.Fatalf("got %q, want %s", ev.Type, event.Timeout)
	}
	c.Push(event.Event{Type: event.HTTPRequest, Body: "a"})
	c.Push(event.Event{Type: event.HTTPRequest, Body: "b"})
	for _, want := range []string{"a", "b"} {
		if ev, ok := c.Receive(wake); !ok || ev.Body != want {
			t.Fatalf("Receive = %+v, %v; want body %q", ev, ok, want)
		}
	}
}

// A client that leaves ends the wait with the protocol's final event.
func TestReceiveWithinDisconnect(t *testing.T) {
	c, wake := newTimedCall()
	if _, ok := c.ReceiveWithin(wake, 10*time.Second); ok {
		t.Fatal("ReceiveWithin returned at once with nothing queued")
	}
	c.Disconnect()
	if !awaitWake(wake, time.Second) {
		t.Fatal("Disconnect did not wake the waiting call")
	}
	if ev, ok := c.Receive(wake); !ok || ev.Type != event.HTTPDisconnect {
		t.Fatalf("Receive after Disconnect = %q, %v; want http.disconnect", ev.Type, ok)
	}
}

// A wait after one that an event ended has its own deadline: the timer,
// reset, does not end it at the old one.
func TestReceiveWithinResetTimer(t *testing.T) {
	c, wake := newTimedCall()
	c.ReceiveWithin(wake, 30*time.Millisecond)
	c.Push(event.Event{Type: event.HTTPRequest, Body: "x"})
	awaitWake(wake, time.Second)
	c.Receive(wake)
	began := time.Now()
	if _, ok := c.ReceiveWithin(wake, 300*time.Millisecond); ok {
		t.Fatal("the second wait returned at once")
	}
	for {
		if !awaitWake(wake, 5*time.Second) {
			t.Fatal("no wake-up within 5s of a 300ms timeout")
		}
		ev, ok := c.Receive(wake)
		if !ok {
			continue // woken early: the wait goes on
		}
		if waited := time.Since(began); ev.Type != event.Timeout || waited < 300*time.Millisecond {
			t.Fatalf("got %q after %v; want %s after 300ms at least", ev.Type, waited, event.Timeout)
		}
		return
	}
}

// A finished call's timer wakes nobody.
func TestReceiveWithinFinish(t *testing.T) {
	c, wake := newTimedCall()
	c.ReceiveWithin(wake, 50*time.Millisecond)
	c.Finish(nil)
	if awaitWake(wake, 200*time.Millisecond) {
		t.Error("a finished call was woken by its timer")
	}
}

// Many calls waiting at once, with deadlines in every order and waits that
// an event ends or a new wait moves, are each woken once their own time is
// up, never before (the clock's heap).
func TestReceiveWithinManyCalls(t *testing.T) {
	const n = 300
	type waiting struct {
		c     *bridge.Call
		wake  chanWake
		d     time.Duration
		began time.Time
	}
	calls := make([]waiting, n)
	for i := range calls {
		c, wake := newTimedCall()
		// A first wait, long, that a second one moves (or an event ends).
		c.ReceiveWithin(wake, time.Hour)
		if i%3 == 0 {
			c.Push(event.Event{Type: event.HTTPRequest, Body: "x"})
			awaitWake(wake, time.Second)
			c.Receive(wake)
		}
		d := time.Duration((i*7919)%150) * time.Millisecond
		calls[i] = waiting{c, wake, d, time.Now()}
		if _, ok := c.ReceiveWithin(wake, d); ok && d > 0 {
			t.Fatalf("call %d: a wait of %v returned at once", i, d)
		}
	}
	for i, w := range calls {
		if w.d == 0 {
			continue
		}
		for {
			if !awaitWake(w.wake, 5*time.Second) {
				t.Fatalf("call %d: no wake-up within 5s of a %v timeout", i, w.d)
			}
			if ev, ok := w.c.Receive(w.wake); ok {
				if waited := time.Since(w.began); ev.Type != event.Timeout || waited < w.d {
					t.Fatalf("call %d: got %q after %v; want %s after %v at least", i, ev.Type, waited, event.Timeout, w.d)
				}
				break
			}
		}
	}
}

// busyWake stands for a call whose Lua state is busy: TryWake says so, and
// Wake waits until the state is free.
type busyWake struct {
	free  chan struct{}
	woken chan struct{}
}

func (b busyWake) TryWake() bool { return false }
func (b busyWake) Wake() {
	<-b.free
	b.woken <- struct{}{}
}

// Calls whose Lua state is busy, more of them than there are wakers, do not
// hold back the wake-ups of the others.
func TestTimedWakeupsPassBusyCalls(t *testing.T) {
	free := make(chan struct{})
	busy := busyWake{free, make(chan struct{}, 16)}
	for range 16 {
		c, _ := newTimedCall()
		c.ReceiveWithin(busy, 10*time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // the busy ones are due first
	c, wake := newTimedCall()
	c.ReceiveWithin(wake, 10*time.Millisecond)
	if !awaitWake(wake, 2*time.Second) {
		t.Fatal("a call was not woken while other calls' Lua states were busy")
	}
	close(free)
	for i := range 16 {
		if !awaitWake(busy.woken, 2*time.Second) {
			t.Fatalf("busy call %d was not woken once its state was free", i)
		}
	}
}
