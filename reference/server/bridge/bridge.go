// Package bridge is where the HTTP side of the reference server meets a Lua
// engine. The HTTP side turns bytes into a Call and events; an Engine runs the
// app for that Call. What a protocol holds the app to (its send checks, what
// receive() gives at the end) is the call's event.Conversation, chosen by the
// scope's type; the Call itself only queues, wakes and records. Neither side waits for the other: the engine only ever
// makes non-blocking calls on a Call, and is woken through a callback when a
// call it suspended has something to do, so one VM can run many calls as
// coroutines. An engine may run the app inside Start and inside those
// callbacks, on the caller's goroutine: the HTTP side calls them holding no
// lock of its own.
package bridge

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lasgi/lasgi/reference/server/groups"
	"github.com/lasgi/lasgi/reference/server/internal/mutant"
	"github.com/lasgi/lasgi/spec/event"
)

// Engine runs an LASGI application. Implementations own their Lua VMs and
// the goroutines that drive them; the HTTP side never touches Lua.
type Engine interface {
	// Start begins running the app for c. It returns when the app first
	// waits or returns (or at once, if the engine runs it elsewhere), never
	// waiting for the network. From then on the engine reports only through
	// c (Receive, Send, Finish).
	Start(c *Call)
	// Close stops the engine after the calls in flight have been finished.
	Close() error
}

// ErrDisconnected is what Send returns once the client has gone away; the
// engine raises it into the app (spec rules core.send.disconnected and
// http.send.after-disconnect). "disconnected" is a fixed token, not a rule.
var ErrDisconnected = errors.New(DisconnectedPrefix + "the client went away")

// DisconnectedPrefix starts the disconnected error; an app call that ends
// with an error containing it ended normally (core.send.disconnected-normal).
const DisconnectedPrefix = "lasgi: disconnected: "

// ErrOverloaded ends a call that waited too long for the engine to start it
// (every worker busy); the HTTP side answers 503 with Retry-After.
var ErrOverloaded = errors.New("the server is overloaded")

// ErrTimeout ends a call whose deadline has passed.
var ErrTimeout = errors.New("the app did not finish before its deadline (--app-timeout)")

// MaxDisconnectReceives is how many times receive() may return
// http.disconnect in one call before the call is ended (spec rule
// http.disconnect.app-return): an app that calls it once or twice more is
// well within it, one that spins on it would hold a worker at full CPU until
// its deadline.
const MaxDisconnectReceives = 1000

// highWater is how many response body bytes may wait for the socket before
// send() suspends the app: enough to batch writes, small enough that a slow
// client cannot make the server buffer a whole download.
const highWater = 256 << 10

// maxQueued is how many events may wait for the socket before send()
// suspends the app, whatever their size: empty body parts cost memory too.
const maxQueued = 1024

// A Waker is told, once, that a call it suspended has something to do: the
// engine should look at the call again (Receive, or go on after Send).
// An engine's coroutine can be its own Waker, which costs no closure per call.
type Waker interface {
	Wake()
}

// Call is one application call: its scope, the events flowing each way, and
// how it ended. The HTTP side creates it; the zero value is not usable.
type Call struct {
	Scope    *event.Scope
	Deadline time.Time    // zero: no deadline
	Fault    mutant.Fault // a mutant the call injects (tests only)
	// Kick, when set (before Start), is called on the goroutine that queued
	// an event for the wire (other than a lone response start) or finished
	// the call, after Notify is signalled. It must not block. The HTTP side
	// uses it to write while its own goroutine is running the app.
	Kick func()
	// Groups, when set (before Start), carries the call's lasgi.groups
	// events (groups.go); the HTTP side sets it when the scope offers the
	// extension.
	Groups groups.Hub

	notify chan struct{} // to the HTTP side: something changed

	mu       sync.Mutex
	room     chan struct{} // to the body reader: the inbox was emptied; made by Room
	inbox    []event.Event
	recvWake Waker
	outbox   []event.Event
	spare    []event.Event
	outBytes int
	sendWake Waker
	conv     event.Conversation // the protocol's checks: &http, or one of event.Protocols
	err      error
	onFinish func(error)
	// Lend, when set (before Start), says that the HTTP side keeps the
	// promise of lend.go: an engine may then queue a body in its own memory.
	Lend         bool
	disconnected bool
	finished     bool
	watch        bool  // the app waits in receive with the body all read
	gaveLeft     bool  // an http.disconnect was received (for mutant.DisconnectOnce)
	timed        bool  // a receive({timeout}) waits, until waitNano (timers.go)
	dropNext     bool  // mutant.TimeoutTakesEvent: the next pushed event is lost
	disconnects  int32 // how many times Receive returned the Final event
	clockAt      int32 // the call's place in the clock (clock.go) plus one, 0 when not there
	// groups is the call's part in lasgi.groups (groups.go), made at its
	// first join: most calls never join, and kept out of the call it keeps
	// the call within its allocation size class.
	groups *membership
	// lent counts the bytes of a call that lent a body (lend.go), made at
	// its first loan, for the same reason.
	lent atomic.Pointer[lending]
	// waitNano is when the timed wait ends, in monoNano: the fields of a
	// timed wait sit in padding, and a time.Time would take the call into
	// the next allocation size class.
	waitNano int64

	// http is the conversation of an http call (and of a scope type no
	// protocol has), held in the call: made through event.Protocols it
	// would cost every request an allocation of its own.
	http event.Response

	// Room for what most calls carry, so that they need no slices of their
	// own: one request event in, a start and a body out.
	inboxArr  [1]event.Event
	outboxArr [2]event.Event
}

// NewCall makes a call for scope, checked by the protocol of scope.Type
// (event.Protocols). A type no protocol has gets the http checks, as every
// call did before protocols were told apart: the app checker hands apps
// such scopes to see them refused (core.app.scope-type).
func NewCall(scope *event.Scope, deadline time.Time) *Call {
	c := &Call{
		Scope:    scope,
		Deadline: deadline,
		notify:   make(chan struct{}, 1),
	}
	if scope.Type != event.ScopeHTTP {
		c.conv = event.NewConversation(scope)
	}
	if c.conv == nil {
		c.http = event.ResponseFor(scope)
		c.conv = &c.http
	}
	c.inbox = c.inboxArr[:0]
	c.outbox = c.outboxArr[:0]
	return c
}

func (c *Call) signal() {
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

// --- engine side: these never block ---

// Receive returns the next incoming event. When none is ready it records wake
// and returns ok == false; wake is woken once (from any goroutine) when the
// engine should call Receive again.
//
// Once the app's side is complete (event.Conversation.Done), Receive returns
// the protocol's Final event (http.disconnect) even when events are still
// queued (spec rule http.disconnect.after-complete, which http.request.first
// yields to): the app can no longer answer them, and the HTTP side discards
// the rest of the body. It does too once the peer has gone and nothing is
// queued. A protocol without a Final event (lifespan) has receive() wait
// instead, until the engine drops the call.
//
// An app that goes on calling receive() after the Final event, past
// MaxDisconnectReceives times, is ended: the call finishes with an error
// naming the protocol's rule (http.disconnect.app-return) and Receive returns
// ok == false without arming wake, so the app's coroutine waits for good (the
// engine drops it, as it drops any call still suspended) and costs no more
// CPU, even when it catches errors.
func (c *Call) Receive(wake Waker) (ev event.Event, ok bool) {
	c.mu.Lock()
	if (c.conv.Done() || len(c.inbox) == 0 && c.disconnected) && !c.faultDisconnectOnce() {
		final, rule, has := c.conv.Final()
		for !has && c.conv.Done() && len(c.inbox) > 0 {
			// The app's side is over but the protocol's final event has not
			// come (a WebSocket the app closed, waiting for the client's
			// close): what is queued before it is dropped, since the app
			// can no longer answer it (websocket.close.then-disconnect).
			if c.inbox[0].Type == event.GroupMessage {
				c.groups.queued--
			} else {
				c.conv.Received(&c.inbox[0])
			}
			c.inbox[0] = event.Event{}
			c.inbox = c.inbox[1:]
			final, rule, has = c.conv.Final()
		}
		if has && c.Fault.Is(mutant.WSRepeatForgetsCode) {
			final.Code, final.Reason = 1005, ""
		}
		if !has {
			// Nothing to give yet: wait for it to be pushed (a lifespan call
			// waits so until the engine drops it).
			if c.timed && c.timeUpLocked() {
				c.mu.Unlock()
				return event.Event{Type: event.Timeout}, true
			}
			c.recvWake = wake
			c.mu.Unlock()
			return ev, false
		}
		c.disconnects++
		n := c.disconnects
		c.endWait()
		c.mu.Unlock()
		if n > MaxDisconnectReceives {
			if n == MaxDisconnectReceives+1 {
				c.Finish(event.Violationf(rule,
					"the app called receive() %d times after %s without returning; the server ended the call", n, final.Type))
			}
			return ev, false
		}
		return final, true
	}
	if len(c.inbox) > 0 {
		if c.inbox[0].Type == event.GroupMessage {
			c.tookGroupMessage(&c.inbox[0])
		} else {
			c.conv.Received(&c.inbox[0]) // not &ev: that would escape, an allocation per receive
		}
		ev = c.inbox[0]
		c.inbox[0] = event.Event{}
		c.inbox = c.inbox[1:]
		room := c.room
		if ev.Type == event.GroupMessage {
			room = nil // the room is the client's: its events come one at a time
		}
		c.endWait()
		c.mu.Unlock()
		select {
		case room <- struct{}{}: // a nil room (nobody asked) is never ready
		default:
		}
		return ev, true
	}
	if c.timed && c.timeUpLocked() {
		c.mu.Unlock()
		return event.Event{Type: event.Timeout}, true
	}
	c.recvWake = wake
	notify := c.conv.Drained() && !c.watch
	if notify {
		c.watch = true
	}
	c.mu.Unlock()
	if notify {
		c.signal()
	}
	return ev, false
}

// Send checks ev with the call's conversation (the response so far, for
// http) and queues it for the wire. A broken rule or a gone client comes back
// as an error for the engine to raise in the app. wait == true means the app
// must pause until wake is woken, because the client is not keeping up.
func (c *Call) Send(ev *event.Event, wake Waker) (wait bool, err error) {
	if c.Groups != nil && event.IsGroupEvent(ev.Type) && c.Scope.Offers(event.ExtensionGroups) {
		return false, c.sendGroup(ev)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.disconnected && !c.conv.Done() && !c.Fault.Is(mutant.SendAfterDisconnectAccepted) {
		return false, ErrDisconnected
	}
	// The conversation checks the event in its place in the outbox, taken
	// back when refused: handed ev itself, an interface method would make
	// the engine's event escape, an allocation per send.
	c.outbox = append(c.outbox, *ev)
	queued := &c.outbox[len(c.outbox)-1]
	if err := c.conv.Send(queued); err != nil && !c.Fault.Ignores(err) {
		*queued = event.Event{}
		c.outbox = c.outbox[:len(c.outbox)-1]
		return false, err
	}
	n := len(ev.Body) + len(ev.Message) // a WebSocket message counts as body bytes do
	c.outBytes += n
	c.countQueued(n)
	// The head alone is not worth a wake-up: it goes out with the first body.
	if ev.Type != event.HTTPResponseStart {
		c.signal()
		if c.Kick != nil {
			c.Kick()
		}
	}
	if (c.outBytes > highWater || len(c.outbox) >= maxQueued) && !c.disconnected {
		c.sendWake = wake
		return true, nil
	}
	return false, nil
}

// Finish records that the app returned (err == nil) or failed. The first
// Finish counts: an engine that gave up on a call may hear from it later.
func (c *Call) Finish(err error) {
	c.mu.Lock()
	if c.finished {
		c.mu.Unlock()
		return
	}
	c.finished, c.err = true, err
	c.recvWake, c.sendWake = nil, nil
	c.endWait()
	f := c.onFinish
	joined := c.groups.leaveAll()
	c.mu.Unlock()
	c.leave(joined)
	c.signal()
	if c.Kick != nil {
		c.Kick()
	}
	if f != nil {
		f(err)
	}
}

// Expired reports whether the call's deadline has passed.
func (c *Call) Expired(now time.Time) bool {
	return !c.Deadline.IsZero() && now.After(c.Deadline)
}

// --- HTTP side ---

// Notify is signalled whenever the HTTP side has something to look at:
// events to write, the app finished, the client to watch, a disconnect.
func (c *Call) Notify() <-chan struct{} { return c.notify }

// Room is signalled when the app has taken an event the HTTP side pushed
// (not a group message) from the inbox. The channel is made by the first
// call, and only takings after that signal it: a body reader asks before it
// pushes.
func (c *Call) Room() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.room == nil {
		c.room = make(chan struct{}, 1)
	}
	return c.room
}

// Push delivers an incoming event to the app.
func (c *Call) Push(ev event.Event) {
	c.mu.Lock()
	if c.dropNext {
		c.dropNext = false
		c.mu.Unlock()
		return
	}
	c.inbox = append(c.inbox, ev)
	wake := c.recvWake
	c.recvWake = nil
	c.mu.Unlock()
	if wake != nil {
		wake.Wake()
	}
}

// Pending reports how many pushed events the app has not received yet,
// group messages apart (they have a bound of their own).
func (c *Call) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.inbox) - c.groups.pending()
}

// Disconnect records that the client has gone (or the call was aborted):
// receive returns http.disconnect and send raises from now on.
func (c *Call) Disconnect() { c.disconnect(nil) }

// DisconnectWith delivers ev, the protocol's last event (websocket.disconnect
// with its code), and marks the call disconnected at once: no send can slip
// in between the app hearing of the end and send() raising the disconnected
// error (websocket.send.after-disconnect).
func (c *Call) DisconnectWith(ev event.Event) { c.disconnect(&ev) }

// disconnect marks the call disconnected, with last queued first when given,
// and wakes whatever waits.
func (c *Call) disconnect(last *event.Event) {
	c.mu.Lock()
	if c.disconnected {
		c.mu.Unlock()
		return
	}
	if last != nil {
		c.inbox = append(c.inbox, *last)
	}
	c.disconnected = true
	rw, sw := c.recvWake, c.sendWake
	c.recvWake, c.sendWake = nil, nil
	c.mu.Unlock()
	if rw != nil {
		rw.Wake()
	}
	if sw != nil {
		sw.Wake()
	}
	c.signal()
}

// OnFinish arranges for f to be called with the app's error once the app has
// finished, at once if it already has. The HTTP side uses it for calls it no
// longer waits for, such as an app still running after its response.
func (c *Call) OnFinish(f func(error)) {
	c.mu.Lock()
	finished, err := c.finished, c.err
	if !finished {
		c.onFinish = f
	}
	c.mu.Unlock()
	if finished {
		f(err)
	}
}

// Take hands the HTTP side the events queued since the last Take. The slice
// is valid until the next Take.
func (c *Call) Take() []event.Event {
	c.mu.Lock()
	out := c.outbox
	c.outbox = c.spare[:0]
	c.spare = out
	c.mu.Unlock()
	return out
}

// Written tells the call that n body bytes taken earlier reached the socket,
// so an app paused by back-pressure may go on.
func (c *Call) Written(n int) {
	c.mu.Lock()
	c.outBytes -= n
	c.countWritten(n)
	var wake Waker
	if c.outBytes <= highWater/2 && len(c.outbox) < maxQueued/2 && c.sendWake != nil {
		wake, c.sendWake = c.sendWake, nil
	}
	c.mu.Unlock()
	if wake != nil {
		wake.Wake()
	}
}

// State is a snapshot of how the call stands.
type State struct {
	Started      bool // the response as sent by the app: its start (http only)
	Complete     bool // the app's side is complete: the response, for http (event.Conversation.Done)
	Finished     bool // the app returned or failed
	Err          error
	Disconnected bool
	Watch        bool // the app waits for http.disconnect: watch the socket
	// Receiving: the app waits in receive() for an event to be pushed (the
	// app checker's lifespan cases tell so an app waiting for an event that
	// never comes from one still running; receive() signals nothing then).
	Receiving bool
}

// State returns a snapshot.
func (c *Call) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return State{
		Started: c.http.Started, Complete: c.conv.Done(),
		Finished: c.finished, Err: c.err,
		Disconnected: c.disconnected, Watch: c.watch,
		Receiving: c.recvWake != nil && !c.finished,
	}
}

// Findings returns the SHOULD-level rules the app broke in the events Send
// accepted, in order, as the conversation's Findings gives them (for http,
// event.Response.Findings): the server put
// each event right (lowercased header names, discarded body bytes of a 204,
// 205 or 304) and did not raise. A checker reports them as warnings, at the
// level the catalog gives the rule (spec.Lookup(v.Rule).Level). The slice is
// a copy.
func (c *Call) Findings() []*event.Violation {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*event.Violation(nil), c.conv.Findings()...)
}

// Response returns a copy of the response state as sent so far; the zero
// Response for a call of another protocol.
func (c *Call) Response() event.Response {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.http
}

// faultDisconnectOnce reports, for mutant.DisconnectOnce, whether an
// http.disconnect was already received, so that receive waits instead.
func (c *Call) faultDisconnectOnce() bool {
	if !c.Fault.Is(mutant.DisconnectOnce) {
		return false
	}
	gave := c.gaveLeft
	c.gaveLeft = true
	return gave
}
