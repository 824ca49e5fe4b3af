package bridge

import (
	"time"

	"github.com/lasgi/lasgi/reference/server/internal/mutant"
	"github.com/lasgi/lasgi/spec/event"
)

// ReceiveWithin is Receive for receive({timeout = d}), the lasgi.timers
// extension (spec/timers.md). It returns what Receive would, or, when
// nothing is there d from now, an event of type event.Timeout with ok true.
// When it returns ok == false the wait goes on: wake is woken when an event
// comes or the time is up, and the engine then calls Receive, as after any
// wait; the wait's deadline holds until a Receive returns ok. A Timeout
// takes nothing from the inbox (timers.receive.no-loss), an event there
// comes first (timers.receive.event-first), and a d of 0 only looks. A wait
// costs a place in the clock (clock.go): no goroutine sleeps.
func (c *Call) ReceiveWithin(wake Waker, d time.Duration) (event.Event, bool) {
	if c.Fault.Is(mutant.TimeoutEarly) {
		d = 0
	}
	c.mu.Lock()
	if d == 0 && c.Fault.Is(mutant.TimeoutBeforeEvent) && !c.finished {
		c.mu.Unlock()
		return event.Event{Type: event.Timeout}, true
	}
	c.timed = true
	c.waitNano = monoNano(time.Now()) + int64(d)
	c.mu.Unlock()
	return c.Receive(wake)
}

// ReceiveFor is receive(options): ReceiveWithin(wake, d) when the options
// asked for a timeout (timed, as luatype.ReceiveOptions reads them),
// Receive otherwise.
func (c *Call) ReceiveFor(wake Waker, d time.Duration, timed bool) (event.Event, bool) {
	if timed {
		return c.ReceiveWithin(wake, d)
	}
	return c.Receive(wake)
}

// timeUpLocked is what Receive does when a timed wait finds nothing to
// give: true once the wait's time is up (the wait is over), else false with
// the call in the clock for the rest of it. c.mu is held.
func (c *Call) timeUpLocked() bool {
	if c.waitNano <= monoNano(time.Now()) {
		c.endWait()
		if c.Fault.Is(mutant.TimeoutTakesEvent) {
			c.dropNext = true
		}
		return true
	}
	if c.Fault.Is(mutant.TimeoutNever) {
		return false
	}
	theClock.add(c)
	return false
}

// endWait ends a timed wait, if one is under way. c.mu is held. Only a
// timed wait is in the clock, so a call that never waited with a timeout
// never takes the clock's lock.
func (c *Call) endWait() {
	if c.timed {
		c.timed = false
		theClock.remove(c)
	}
}

// timeUp runs when the clock finds the wait's time may be up: the waiting
// call is woken once it is. A call whose wait ended meanwhile, or was
// reset, finds no timed wait, or the time not up, and does nothing.
func (c *Call) timeUp() {
	c.mu.Lock()
	var wake Waker
	if c.timed && monoNano(time.Now()) >= c.waitNano {
		wake, c.recvWake = c.recvWake, nil
	}
	c.mu.Unlock()
	if wake != nil {
		wakeLater(wake)
	}
}
