package conformance

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Observation is everything a case run saw.
type Observation struct {
	Responses []*wireResponse
	Frames    []*wireFrame       // WebSocket frames from the server, after the handshake
	Report    *ProbeReport       // the probe's report, nil when none came
	Closed    bool               // the server closed the connection
	AppCalled *bool              // for app_not_called: nil when unknown
	Client    []any              // the first connection's local end, as scope.client should show it
	Server    []any              // and its remote end, as scope.server should show it
	notes     []string           // things worth saying when the case fails
	launch    *launchObservation // a launched server's end and record
	// Elapsed is how long the exchange took, from its first step until
	// what the server owed on the first connection was read.
	Elapsed time.Duration

	probeSent bool   // a lasgi-probe header went out with the request
	noProbe   error  // a success came without evidence that the probe ran (probeEvidence)
	reportErr error  // the probe's report could not be had; the wire is still compared
	readErr   error  // why fewer responses were read than the case expects at most
	frameErr  error  // why fewer frames were read than the case expects at most
	closeErr  string // why the connection did not close when it should have
}

// readErrText says why no more responses came, for a message.
func (o *Observation) readErrText() string {
	if o.readErr == nil {
		return ""
	}
	return fmt.Sprintf(" (%v)", o.readErr)
}

// exchange is one run of a case's steps against the server.
type exchange struct {
	k     *Checker
	c     *Case
	ctx   context.Context
	obs   *Observation
	token string // the probe's report is kept under it; "" when not needed
	conns map[int]*clientConn
	addr  string     // the server's: the Checker's, or the launched one's
	life  *launching // the launched server, for a Launch case
}

// clientConn is one of a case's client connections.
type clientConn struct {
	w      *wireConn
	heads  []bool // for each request written, whether it was HEAD
	closed bool
}

// read reads the response to the oldest request not yet answered.
func (cc *clientConn) read() (*wireResponse, error) {
	head := false
	if len(cc.heads) > 0 {
		head, cc.heads = cc.heads[0], cc.heads[1:]
	}
	return cc.w.readResponse(head)
}

// conn returns client connection i, dialling it on first use.
func (x *exchange) conn(i int) (*clientConn, error) {
	if cc, ok := x.conns[i]; ok {
		return cc, nil
	}
	if x.addr == "" {
		return nil, errNotListening
	}
	w, err := dialWire(x.addr, x.k.timeout())
	if err != nil {
		return nil, err
	}
	x.conns[i] = &clientConn{w: w}
	if i == 0 {
		x.obs.Client, x.obs.Server = addrPair(w.nc.LocalAddr()), addrPair(w.nc.RemoteAddr())
	}
	return x.conns[i], nil
}

func (x *exchange) closeAll() {
	for _, cc := range x.conns {
		cc.w.close()
	}
}

// Observe runs c's exchange and gathers what happened, without judging it.
func (k *Checker) Observe(ctx context.Context, c *Case) (*Observation, error) {
	x := &exchange{k: k, c: c, ctx: ctx, obs: &Observation{}, conns: map[int]*clientConn{}, addr: k.Addr}
	if c.Report == "kept" || c.wantsAppNotCalled() || c.Probe != "" && c.sendsProbe() {
		x.token = fmt.Sprintf("t%d-%d", time.Now().UnixNano(), k.tokens.Add(1))
	}
	defer x.closeAll()
	stop := context.AfterFunc(ctx, x.closeAll)
	defer stop()
	for _, p := range protocols {
		if p.begin != nil {
			if err := p.begin(x); err != nil {
				return x.obs, err
			}
		}
	}
	defer func() {
		for _, p := range protocols {
			if p.cleanup != nil {
				p.cleanup(x)
			}
		}
	}()

	began := time.Now()
	for i := range c.Send {
		s := &c.Send[i]
		kind, err := kindOf(s)
		if err != nil {
			return x.obs, fmt.Errorf("send[%d]: %w", i, err)
		}
		var cc *clientConn
		if kind.conn {
			if cc, err = x.conn(s.Conn); errors.Is(err, errNotListening) {
				continue // a launched server that exited first: nothing to send to
			} else if err != nil {
				return x.obs, err
			}
			if cc.closed {
				return x.obs, fmt.Errorf("send[%d]: connection %d was closed by an earlier step", i, s.Conn)
			}
		}
		if err := kind.run(x, i, s, cc); err != nil {
			return x.obs, err
		}
	}
	for _, p := range protocols {
		if p.readRest != nil {
			p.readRest(x)
		}
	}
	x.obs.Elapsed = time.Since(began)
	x.waitClosed()
	obs := x.obs
	if err := k.collectReport(ctx, c, x.addr, x.token, obs); err != nil {
		if errors.Is(err, errSkip) || ctx.Err() != nil {
			return obs, err
		}
		obs.reportErr = err
	}
	obs.noProbe = k.probeEvidence(ctx, c, x.addr, x.token, obs)
	// A launched server is stopped only now: a kept report is fetched from it.
	for _, p := range protocols {
		if p.end != nil {
			if err := p.end(x); err != nil {
				return obs, err
			}
		}
	}
	for _, ext := range c.Requires {
		if obs.Report != nil && !obs.Report.offers(ext) {
			return obs, &skipError{fmt.Sprintf("the server does not offer the %s extension", ext)}
		}
	}
	return obs, nil
}

// readResponses reads the rest of the expected responses, which come on the
// first connection.
func (x *exchange) readResponses() {
	c, obs := x.c, x.obs
	main := x.conns[0]
	if main == nil || main.closed {
		return
	}
	want := c.maxResponses()
	if want == 0 && c.needsReport() {
		// The report is in its head, or (kept) is complete once the app has
		// answered.
		want = 1
	}
	for len(obs.Responses) < want {
		r, err := main.read()
		if err != nil {
			// Judged with the responses: an outcome the case permits may
			// have fewer (the server closed instead).
			obs.readErr = fmt.Errorf("response %d: %w", len(obs.Responses)+1, err)
			break
		}
		obs.Responses = append(obs.Responses, r)
	}
}

// waitClosed waits for the server to close the first connection when an
// outcome wants that. Waiting costs a step deadline on a server that keeps
// the connection open, so it is waited for only when the server stopped
// short of what an outcome expects, or ended what it sent with the close (a
// response cut off or delimited by it, a close frame), and so has closed
// already.
func (x *exchange) waitClosed() {
	c, obs := x.c, x.obs
	main := x.conns[0]
	if main == nil || main.closed {
		return
	}
	ended := false
	if n := len(obs.Responses); n > 0 {
		ended = obs.Responses[n-1].Truncated || obs.Responses[n-1].Framing == "close"
	}
	ended = ended || main.w.gotClose
	short := len(obs.Responses) < c.maxResponses() || len(obs.Frames) < c.maxFrames()
	switch {
	case c.Expect.Connection != "" || c.wantsClosed() && (short || ended):
		if err := main.w.waitClosed(); err != nil {
			obs.closeErr = err.Error()
		} else {
			obs.Closed = true
		}
	case c.wantsClosed():
		obs.closeErr = fmt.Sprintf("it sent %d responses and %d frames and was not waited for", len(obs.Responses), len(obs.Frames))
	}
}
