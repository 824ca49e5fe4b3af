package server

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/lasgi/lasgi/reference/server/bridge"
	"github.com/lasgi/lasgi/reference/server/internal/mutant"
	"github.com/lasgi/lasgi/spec/event"
)

// The goroutines that read a connection while its app runs: the body pump,
// which hands the app the request body a chunk at a time as it takes them,
// and the client watch, which notices a client that leaves while the app
// waits for http.disconnect; and drain, which reads what the app left of a
// body so that the next request can be read.

// drain reads and drops the rest of a request body, up to drainLimit and
// within the read timeout.
func drain(c *conn, body *bodyReader) error {
	buf := make([]byte, 32<<10)
	var n int64
	// The whole drain has the read timeout, not each read: a client that
	// trickles a body nobody reads must not hold the connection for ever.
	end := time.Now().Add(c.srv.cfg.ReadTimeout)
	for !body.Done() {
		c.nc.SetReadDeadline(end)
		k, err := body.Read(buf)
		n += int64(k)
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if n > drainLimit {
			return errBodyTooLarge
		}
	}
	return nil
}

// bodyPump feeds a request body into the call one chunk at a time, reading
// the next chunk only when the app has taken the last: the body is streamed,
// never buffered whole (spec rule http.request.streamed).
type bodyPump struct {
	c       *conn
	call    *bridge.Call
	room    <-chan struct{} // taken before the first Push: see Call.Room
	body    *bodyReader
	quit    chan struct{}
	done    chan error
	aborted atomic.Bool // stopped without draining the rest of the body
}

func startPump(c *conn, call *bridge.Call, body *bodyReader) *bodyPump {
	p := &bodyPump{c: c, call: call, room: call.Room(), body: body, quit: make(chan struct{}), done: make(chan error, 1)}
	go p.run()
	return p
}

// pumpBuffers holds the pumps' read buffers: each chunk is copied into the
// event, so a buffer outlives its pump only in the pool.
var pumpBuffers = sync.Pool{New: func() any { return new([bodyChunk]byte) }}

func (p *bodyPump) run() {
	small := !p.body.chunked && p.body.remaining < bodyChunk
	// An engine that copies what it receives (bridge.BodyCopier) is handed
	// the chunks in the pump's own two buffers, in turn: a buffer is read
	// into again only after the app took the chunk after the one it held,
	// so that one's receive() has returned. Those buffers are the events'
	// until nothing refers to them, so they do not go back to the pool.
	var bufs [2][]byte
	borrow := p.c.srv.copiesBodies
	switch {
	case small:
		bufs[0] = make([]byte, p.body.remaining) // a small body: no large buffer
	case borrow:
		bufs[0] = make([]byte, bodyChunk)
	default:
		b := pumpBuffers.Get().(*[bodyChunk]byte)
		defer pumpBuffers.Put(b)
		bufs[0] = b[:]
	}
	for turn := 0; ; turn++ {
		buf := bufs[0]
		if borrow && turn%2 == 1 {
			if bufs[1] == nil {
				bufs[1] = make([]byte, len(bufs[0]))
			}
			buf = bufs[1]
		}
		p.c.nc.SetReadDeadline(time.Now().Add(p.c.srv.cfg.ReadTimeout))
		n, err := p.body.Read(buf)
		if err != nil && err != io.EOF {
			p.done <- err
			return
		}
		last := err == io.EOF || p.body.Done() || p.c.srv.cfg.Fault.Is(mutant.StreamedEndsEarly)
		body := ""
		switch {
		case n == 0:
		case borrow:
			body = unsafe.String(&buf[0], n)
		default:
			body = string(buf[:n])
		}
		p.call.Push(event.Event{Type: event.HTTPRequest, Body: body, MoreBody: !last})
		if last {
			p.done <- nil
			return
		}
		select {
		case <-p.room:
		case <-p.quit:
			if p.aborted.Load() || p.c.srv.cfg.Fault.Is(mutant.UnreadBodyLeft) {
				p.done <- nil
			} else {
				p.done <- drain(p.c, p.body)
			}
			return
		}
	}
}

// stop ends the pump once the response is complete; the rest of the body is
// drained so the connection can go on. It returns whether that worked.
func (p *bodyPump) stop() error {
	close(p.quit)
	return <-p.done
}

// abort ends the pump at once, for a connection about to close: a read in
// progress is cut short and the rest of the body is left unread.
func (p *bodyPump) abort() {
	p.aborted.Store(true)
	p.c.nc.SetReadDeadline(time.Now())
	close(p.quit)
	<-p.done
}

// clientWatch notices a client that goes away while the app waits for
// http.disconnect: a read that ends in EOF or a reset means it left. A
// pipelined request arriving instead just ends the watch.
type clientWatch struct {
	c    *conn
	done chan struct{}
}

func watchClient(c *conn, call *bridge.Call) *clientWatch {
	w := &clientWatch{c: c, done: make(chan struct{})}
	c.nc.SetReadDeadline(call.Deadline)
	go func() {
		defer close(w.done)
		if _, err := c.br.Peek(1); err != nil {
			var ne net.Error
			if (!errors.As(err, &ne) || !ne.Timeout()) && !c.srv.cfg.Fault.Is(mutant.WatchNoDisconnect) {
				call.Disconnect()
			}
		}
	}()
	return w
}

func (w *clientWatch) stop() {
	w.c.nc.SetReadDeadline(time.Now())
	<-w.done
}
