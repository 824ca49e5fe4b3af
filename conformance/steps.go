package conformance

import (
	"fmt"
	"strings"
	"time"
)

// A stepKind is one kind of fixture step: how a step says it is one, how it
// is validated when the fixture loads, and how the client carries it out. The
// loader, the checker and the replay onto apps all go through stepKinds,
// every protocol's steps (protocol.go).
type stepKind struct {
	name string
	is   func(s *Step) bool
	// conn: the step acts on a client connection (opened on first use);
	// false for steps such as a pause.
	conn bool
	// check validates the step's own fields (where is "send[i]"), nil when
	// their types say all.
	check func(s *Step, where string, bad badField) error
	run   func(x *exchange, i int, s *Step, cc *clientConn) error
	// sent is what the step writes to its connection, the probe header left
	// out (nil: it writes nothing); ends, that it closes the connection.
	// The replay onto apps rebuilds the request from them.
	sent func(s *Step) string
	ends bool
}

// pauseStep waits between two steps (every protocol's).
var pauseStep = stepKind{name: "pause_ms", is: func(s *Step) bool { return s.PauseMS != 0 }, check: checkPause, run: (*exchange).pause}

// httpSteps are the HTTP/1.1 client's: raw bytes, a response read, a close,
// a generated body, and a wait for bytes from the server.
var httpSteps = []stepKind{
	{name: "data (a string)", is: func(s *Step) bool { return s.Data != "" }, conn: true, run: (*exchange).write, sent: dataSent},
	{name: "read", is: func(s *Step) bool { return s.Read }, conn: true, run: (*exchange).read},
	{name: "close", is: func(s *Step) bool { return s.Close }, conn: true, run: (*exchange).close, ends: true},
	{name: "fill", is: func(s *Step) bool { return s.Fill != nil }, conn: true, check: checkFill, run: (*exchange).fill, sent: func(s *Step) string { return fillBytes(s.Fill) }},
	{name: "await", is: func(s *Step) bool { return s.Await != "" }, conn: true, check: checkAwait, run: (*exchange).await},
}

// kindOf returns the step's kind, or an error naming the kinds when the
// step is none or several of them.
func kindOf(s *Step) (*stepKind, error) {
	var found *stepKind
	n := 0
	for i := range stepKinds {
		if stepKinds[i].is(s) {
			found = &stepKinds[i]
			n++
		}
	}
	if n != 1 {
		names := make([]string, len(stepKinds))
		for i, k := range stepKinds {
			names[i] = k.name
		}
		return nil, fmt.Errorf("a step is exactly one of: %s", strings.Join(names, ", "))
	}
	return found, nil
}

// badField makes the error about a field of the case being loaded.
type badField func(field, format string, args ...any) error

func checkPause(s *Step, where string, bad badField) error {
	if s.PauseMS < 0 || s.PauseMS > 10000 {
		return bad(where+".pause_ms", "%d is outside 1..10000", s.PauseMS)
	}
	return nil
}

func checkFill(s *Step, where string, bad badField) error {
	if s.Fill.Size <= 0 || s.Fill.Chunk < 0 {
		return bad(where+".fill", "size must be positive and chunk not negative")
	}
	return nil
}

func checkAwait(s *Step, where string, bad badField) error {
	if len(s.Await) > maxAwait {
		return bad(where+".await", "%d bytes; at most %d", len(s.Await), maxAwait)
	}
	return nil
}

// dataSent is a data step's bytes without the probe header, repeated.
func dataSent(s *Step) string {
	d := strings.Replace(string(s.Data), ProbePlaceholder, "", 1)
	if s.Repeat > 1 {
		d = strings.Repeat(d, s.Repeat)
	}
	return d
}

// write sends the step's bytes, the probe header in place of its
// placeholder. A server may refuse early and close: when the case expects
// that, or fewer responses than it allows have come, the failed write is
// noted and the responses it sent are read.
func (x *exchange) write(i int, s *Step, cc *clientConn) error {
	line := probeLine(x.c.Probe, x.token)
	if line != "" && strings.Contains(string(s.Data), ProbePlaceholder) {
		x.obs.probeSent = true
	}
	data := strings.Replace(string(s.Data), ProbePlaceholder, line, 1)
	if s.Repeat > 1 {
		data = strings.Repeat(data, s.Repeat)
	}
	cc.heads = append(cc.heads, strings.HasPrefix(data, "HEAD "))
	if err := cc.w.write([]byte(data)); err != nil {
		if x.c.wantsClosed() || x.c.maxResponses() > len(x.obs.Responses) {
			x.obs.notes = append(x.obs.notes, fmt.Sprintf("send[%d]: %v", i, err))
			return nil
		}
		return fmt.Errorf("send[%d]: %w", i, err)
	}
	return nil
}

func (x *exchange) pause(_ int, s *Step, _ *clientConn) error {
	select {
	case <-time.After(time.Duration(s.PauseMS) * time.Millisecond):
		return nil
	case <-x.ctx.Done():
		return x.ctx.Err()
	}
}

func (x *exchange) read(_ int, s *Step, cc *clientConn) error {
	r, err := cc.read()
	if err != nil {
		return fmt.Errorf("response %d (connection %d): %w", len(x.obs.Responses)+1, s.Conn, err)
	}
	x.obs.Responses = append(x.obs.Responses, r)
	return nil
}

func (x *exchange) close(_ int, _ *Step, cc *clientConn) error {
	cc.w.close()
	cc.closed = true
	return nil
}

func (x *exchange) fill(i int, s *Step, cc *clientConn) error {
	if err := cc.w.fill(s.Fill); err != nil {
		return fmt.Errorf("send[%d]: %w", i, err)
	}
	return nil
}

func (x *exchange) await(i int, s *Step, cc *clientConn) error {
	if err := cc.w.await([]byte(s.Await)); err != nil {
		return fmt.Errorf("send[%d]: waiting for %q from the server (connection %d) before sending more: %w", i, clip(string(s.Await)), s.Conn, err)
	}
	return nil
}
