package server

import (
	"bufio"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lasgi/lasgi/reference/server/bridge"
	"github.com/lasgi/lasgi/reference/server/internal/mutant"
	"github.com/lasgi/lasgi/reference/server/websocket"
	"github.com/lasgi/lasgi/spec/event"
)

const (
	// bodyChunk is the most body bytes one http.request event carries.
	bodyChunk = 256 << 10
	// drainLimit is how much unread request body the server reads and drops
	// to keep a connection alive after the response; beyond it, it closes.
	drainLimit = 256 << 10
	// readBuffer is small: an idle keep-alive connection keeps it, and a
	// large body read bypasses it anyway. The write buffer is pooled and held
	// only while a response is written.
	readBuffer  = 4 << 10
	writeBuffer = 16 << 10
	// lingerTime and lingerBytes bound the lingering close after an error
	// response.
	lingerTime  = 500 * time.Millisecond
	lingerBytes = 4 << 20
)

// offered lists the extensions every scope offers; scopes share it, read only.
var offered = []string{event.ExtensionTrailers}

// conn serves one client connection: requests one after another (pipelined
// ones wait in the read buffer), each a call into the engine.
type conn struct {
	srv    *Server
	nc     net.Conn
	br     *bufio.Reader
	bw     *bufio.Writer
	idle   atomic.Bool // waiting for the next request: safe to close on shutdown
	client *event.Addr
	local  *event.Addr

	// The write side of the exchange in progress, for the outside writer
	// (outside.go): wmu guards it and is held by the connection's goroutine
	// except while that is in the engine (inEngine). seq counts exchanges.
	wmu            sync.Mutex
	inEngine       atomic.Bool
	seq            atomic.Uint64
	out            *bridge.Call
	rw             responseWriter
	outReq         *request
	outsideWritten int    // body bytes the outside writer wrote, for call.Written
	kickFn         func() // c.kick, made once

	ws atomic.Pointer[wsSession] // the WebSocket this connection became, if any
}

// readers holds the read buffers of connections that became WebSockets,
// for the next connections: a socket gives its buffer back at the accept
// (the frame layer reads through buffers of its own), so that a burst of
// handshakes does not leave one buffer of garbage each. An HTTP connection
// keeps its buffer to its end: other goroutines (the body pump, the client
// watch) may still hold it.
var readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, readBuffer) }}

func newConn(s *Server, nc net.Conn) *conn {
	br := readers.Get().(*bufio.Reader)
	br.Reset(nc)
	c := &conn{
		srv:    s,
		nc:     nc,
		br:     br,
		client: addrOf(nc.RemoteAddr()),
		local:  addrOf(nc.LocalAddr()),
	}
	c.kickFn = c.kick
	return c
}

func (c *conn) closeIfIdle() {
	if ws := c.ws.Load(); ws != nil {
		ws.goingAway()
	}
	if c.idle.Load() {
		c.nc.SetReadDeadline(time.Now()) // wakes the idle read, which then closes
	}
}

func (c *conn) serve() {
	handedOff := false // to a WebSocket, which closes and untracks it
	defer func() {
		if !handedOff {
			c.nc.Close()
			c.srv.untrack(c)
		}
	}()
	cfg := &c.srv.cfg
	first := true
	for {
		// Wait for the first byte of the next request: idle time.
		wait := cfg.IdleTimeout
		if first {
			wait = cfg.ReadTimeout
		}
		c.idle.Store(true)
		if c.srv.closing.Load() {
			return
		}
		c.nc.SetReadDeadline(time.Now().Add(wait))
		if _, err := c.br.Peek(1); err != nil {
			return
		}
		c.idle.Store(false)
		first = false
		start := time.Now()
		c.nc.SetReadDeadline(start.Add(cfg.ReadTimeout))
		req, err := readRequest(c.br, cfg.MaxHeaderBytes, cfg.Fault)
		if err != nil {
			c.refuse(err)
			if cfg.Fault.Is(mutant.MalformedKeepsOpen) {
				continue
			}
			return
		}
		if websocket.IsUpgrade(pairs(req.headers)) {
			handedOff = c.serveWebSocket(req, start)
			return
		}
		if !c.exchange(req, start) {
			return
		}
		if cfg.Fault.Is(mutant.PipelineDropped) {
			c.br.Discard(c.br.Buffered())
		}
	}
}

// refuse answers a request that cannot reach the app, when the error calls
// for an answer (a timeout or a reset does not).
func (c *conn) refuse(err error) {
	var he *httpError
	if errors.As(err, &he) {
		c.acquireWriter()
		defer c.releaseWriter()
		c.nc.SetWriteDeadline(time.Now().Add(c.srv.cfg.WriteTimeout))
		writeError(c.bw, he.status, he.msg)
		if c.bw.Flush() == nil && !c.srv.cfg.Fault.Is(mutant.MalformedKeepsOpen) {
			c.lingeringClose()
		}
	}
}

// lingeringClose half-closes the connection and reads what the client is
// still sending for a moment before the close. Closing with unread data in
// the socket makes the kernel send a reset, which can destroy the error
// response before the client reads it.
func (c *conn) lingeringClose() {
	tc, ok := c.nc.(interface{ CloseWrite() error })
	if !ok || tc.CloseWrite() != nil {
		return
	}
	c.nc.SetReadDeadline(time.Now().Add(lingerTime))
	var r io.Reader = c.nc // an accepted WebSocket's frame layer has the buffered bytes
	if c.br != nil {
		r = c.br
	}
	io.CopyN(io.Discard, r, lingerBytes)
}

var writers = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, writeBuffer) }}

// acquireWriter gives the connection a write buffer from the pool.
func (c *conn) acquireWriter() {
	if c.bw == nil {
		c.bw = writers.Get().(*bufio.Writer)
		c.bw.Reset(c.nc)
	}
}

// releaseWriter returns the write buffer; anything unflushed is dropped,
// which only happens when the connection is failing anyway.
func (c *conn) releaseWriter() {
	if c.bw != nil {
		c.bw.Reset(nil)
		writers.Put(c.bw)
		c.bw = nil
	}
}

// exchange runs one request, which started arriving at start, through the
// app and reports whether the connection may carry another request.
func (c *conn) exchange(req *request, start time.Time) (keepAlive bool) {
	c.acquireWriter()
	defer c.releaseWriter()
	cfg := &c.srv.cfg
	rawPath, query, err := splitTarget(req.target)
	if err != nil {
		c.refuse(err)
		return false
	}
	if cfg.MaxBodyBytes > 0 && req.contentLength > cfg.MaxBodyBytes {
		c.refuse(errBodyTooLarge)
		return false
	}
	version, extensions := "1.1", offered
	if req.minor == 0 {
		// HTTP/1.0 has no chunked coding, so no trailers
		// (http.trailers.http10).
		version, extensions = "1.0", nil
	}
	path, rawPath := withRootPath(cfg.RootPath, event.DecodePath(rawPath), rawPath)
	scope := &event.Scope{
		Type:        "http",
		HTTPVersion: version,
		Method:      req.method,
		Scheme:      "http",
		Path:        path,
		RawPath:     rawPath,
		QueryString: query,
		RootPath:    cfg.RootPath,
		Headers:     req.headers,
		Client:      c.client,
		Server:      c.local,
		Extensions:  extensions,
	}
	if cfg.Fault.ID() != 0 {
		faultScope(cfg.Fault, scope)
	}
	var deadline time.Time
	if cfg.AppTimeout > 0 {
		deadline = start.Add(cfg.AppTimeout)
	}
	call := bridge.NewCall(scope, deadline)
	call.Fault = cfg.Fault
	limit := cfg.MaxBodyBytes
	if limit < 0 {
		limit = 0
	}
	body := newBodyReader(c.br, req, limit, cfg.MaxHeaderBytes)
	body.fault = cfg.Fault

	if req.expectContinue && !body.Done() {
		c.nc.SetWriteDeadline(time.Now().Add(cfg.WriteTimeout))
		c.bw.WriteString("HTTP/1.1 100 Continue\r\n\r\n")
		if c.bw.Flush() != nil {
			return false
		}
	}

	// The whole body is often in the read buffer already: hand it over as
	// one event and skip the reader goroutine.
	var pump *bodyPump
	switch {
	case body.Done() && cfg.Fault.Is(mutant.NoBodyNoEvent):
	case body.Done():
		call.Push(event.Event{Type: event.HTTPRequest})
	case body.Buffered() && body.remaining <= bodyChunk:
		buf := make([]byte, body.remaining)
		if _, err := io.ReadFull(body, buf); err != nil {
			return false
		}
		call.Push(faultBuffered(cfg.Fault, event.Event{Type: event.HTTPRequest, Body: string(buf)}))
	case cfg.Fault.Is(mutant.BodyBufferedWhole):
		if !c.faultWholeBody(call, body) {
			return false
		}
	default:
		pump = startPump(c, call, body)
	}

	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.rw = *newResponseWriter(c.bw, req, &c.srv.closing) // in the conn: no allocation
	w := &c.rw
	w.fault = cfg.Fault
	c.seq.Add(1)
	c.out, c.outReq, c.outsideWritten = call, req, 0
	defer func() { c.out, c.outReq = nil, nil }()
	call.Kick = c.kickFn

	c.enter()
	cfg.Engine.Start(call)
	c.leave()
	return c.await(req, call, w, body, pump)
}

// await writes the app's response as it comes and watches the client, until
// the response is complete, the app fails, or the client goes away.
func (c *conn) await(req *request, call *bridge.Call, w *responseWriter, body *bodyReader, pump *bodyPump) bool {
	var timer *time.Timer // the deadline's, armed at the first wait
	var timeout <-chan time.Time
	var pumpDone <-chan error
	if pump != nil {
		pumpDone = pump.done
	}
	var watcher *clientWatch
	// quiet stops the goroutines reading from the connection, before refuse
	// reads from it itself.
	quiet := func() {
		if watcher != nil {
			watcher.stop()
			watcher = nil
		}
		if pumpDone != nil {
			pump.abort()
			pump, pumpDone = nil, nil
		}
	}
	logged := false
	defer func() {
		if timer != nil {
			timer.Stop()
		}
		if watcher != nil {
			watcher.stop()
		}
		if !logged {
			// The app may still be running, or fail later: its error is
			// still worth a log line (spec rule http.error.after-complete).
			call.OnFinish(func(err error) {
				if err != nil {
					c.logAppEnd(req, err)
				}
			})
		}
	}()

	// The first look is before any wait: an app that ran to the end inside
	// Start has its response ready, and needs no timer.
	// The outside writer may have written while this goroutine was in the
	// engine during the last look (call.Written): then look again at once,
	// to tell the call of those bytes, rather than wait for news.
	for waited := false; ; waited = c.outsideWritten == 0 {
		if waited {
			if timer == nil && !call.Deadline.IsZero() {
				timer = time.NewTimer(time.Until(call.Deadline))
				timeout = timer.C
			}
			select {
			case <-call.Notify():
			case <-timeout:
				c.disconnect(call)
				c.srv.cfg.ErrorLog.Printf("lasgi-serve: %s %s: %v", req.method, req.target, bridge.ErrTimeout)
				if !w.headerWritten {
					quiet()
					c.refuse(&httpError{500, "the application timed out"})
				}
				return false
			case err := <-pumpDone:
				pumpDone = nil
				if err != nil {
					// The body broke off or was refused: the app hears the
					// client is gone; the client hears why, if it can.
					if !c.srv.cfg.Fault.Is(mutant.MidBodyNoDisconnect) {
						c.disconnect(call)
					}
					var he *httpError
					if errors.As(err, &he) && !w.headerWritten {
						c.refuse(he)
					}
					return false
				}
				pump = nil
			}
		}

		// The state is read before the outbox is taken: an app that sends its
		// last events and returns in between must not look unfinished. Once
		// Finished is seen, everything it sent is already in the outbox.
		st := call.State()
		n, err := c.writeEvents(call, w)
		if err != nil {
			c.disconnect(call)
			return false
		}
		n += c.outsideWritten
		c.outsideWritten = 0
		c.enter()
		call.Written(n) // may resume an app that waited for the socket
		c.leave()

		if w.complete {
			return c.endExchange(w, pump, body)
		}
		if st.Disconnected {
			return false
		}
		if st.Finished {
			logged = true
			c.logAppEnd(req, st.Err)
			if f := c.srv.cfg.Fault; f.ID() != 0 && c.faultFinished(f, w, st.Err, quiet) {
				return false
			}
			if !w.headerWritten {
				quiet()
				status, msg := errorStatus(st.Err)
				c.refuse(&httpError{status, msg})
			}
			return false // a started response that was not completed: cut it off
		}
		if st.Watch && pump == nil && watcher == nil {
			watcher = watchClient(c, call)
		}
	}
}

// disconnect tells the call the client is gone, from the connection's
// goroutine: that may resume the app, so it counts as being in the engine.
func (c *conn) disconnect(call *bridge.Call) {
	c.enter()
	call.Disconnect()
	c.leave()
}

// writeEvents writes what the app has sent since the last look and flushes.
func (c *conn) writeEvents(call *bridge.Call, w *responseWriter) (bodyBytes int, err error) {
	events := call.Take()
	if len(events) == 0 {
		return 0, nil
	}
	// The deadline comes first: a large body goes to the socket while it is
	// written, not at the flush.
	c.nc.SetWriteDeadline(time.Now().Add(c.srv.cfg.WriteTimeout))
	for i := range events {
		bodyBytes += len(events[i].Body)
		w.write(&events[i])
	}
	// Flush also reports a failed write made while writing the events: the
	// buffered writer keeps the error and takes nothing more after it.
	if c.srv.cfg.Fault.Is(mutant.ResponseHeldUntilComplete) && !w.complete {
		return bodyBytes, nil
	}
	return bodyBytes, c.bw.Flush()
}

// endExchange tidies up after a complete response and decides whether the
// connection goes on: the unread rest of the body must be drained first.
func (c *conn) endExchange(w *responseWriter, pump *bodyPump, body *bodyReader) bool {
	if pump != nil {
		if err := pump.stop(); err != nil {
			return false
		}
	} else if !body.Done() {
		if err := drain(c, body); err != nil {
			return false
		}
	}
	return !w.mustClose && !w.closeAsked && !c.srv.closing.Load() && !c.srv.cfg.Fault.Is(mutant.KeepAliveNever)
}

func (c *conn) logAppEnd(req *request, err error) {
	switch {
	case err == nil:
		// Only called for a response left incomplete.
		c.srv.cfg.ErrorLog.Printf("lasgi-serve: %s %s: lasgi: %s: the app returned without completing the response",
			req.method, req.target, event.RuleAppCompleteResponse)
	case strings.Contains(err.Error(), bridge.DisconnectedPrefix):
		// The app stopped because the client left: not a fault.
	default:
		c.srv.cfg.ErrorLog.Printf("lasgi-serve: %s %s: app error: %v", req.method, req.target, err)
	}
}

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
	var buf []byte
	if !p.body.chunked && p.body.remaining < bodyChunk {
		buf = make([]byte, p.body.remaining) // a small body: no large buffer
	} else {
		b := pumpBuffers.Get().(*[bodyChunk]byte)
		defer pumpBuffers.Put(b)
		buf = b[:]
	}
	for {
		p.c.nc.SetReadDeadline(time.Now().Add(p.c.srv.cfg.ReadTimeout))
		n, err := p.body.Read(buf)
		if err != nil && err != io.EOF {
			p.done <- err
			return
		}
		last := err == io.EOF || p.body.Done() || p.c.srv.cfg.Fault.Is(mutant.StreamedEndsEarly)
		p.call.Push(event.Event{Type: event.HTTPRequest, Body: string(buf[:n]), MoreBody: !last})
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
