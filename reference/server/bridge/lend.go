package bridge

import "sync/atomic"

// Lending: a response body queued without a copy.
//
// An engine whose strings live outside Go's heap (the C Lua engines) would
// copy every body the app sends into Go memory, because it cannot know
// when the HTTP side is done with the bytes. For a streamed download that
// copy, and the garbage it makes, is a large part of the work. A call whose
// HTTP side sets Lend promises two things, so that the engine may instead
// hand over a string in its own memory and keep it alive until then:
//
//   - every body byte it takes (Take) is counted in a later Written once
//     nothing of the HTTP side reads it any more (written to the socket or
//     copied into a buffer), in the order taken;
//   - Release is called once it will read no byte of the call's events
//     again, whether or not they were all written (the client left, the
//     write failed, the exchange is over), and no Body of an event it took
//     is read after that.
//
// The engine marks each body it lends (Mark, right after Send took it) and
// frees the body once Returned(mark) says the HTTP side is done with it; it
// must not free its memory (close the Lua state) while a loan is out, or
// must leave that memory be. Only http.response.body's Body and
// websocket.send's Message are lent: the other events' strings are copied
// as before.

// lending is the byte count of a call that lent a body, kept from the
// first loan on: positions are relative to the bytes queued before it.
type lending struct {
	queued   int64        // body bytes queued since the first loan (under the call's mu)
	written  atomic.Int64 // body bytes written since then; negative while earlier ones are not
	released atomic.Bool
}

// Mark returns the position just past the body of the event Send last
// queued, for Returned. Only the engine calls it, after a Send that took
// the event, as it calls Send: it makes no sense on a call without Lend.
func (c *Call) Mark() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	l := c.lent.Load()
	if l == nil {
		// The bytes queued so far, this body's among them, are
		// outBytes: position 0 is past them, and is written once they are.
		l = &lending{}
		l.written.Store(-int64(c.outBytes))
		c.lent.Store(l)
	}
	return l.queued
}

// Returned reports whether the HTTP side is done with every body byte up
// to mark (Mark): the engine may free what it lent there. It takes no lock.
func (c *Call) Returned(mark int64) bool {
	l := c.lent.Load()
	return l == nil || l.released.Load() || l.written.Load() >= mark
}

// Release is the HTTP side's word that it reads nothing more of the call's
// events: every loan is returned. It takes no lock: a call that lent
// nothing, as most do, costs it one load.
func (c *Call) Release() {
	if l := c.lent.Load(); l != nil {
		l.released.Store(true)
	}
}

// countQueued and countWritten keep a lending call's positions; the call's
// mu is held.
func (c *Call) countQueued(n int) {
	if l := c.lent.Load(); l != nil {
		l.queued += int64(n)
	}
}

func (c *Call) countWritten(n int) {
	if l := c.lent.Load(); l != nil {
		l.written.Add(int64(n))
	}
}

// Received bodies go the other way. An engine whose receive() copies an
// event's Body into its own memory before it returns, keeping no reference
// to the string, says so (BodyCopier): the HTTP side may then hand it a
// request body in a buffer of its own, without a copy, and fill that buffer
// again once the app has taken the client event after it (Room): by then the
// app's receive() of the body before has returned. An engine that keeps the
// string (gopher-lua's strings are Go strings) is handed a copy, as are
// engines that do not say.
type BodyCopier interface {
	Engine
	// CopiesBodies reports whether this engine copies every received body.
	CopiesBodies() bool
}

// CopiesBodies reports whether e copies the bodies it receives.
func CopiesBodies(e Engine) bool {
	b, ok := e.(BodyCopier)
	return ok && b.CopiesBodies()
}
