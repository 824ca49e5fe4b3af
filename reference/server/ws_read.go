package server

import (
	"errors"
	"time"

	"github.com/lasgi/lasgi/reference/server/internal/mutant"
	"github.com/lasgi/lasgi/reference/server/websocket"
	"github.com/lasgi/lasgi/spec/event"
)

// The read side of a WebSocket: the frame reader the accept starts, the
// watch of the socket while the handshake waits, keep-alive pings, and
// what the end of the socket tells the app.

// startReader starts the goroutine that turns frames into events.
func (s *wsSession) startReader() {
	cfg := &s.c.srv.cfg
	s.lastRead.Store(time.Now().UnixNano())
	// The frame layer reads the socket itself, through a buffer it holds
	// only while bytes wait: the connection's 4 KiB read buffer goes back
	// to the pool, and
	// what the client sent past the handshake request (frames it did not
	// wait for the 101 to send) is handed over.
	var pending []byte
	if n := s.c.br.Buffered(); n > 0 {
		b, _ := s.c.br.Peek(n)
		pending = append([]byte(nil), b...)
	}
	s.c.br.Reset(nil)
	readers.Put(s.c.br)
	s.c.br = nil
	s.ws = websocket.NewConn(s.c.nc, s.c.nc, websocket.Options{
		MaxMessageSize: cfg.WSMaxMessage,
		OnPong:         func([]byte) { s.lastRead.Store(time.Now().UnixNano()) },
		Pending:        pending,
		Fault:          s.call.Fault,
	})
	s.readerDone = make(chan struct{})
	go s.readLoop()
}

// watch notices a client that leaves while the handshake waits for the app,
// so that a receive() it is waiting in returns websocket.disconnect
// (websocket.disconnect.on-close) and never a message
// (websocket.receive.before-accept): it peeks past what is buffered without
// taking it, since what a client sends before the 101 is the frame reader's
// after the accept, and ends at the end of the transport or when unwatch
// stops it. A client that fills the read buffer before the 101 is no longer
// watched.
func (s *wsSession) watch() {
	s.watchDone = make(chan struct{})
	s.c.nc.SetReadDeadline(time.Time{}) // the handshake request's is over
	br := s.c.br
	go func() {
		defer close(s.watchDone)
		for {
			n := br.Buffered() + 1
			if n > br.Size() {
				return
			}
			if _, err := br.Peek(n); err != nil {
				if !s.unwatching.Load() {
					s.transportGone()
					s.disconnected(1006, "")
				}
				return
			}
		}
	}()
}

// unwatch stops the watch, if one runs, and waits until it has: the read
// side is then the writer's (a 403, a 500) or the frame reader's.
func (s *wsSession) unwatch() {
	if s.watchDone == nil {
		return
	}
	s.unwatching.Store(true)
	s.c.nc.SetReadDeadline(time.Unix(1, 0)) // in the past: the peek returns
	<-s.watchDone
	s.watchDone = nil
	s.c.nc.SetReadDeadline(time.Time{})
}

// stopEarlyReader ends, under mutant.WSReceiveBeforeAccept, the reader
// started before the accept, before the writer refuses the handshake: the
// refusal reads the connection too.
func (s *wsSession) stopEarlyReader() {
	if !s.accepted && s.readerDone != nil {
		s.transportGone()
		<-s.readerDone
	}
}

// keepAlive pings a socket silent for interval, and gives it up when it was
// silent for another interval after the ping.
func (s *wsSession) keepAlive(interval time.Duration) {
	if !s.accepted || s.closeSent {
		return
	}
	silent := time.Since(time.Unix(0, s.lastRead.Load()))
	switch {
	case silent < interval:
		s.pingSent = false
	case !s.pingSent:
		s.pingSent = true
		s.c.nc.SetWriteDeadline(time.Now().Add(s.c.srv.cfg.WriteTimeout))
		if s.ws.WritePing(nil) != nil {
			s.transportGone()
		}
	case silent >= 2*interval:
		s.c.srv.cfg.ErrorLog.Printf("lasgi-serve: websocket %s: no frame for %v after a ping; closing", s.req.target, silent.Round(time.Second))
		s.transportGone()
	}
}

// readLoop turns the client's messages into websocket.receive events until
// the socket closes, then hands the app websocket.disconnect.
func (s *wsSession) readLoop() {
	defer close(s.readerDone)
	room := s.call.Room()
	for {
		s.c.nc.SetReadDeadline(time.Time{}) // silence is the keep-alive's to judge
		op, payload, err := s.ws.ReadMessage()
		if err != nil {
			s.readEnded(err)
			return
		}
		s.lastRead.Store(time.Now().UnixNano())
		binary := op == websocket.OpBinary
		if s.call.Fault.ID() != 0 {
			binary = faultBinary(s.call.Fault, binary)
		}
		s.call.Push(event.Event{Type: event.WebSocketReceive, Message: string(payload), Binary: binary})
		for s.call.Pending() >= maxPendingMessages {
			select {
			case <-room:
			case <-s.gone:
				return
			}
		}
	}
}

// readEnded hands the app the end of the socket: the client's close code
// and reason, the code the server closed with for a broken frame, or 1006
// when the transport ended without a close frame.
func (s *wsSession) readEnded(err error) {
	var ce *websocket.CloseError
	var pe *websocket.ProtocolError
	switch {
	case errors.As(err, &ce):
		// The frame layer has answered the close (or it answered ours).
		code, reason := ce.Code, ce.Reason
		if s.call.Fault.ID() != 0 {
			code, reason = faultDisconnect(s.call.Fault, code, reason)
			if s.call.Fault.Is(mutant.WSMessageAfterDisconnect) {
				s.readPastClose(code, reason)
			}
		}
		s.transportGone()
		s.disconnected(code, reason)
	case errors.As(err, &pe):
		s.c.nc.SetWriteDeadline(time.Now().Add(s.c.srv.cfg.WriteTimeout))
		s.ws.WriteClose(pe.Code, pe.Reason)
		s.disconnected(pe.Code, pe.Reason)
		// What the client still sends is read and dropped for a moment:
		// closing with unread bytes makes the kernel reset the connection,
		// which can destroy the close frame before the client reads it.
		s.c.lingeringClose()
		s.transportGone()
	default:
		s.transportGone()
		s.disconnected(1006, "")
	}
}

// readPastClose, under mutant.WSMessageAfterDisconnect, hands the app the
// client's close as a plain event, then reads on and delivers the next
// message the client sent, after it.
func (s *wsSession) readPastClose(code int, reason string) {
	s.call.Push(event.Event{Type: event.WebSocketDisconnect, Code: code, Reason: reason})
	s.c.nc.SetReadDeadline(time.Now().Add(s.c.srv.cfg.WriteTimeout))
	if op, payload, err := s.ws.ReadMessage(); err == nil {
		s.call.Push(event.Event{Type: event.WebSocketReceive, Message: string(payload), Binary: op == websocket.OpBinary})
	}
}
