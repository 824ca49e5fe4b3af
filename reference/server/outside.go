package server

import (
	"errors"
	"sync"
	"time"

	"github.com/lasgi/lasgi/reference/server/bridge"
)

// Writing a response while the connection's goroutine runs the app.
//
// The engine runs the app on the goroutine that calls it: a connection's own
// goroutine for Engine.Start, and for call.Written or call.Disconnect when
// they wake the app. While it is there it cannot write, so an app that sends
// its whole response and then computes for ten seconds, or streams parts
// with work in between, would have its events wait in the outbox until it
// next yields. Instead the call tells the connection (bridge.Call.Kick)
// whenever it has something for the wire or has ended; if the connection's
// goroutine is in the engine then and still is a moment later, the server's
// outside writer writes the events for it. The moment is there so that the
// usual app, which returns or waits right after it responds, costs nothing
// but the note: its connection writes the response itself.
//
// The connection's write side (bw, the response writer, the socket's
// writes) is guarded by conn.wmu, which the connection's goroutine holds for
// the whole exchange except while it is in the engine (conn.enter, leave).

// outsideDelay is how long the connection's goroutine may stay in the engine
// after a kick before the outside writer writes for it.
const outsideDelay = time.Millisecond

// kickQueue is how many kicks may wait for the outside writer. A kick that
// finds it full is dropped: the response then waits for the app to yield,
// as it would without the outside writer.
const kickQueue = 4096

type kick struct {
	c   *conn
	seq uint64    // the exchange it was for (conn.seq)
	at  time.Time // when
}

// outsideWriter writes for connections whose goroutine is in the engine.
type outsideWriter struct {
	once  sync.Once
	kicks chan kick
}

// note queues a kick for c's exchange seq; it never blocks. It reports
// false when the queue was full and the kick dropped.
func (o *outsideWriter) note(s *Server, c *conn, seq uint64) bool {
	o.once.Do(func() {
		o.kicks = make(chan kick, kickQueue)
		go o.run(s.done)
	})
	select {
	case o.kicks <- kick{c: c, seq: seq, at: time.Now()}:
		return true
	default:
		return false
	}
}

func (o *outsideWriter) run(done <-chan struct{}) {
	for {
		var k kick
		select {
		case k = <-o.kicks:
		case <-done:
			return
		}
		// A whole delay, not what is left of k's: the kicks queued meanwhile
		// are then all due, so a busy server sleeps once per delay, not once
		// per kick.
		if time.Since(k.at) < outsideDelay {
			time.Sleep(outsideDelay)
		}
		k.c.writeFromOutside(k.seq)
	}
}

// kick is bridge.Call.Kick for the connection's calls. While a kick for
// the exchange waits in the queue, another would find nothing that one
// will not write: an app sends a response's start, body and end in one
// run, and each send kicks. A kick for an earlier exchange still queued
// (a keep-alive client's next request came within the writer's delay)
// does not count: it writes nothing of this one.
func (c *conn) kick() {
	if !c.inEngine.Load() {
		return
	}
	seq := c.seq.Load()
	old := c.kickQueued.Load()
	if old == seq || !c.kickQueued.CompareAndSwap(old, seq) {
		return
	}
	if !c.srv.outside.note(c.srv, c, seq) {
		c.kickQueued.CompareAndSwap(seq, 0)
	}
}

// enter is called by the connection's goroutine before it calls into the
// engine, leave after: in between, the outside writer may write for it.
func (c *conn) enter() {
	c.inEngine.Store(true)
	c.wmu.Unlock()
}

func (c *conn) leave() {
	c.wmu.Lock()
	c.inEngine.Store(false)
}

// writeFromOutside writes what the call of exchange seq has queued, when the
// connection's goroutine is still in the engine. A call that ended without
// completing its response (its worker abandoned, say) gets what the
// connection would give it: an error response if nothing was written yet,
// and the connection closed, since the connection's goroutine may not come
// back for a long time.
func (c *conn) writeFromOutside(seq uint64) {
	// Taken: what the exchange sends from now on needs a kick of its own.
	c.kickQueued.CompareAndSwap(seq, 0)
	if !c.inEngine.Load() || c.seq.Load() != seq || !c.wmu.TryLock() {
		return
	}
	defer c.wmu.Unlock()
	if !c.inEngine.Load() || c.seq.Load() != seq || c.out == nil {
		return
	}
	call, w := c.out, &c.rw
	st := call.State()
	n, err := c.writeEvents(call, w, st)
	c.outsideWritten += n
	if w.complete || (err == nil && !st.Finished) {
		return
	}
	if err == nil && !w.headerWritten {
		status, msg := errorStatus(st.Err)
		answer := true
		if f := c.srv.cfg.Fault; f.ID() != 0 {
			// The mutants of the error response take this way too: under
			// load the app's end may come while the connection's goroutine
			// is still in the engine.
			status, msg, answer = faultErrorStatus(f, st.Err, status, msg)
		}
		if answer {
			writeError(c.bw, status, msg)
			c.bw.Flush()
		}
	}
	c.nc.Close()
	c.srv.untrack(c) // shutdown need not wait for it
	c.srv.cfg.ErrorLog.Printf("lasgi-serve: %s %s: the call ended while the app still ran Go code on the connection's goroutine; connection closed",
		c.outReq.method, c.outReq.target)
}

// errorStatus is the status of the error response for a call that ended
// with err before its response started.
func errorStatus(err error) (int, string) {
	if errors.Is(err, bridge.ErrOverloaded) {
		return 503, "no worker was free; try again shortly"
	}
	return 500, ""
}
