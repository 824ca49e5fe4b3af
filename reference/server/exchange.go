package server

import (
	"errors"
	"io"
	"strings"
	"time"

	"github.com/lasgi/lasgi/reference/server/bridge"
	"github.com/lasgi/lasgi/reference/server/internal/mutant"
	"github.com/lasgi/lasgi/spec/event"
)

// One HTTP exchange on a connection: the scope and the app call for a
// request, the wait for what the app sends (written as it comes, within the
// app timeout), and the end of the exchange.

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
	version, extensions := "1.1", c.srv.offers.http11
	if req.minor == 0 {
		// HTTP/1.0 has no chunked coding, so no trailers
		// (http.trailers.http10).
		version, extensions = "1.0", c.srv.offers.http10
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
	call.Groups = c.srv.offers.hub
	// Every body taken is counted in Written once flushed, and the call is
	// released when the exchange ends (bridge's lend.go).
	call.Lend = true
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
	defer func() {
		// The outside writer looks at c.out under wmu, which is held: from
		// here on nothing reads the call's events.
		c.out, c.outReq = nil, nil
		call.Release()
	}()
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
		n, err := c.writeEvents(call, w, st)
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
// A response that goes on while the app waits in receive() (st, the call's
// state as read before) gives its write buffer back to the pool until the
// next part: a stream paced by lasgi.timers would otherwise hold 16 KiB all
// the while. One the app is still sending keeps it, since the next part
// comes at once.
func (c *conn) writeEvents(call *bridge.Call, w *responseWriter, st bridge.State) (bodyBytes int, err error) {
	events := call.Take()
	if len(events) == 0 {
		return 0, nil
	}
	c.acquireWriter()
	w.bw = c.bw
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
	if err := c.bw.Flush(); err != nil {
		return bodyBytes, err
	}
	if w.headerWritten && !w.complete && st.Receiving {
		c.releaseWriter()
		w.bw = nil
	}
	return bodyBytes, nil
}

// endExchange tidies up after a complete response and decides whether the
// connection goes on: the unread rest of the body must be drained first.
func (c *conn) endExchange(w *responseWriter, pump *bodyPump, body *bodyReader) bool {
	// A body that could not be read to its end (trickled past the read
	// timeout, too large) ends the connection: closed with the client's
	// bytes unread, it would be reset, which can reach the client before
	// what was written to it, so it is closed lingering.
	if pump != nil {
		if err := pump.stop(); err != nil {
			c.lingeringClose()
			return false
		}
	} else if !body.Done() {
		if err := drain(c, body); err != nil {
			c.lingeringClose()
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
