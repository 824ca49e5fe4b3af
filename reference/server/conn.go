package server

import (
	"bufio"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lasgi/lasgi/reference/server/bridge"
	"github.com/lasgi/lasgi/reference/server/groups"
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

// offers are the extensions a server's scopes offer, shared by them, read
// only.
type offers struct {
	http11 []string // an HTTP/1.1 scope
	http10 []string // HTTP/1.0: no trailers, which need the chunked coding (http.trailers.http10)
	ws     []string // a websocket scope: the denial response, no trailers
	hub    groups.Hub
}

// offersFor is what cfg offers: groups only when its engine can carry them.
func offersFor(cfg *Config) offers {
	o := offers{
		http11: []string{event.ExtensionTrailers, event.ExtensionTimers},
		http10: []string{event.ExtensionTimers},
		ws:     []string{event.ExtensionWebSocketDeny, event.ExtensionTimers},
	}
	if !cfg.NoGroups && bridge.CarriesGroups(cfg.Engine) {
		o.hub = cfg.Groups
		if o.hub == nil {
			o.hub = groups.NewLocal()
		}
		o.http11 = append(o.http11, event.ExtensionGroups)
		o.http10 = append(o.http10, event.ExtensionGroups)
		o.ws = append(o.ws, event.ExtensionGroups)
	}
	return o
}

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
	kickQueued     atomic.Uint64 // the exchange (seq) a kick waits in the queue for; 0: none
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
