package server

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lasgi/lasgi/reference/server/bridge"
	"github.com/lasgi/lasgi/reference/server/internal/mutant"
	"github.com/lasgi/lasgi/reference/server/websocket"
	"github.com/lasgi/lasgi/spec/event"
)

// A WebSocket on a connection (spec/websocket.md): the handshake request's
// scope, one app call for the socket's whole life, a reader goroutine that
// turns frames into websocket.receive events once the app has accepted, and
// a writer that puts what the app sends on the wire as soon as it is sent,
// whatever the app does next (websocket.send.flush). The writer is a
// goroutine started when there is something to do (the app sent or ended, a
// ping is due, the server shuts down) and gone when it is done, so an idle
// socket keeps one goroutine, the reader's, and no read or write buffer.

const (
	// maxPendingMessages is how many received messages may wait for the app
	// before the reader stops reading: a client cannot fill the server's
	// memory with messages the app does not take.
	maxPendingMessages = 16
	// DefaultWSMaxMessage bounds one received message, fragments together:
	// past it the server closes with 1009 (websocket.receive.max-size).
	DefaultWSMaxMessage = 16 << 20
	// DefaultWSPingInterval is how long a socket may be silent before the
	// server pings it, and how long it then waits for any frame before it
	// gives the socket up (websocket.receive.keepalive).
	DefaultWSPingInterval = 20 * time.Second
)

// wsSession is one websocket scope.
type wsSession struct {
	c    *conn
	req  *request
	call *bridge.Call
	key  string // the client's sec-websocket-key

	// pending counts the pokes (poke) the writer has not yet looked at;
	// a writer goroutine runs while it is above 0, and once the socket has
	// ended it stays above 0, so no writer starts again.
	pending  atomic.Int32
	pingDue  atomic.Bool // the ping timer fired: the writer looks at the silence
	ping     *time.Timer
	gone     chan struct{} // closed when the transport has ended, from either side
	goneOnce sync.Once
	discOnce sync.Once // the app hears of the end once, with the first code
	// readerDone is closed when the reader goroutine has returned (nil
	// before accept).
	readerDone chan struct{}
	// watchDone is closed when the watch of the socket while the handshake
	// waits has stopped (nil when none runs); unwatching tells its stop
	// apart from the client's leaving.
	watchDone  chan struct{}
	unwatching atomic.Bool

	// The writer's: one writer goroutine at a time, each after the last.
	accepted  bool            // the 101 went out
	ws        *websocket.Conn // after accept
	closeSent bool            // a close frame (or the 403, or a denial) went out
	lastRead  atomic.Int64    // unix nanoseconds of the last frame read
	pingSent  bool
	rw        *responseWriter // the denial response, once started
}

// serveWebSocket runs the websocket scope whose handshake request is req.
// The connection carries nothing after it. It reports whether the socket
// lives on after it returns: then the session's writer closes the
// connection and untracks it when the socket ends (wsSession.end).
func (c *conn) serveWebSocket(req *request, start time.Time) (handedOff bool) {
	cfg := &c.srv.cfg
	c.acquireWriter()
	defer func() {
		if !handedOff {
			c.releaseWriter()
		}
	}()
	key, protocols, herr := websocket.CheckUpgrade(req.method, pairs(req.headers))
	switch {
	case herr != nil:
		c.refuseWith(herr.Status, herr.Reason, herr.Headers)
		return false
	case req.minor == 0:
		c.refuseWith(400, "a WebSocket handshake needs HTTP/1.1", nil)
		return false
	case req.contentLength > 0 || req.chunked:
		c.refuseWith(400, "a WebSocket handshake has no body", nil)
		return false
	}
	rawPath, query, err := splitTarget(req.target)
	if err != nil {
		c.refuse(err)
		return false
	}
	path, rawPath := withRootPath(cfg.RootPath, event.DecodePath(rawPath), rawPath)
	scope := &event.Scope{
		Type:         event.ScopeWebSocket,
		HTTPVersion:  "1.1",
		Scheme:       "ws",
		Path:         path,
		RawPath:      rawPath,
		QueryString:  query,
		RootPath:     cfg.RootPath,
		Headers:      req.headers,
		Client:       c.client,
		Server:       c.local,
		Subprotocols: protocols,
		Extensions:   c.srv.offers.ws,
	}
	if cfg.Fault.ID() != 0 {
		faultWSScope(cfg.Fault, scope)
	}
	// No deadline: a socket lives as long as both ends want. The busy
	// timeout still bounds each run of the app between two waits.
	call := bridge.NewCall(scope, time.Time{})
	call.Fault = cfg.Fault
	call.Groups = c.srv.offers.hub
	// Every message taken is counted in Written once written, and the call
	// is released when the socket has ended (bridge's lend.go).
	call.Lend = true
	s := &wsSession{c: c, req: req, call: call, key: key, gone: make(chan struct{})}
	call.Kick = s.poke
	call.Push(event.Event{Type: event.WebSocketConnect})
	interval := cfg.WSPingInterval
	s.ping = time.AfterFunc(interval, func() {
		s.pingDue.Store(true)
		s.poke()
	})
	c.ws.Store(s)
	switch {
	case call.Fault.Is(mutant.WSConnectNotHeld):
		s.accept(&event.Event{Type: event.WebSocketAccept})
	case call.Fault.Is(mutant.WSReceiveBeforeAccept):
		s.startReader() // what the client sent before the 101 reaches receive() at once
	default:
		s.watch()
	}

	// The app starts on this goroutine, which ends when the app first
	// waits: what it sends meanwhile goes out at once, through the writer
	// its sends start (poke). Not c.enter/leave: those hand an HTTP
	// exchange's write side to the outside writer.
	cfg.Engine.Start(call)
	return true
}

func pairs(hs []event.Header) [][2]string {
	out := make([][2]string, len(hs))
	for i, h := range hs {
		out[i] = [2]string{h.Name, h.Value}
	}
	return out
}

// refuseWith answers a request that does not reach the app with status,
// msg and extra headers, and closes.
func (c *conn) refuseWith(status int, msg string, headers [][2]string) {
	c.nc.SetWriteDeadline(time.Now().Add(c.srv.cfg.WriteTimeout))
	writeErrorWith(c.bw, status, msg, headers)
	if c.bw.Flush() == nil {
		c.lingeringClose()
	}
}

// poke has the writer look at the socket: it starts a writer goroutine
// unless one is running, which then looks again. It never blocks (it is
// call.Kick, called inside the engine).
func (s *wsSession) poke() {
	if s.pending.Add(1) == 1 {
		go s.writer()
	}
}

// writer does what the pokes since the last look ask, until none came
// meanwhile or the socket has ended.
func (s *wsSession) writer() {
	for {
		n := s.pending.Load()
		if s.step() {
			return // pending stays above 0: no writer starts again
		}
		if s.pending.Add(-n) == 0 {
			return
		}
	}
}

// transportGone marks the transport ended and closes it; the reader, if
// any, returns.
func (s *wsSession) transportGone() {
	s.goneOnce.Do(func() {
		close(s.gone)
		s.c.nc.Close()
	})
}

// disconnected hands the app websocket.disconnect with code and reason, and
// from then on send() raises the disconnected error unless the app closed.
func (s *wsSession) disconnected(code int, reason string) {
	s.discOnce.Do(func() {
		s.call.DisconnectWith(event.Event{Type: event.WebSocketDisconnect, Code: code, Reason: reason})
	})
}

// step writes what the app has sent, pings a silent socket, says going
// away on shutdown, and ends the socket when the app has finished, which it
// reports.
func (s *wsSession) step() (ended bool) {
	cfg := &s.c.srv.cfg
	if s.pingDue.Swap(false) {
		s.keepAlive(cfg.WSPingInterval)
		s.ping.Reset(cfg.WSPingInterval)
	}
	if s.c.srv.closing.Load() && s.accepted && !s.closeSent {
		// Shutdown: the socket goes away (RFC 6455 code 1001); the app
		// hears websocket.disconnect once the client answered.
		s.c.nc.SetWriteDeadline(time.Now().Add(cfg.WriteTimeout))
		s.closeSent = true
		s.ws.WriteClose(websocket.CloseGoingAway, "the server is shutting down")
		go s.awaitClose()
	}
	st := s.call.State()
	n, err := s.writeEvents()
	s.call.Written(n)
	if err != nil {
		s.transportGone()
		s.disconnected(1006, "")
	}
	if !st.Finished {
		return false
	}
	s.finish(st.Err)
	s.end()
	return true
}

// end lets the connection go once the socket has ended, as conn.serve does
// for a connection that was not handed off.
func (s *wsSession) end() {
	s.ping.Stop()
	s.c.ws.Store(nil)
	s.c.releaseWriter()
	s.c.nc.Close()
	s.c.srv.untrack(s.c)
	s.call.Release() // the app has finished, and no step looks at its events again
}

// writeEvents writes the events the app has sent since the last look.
func (s *wsSession) writeEvents() (messageBytes int, err error) {
	events := s.call.Take()
	if len(events) > 0 {
		// The app has answered the handshake (nothing else gets past the
		// conversation while it waits): what the client sends is the
		// answer's to read.
		s.unwatch()
	}
	for i := range events {
		ev := &events[i]
		if s.closeSent && s.rw == nil {
			break // the conversation refuses anything after a close; a denial's body still goes out
		}
		s.c.nc.SetWriteDeadline(time.Now().Add(s.c.srv.cfg.WriteTimeout))
		switch ev.Type {
		case event.WebSocketAccept:
			if !s.accepted { // accepted already only under mutant.WSConnectNotHeld
				err = s.accept(ev)
			}
		case event.WebSocketSend:
			op := websocket.OpText
			if ev.Binary {
				op = websocket.OpBinary
			}
			messageBytes += len(ev.Message)
			err = s.ws.WriteMessage(op, readOnly(ev.Message)) // WriteMessage keeps no hold on it
		case event.WebSocketClose:
			err = s.close(ev.Code, ev.Reason)
		case event.WebSocketDenialStart, event.WebSocketDenialBody:
			err = s.deny(ev)
		}
		if err != nil {
			return messageBytes, err
		}
	}
	return messageBytes, nil
}

// accept completes the handshake and starts reading frames.
func (s *wsSession) accept(ev *event.Event) error {
	key, subprotocol := s.key, ev.Subprotocol
	if s.call.Fault.ID() != 0 {
		key, subprotocol = faultAccept(s.call.Fault, key, subprotocol, s.call.Scope.Subprotocols)
	}
	if err := websocket.WriteAccept(s.c.nc, key, subprotocol, pairs(ev.Headers)); err != nil {
		return err
	}
	s.accepted = true
	if s.ws == nil { // reading already only under mutant.WSReceiveBeforeAccept
		s.startReader()
	}
	// From here on everything is frames, which the frame layer writes
	// itself: the 16 KiB write buffer goes back to the pool instead of
	// staying with an idle socket (a 403, a 500 or a denial come only
	// before the accept).
	s.c.releaseWriter()
	return nil
}

// close answers websocket.close: before the accept, a 403 and the end of the
// connection (websocket.close.before-accept); after it, a close frame, and
// the transport ends once the client's close frame came or the write
// timeout passed (websocket.close.after-accept).
func (s *wsSession) close(code int, reason string) error {
	s.closeSent = true
	if !s.accepted && s.call.Fault.Is(mutant.WSCloseBeforeAccept101) {
		if err := s.accept(&event.Event{Type: event.WebSocketAccept}); err != nil {
			return err
		}
	}
	if !s.accepted {
		s.stopEarlyReader()
		s.c.refuseWith(403, "", nil)
		s.transportGone()
		s.disconnected(1006, "")
		return nil
	}
	if code == 0 || s.call.Fault.Is(mutant.WSCloseCodeIgnored) {
		code = websocket.CloseNormal
	}
	err := s.ws.WriteClose(code, reason)
	go s.awaitClose()
	return err
}

// awaitClose ends the transport when the client has answered a close frame,
// or the write timeout has passed without an answer.
func (s *wsSession) awaitClose() {
	t := time.NewTimer(s.c.srv.cfg.WriteTimeout)
	defer t.Stop()
	select {
	case <-s.readerDone:
	case <-t.C:
	}
	s.transportGone()
}

// deny writes the denial response as the HTTP response to the handshake
// request it stands for, and ends the connection after its last body.
func (s *wsSession) deny(ev *event.Event) error {
	if s.rw == nil {
		s.rw = newResponseWriter(s.c.bw, s.req, &s.c.srv.closing)
		s.rw.mustClose = true
	}
	as := *ev
	as.Type = event.HTTPResponseStart
	if ev.Type == event.WebSocketDenialBody {
		as.Type = event.HTTPResponseBody
	}
	s.rw.write(&as)
	if err := s.c.bw.Flush(); err != nil {
		return err
	}
	if s.rw.complete {
		s.closeSent = true
		s.transportGone()
		s.disconnected(1006, "")
	}
	return nil
}

// finish ends the socket after the app call ended with err: while the
// handshake waits, a 500 (websocket.error.before-accept); while it is open,
// a close frame of 1011 for an error (websocket.error.after-accept) or 1000
// for a return (websocket.error.return-open); a denial cut short, as an
// HTTP response the app failed in.
func (s *wsSession) finish(err error) {
	if err != nil {
		s.c.logAppEnd(s.req, err)
	}
	s.unwatch()
	switch {
	case s.rw != nil && !s.rw.complete:
		if !s.rw.headerWritten {
			status, msg := errorStatus(err)
			s.c.refuseWith(status, msg, nil)
		}
	case s.closeSent && s.accepted:
		s.awaitClose() // the client's answer to the close frame
	case s.closeSent:
	case !s.accepted:
		s.stopEarlyReader()
		status, msg := errorStatus(err)
		if err == nil {
			status, msg = 500, "the application returned without answering the WebSocket handshake"
		}
		if s.call.Fault.Is(mutant.WSErrorBeforeAccept403) {
			status, msg = 403, ""
		}
		s.c.refuseWith(status, msg, nil)
	default:
		code, reason := websocket.CloseNormal, ""
		if err != nil && !errors.Is(err, bridge.ErrDisconnected) {
			code, reason = websocket.CloseInternalError, "the application failed"
		}
		if s.call.Fault.ID() != 0 {
			code, reason = faultFinishCode(s.call.Fault, err, code, reason)
		}
		s.c.nc.SetWriteDeadline(time.Now().Add(s.c.srv.cfg.WriteTimeout))
		if s.ws.WriteClose(code, reason) == nil {
			s.closeSent = true
			s.awaitClose()
		}
	}
	s.transportGone()
	if s.readerDone != nil {
		<-s.readerDone
	}
}

// goingAway closes an open socket with 1001 on shutdown: it pokes the
// writer, the one goroutine that writes the app's side.
func (s *wsSession) goingAway() { s.poke() }
