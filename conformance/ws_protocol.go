package conformance

import (
	"fmt"
	"unicode/utf8"
)

// websocketProtocol is spec/websocket.md on the wire: after a handshake
// written as raw bytes and its 101 read as a response, the client sends
// frames built from the steps and reads the server's, which expect.frames
// checks.
var websocketProtocol = protocol{
	name: "websocket",
	steps: []stepKind{
		{name: "frame", is: func(s *Step) bool { return s.Frame != nil }, conn: true, check: checkFrame, run: (*exchange).sendFrame},
		{name: "read_frames", is: func(s *Step) bool { return s.ReadFrames != 0 }, conn: true, check: checkReadFrames, run: (*exchange).readFrames},
	},
	checks:   []fieldCheck{framesCheck{}},
	verbs:    websocketVerbs,
	appCases: websocketAppCases,
	readRest: (*exchange).readRestFrames,
}

// websocketVerbs answer a websocket scope: accept (with the pending hdr:
// headers and a subprotocol), send text or bytes, close. In a websocket
// scope, recv, drain and echo receive messages, and start, body and end send
// the denial response (fixtures/PROBE.md, "WebSocket scopes").
var websocketVerbs = []probeVerb{
	{name: "accept", max: 1}, {name: "text", min: 1, max: 1}, {name: "bytes", min: 1, max: 1},
	{name: "close", max: 2, check: func(args []string) error {
		if len(args) > 0 && !allDigits(args[0], 9) {
			return fmt.Errorf("takes a close code, got %q", args[0])
		}
		return nil
	}},
}

func checkReadFrames(s *Step, where string, bad badField) error {
	if s.ReadFrames < 0 || s.ReadFrames > 1000 {
		return bad(where+".read_frames", "%d is outside 1..1000", s.ReadFrames)
	}
	return nil
}

func (x *exchange) sendFrame(i int, s *Step, cc *clientConn) error {
	if err := cc.w.writeFrame(s.Frame); err != nil {
		if x.c.wantsClosed() || x.c.maxFrames() > len(x.obs.Frames) {
			// The server may have closed on an earlier frame, as the case
			// expects: what it sent is read next.
			x.obs.notes = append(x.obs.notes, fmt.Sprintf("send[%d]: %v", i, err))
			return nil
		}
		return fmt.Errorf("send[%d]: %w", i, err)
	}
	return nil
}

// readFrames reads a read_frames step's frames, stopping at a close frame
// as readRestFrames does: what did not come is the frames check's to tell,
// and a server that closed early (one without an extension a case needs)
// leaves the case's later steps to run.
func (x *exchange) readFrames(_ int, s *Step, cc *clientConn) error {
	for range s.ReadFrames {
		if cc.w.gotClose {
			return nil
		}
		f, err := cc.w.readFrame()
		if err != nil {
			return fmt.Errorf("frame %d (connection %d): %w", len(x.obs.Frames)+1, s.Conn, err)
		}
		x.obs.Frames = append(x.obs.Frames, f)
	}
	return nil
}

// readRestFrames reads, on the first connection, the frames an outcome
// expects beyond those already read. Reading stops at the connection's
// close frame: none may follow it (another connection's close, read last,
// says nothing of this one's).
func (x *exchange) readRestFrames() {
	main := x.conns[0]
	if main == nil || main.closed {
		return
	}
	for len(x.obs.Frames) < x.c.maxFrames() {
		if main.w.gotClose {
			return
		}
		f, err := main.w.readFrame()
		if err != nil {
			x.obs.frameErr = fmt.Errorf("frame %d: %w", len(x.obs.Frames)+1, err)
			return
		}
		x.obs.Frames = append(x.obs.Frames, f)
	}
}

// maxFrames is the most frames an outcome of the case expects.
func (c *Case) maxFrames() int {
	n := 0
	c.anyExpect(func(e *Expect) bool { n = max(n, len(e.Frames)); return false })
	return n
}

// framesCheck is expect.frames: the frames the server sent after the
// handshake, in order, each on the keys it lists. Whatever a case lists, a
// server frame that is masked, or a close frame whose payload RFC 6455 does
// not allow, is a finding.
type framesCheck struct{}

func (framesCheck) field() string      { return "frames" }
func (framesCheck) has(e *Expect) bool { return e.Frames != nil }
func (framesCheck) fromReport() bool   { return false }

func (framesCheck) observe(got *Expect, obs *Observation) {
	for _, f := range obs.Frames {
		fin := f.Fin
		fr := Frame{Op: opcodeName(f.Opcode), Fin: &fin, DataSum: &BodySum{Len: f.Len, Adler32: f.Adler32}}
		if f.Payload != nil && f.Opcode != opcodes["close"] {
			d := Bytes(f.Payload)
			fr.Data = &d
		}
		if f.Opcode == opcodes["close"] {
			code, reason := f.Code, Bytes(f.Reason)
			fr.Code, fr.Reason = &code, &reason
		}
		got.Frames = append(got.Frames, fr)
	}
}

func (framesCheck) compare(want, got *Expect, obs *Observation) []finding {
	var fs []finding
	add := func(format string, args ...any) { fs = append(fs, findingf("frames", format, args...)) }
	for i, f := range obs.Frames {
		switch {
		case f.Masked:
			add("frame %d is masked: a server must not mask its frames (RFC 6455 section 5.1)", i+1)
		case f.RSV != 0:
			add("frame %d has reserved bits %d set without an extension that defines them", i+1, f.RSV)
		case f.CloseError != "":
			add("frame %d: %s", i+1, f.CloseError)
		case f.Opcode == opcodes["text"] && f.Payload != nil && f.Fin && !utf8.Valid(f.Payload):
			add("frame %d: a text message that is not valid UTF-8", i+1)
		}
	}
	if len(got.Frames) < len(want.Frames) {
		why := ""
		if obs.frameErr != nil {
			why = fmt.Sprintf(" (%v)", obs.frameErr)
		}
		add("expected %d frames, got %d%s", len(want.Frames), len(got.Frames), why)
	}
	for i := 0; i < len(want.Frames) && i < len(got.Frames); i++ {
		w, g := want.Frames[i], got.Frames[i]
		where := fmt.Sprintf("frame %d: ", i+1)
		if w.Op != g.Op {
			add("%sexpected a %s frame, got %s", where, w.Op, g.Op)
			continue
		}
		if w.Fin != nil && *w.Fin != *g.Fin {
			add("%sfin: expected %v, got %v", where, *w.Fin, *g.Fin)
		}
		switch {
		case w.Data != nil && g.Data == nil:
			add("%sexpected %d bytes, got %d (too long to keep)", where, len(*w.Data), g.DataSum.Len)
		case w.Data != nil && *w.Data != *g.Data:
			add("%spayload: expected %q, got %q", where, clip(string(*w.Data)), clip(string(*g.Data)))
		}
		if w.DataSum != nil && *w.DataSum != *g.DataSum {
			add("%spayload: expected %d bytes with Adler-32 %08x, got %d bytes with %08x", where, w.DataSum.Len, w.DataSum.Adler32, g.DataSum.Len, g.DataSum.Adler32)
		}
		if w.Code != nil && (g.Code == nil || *w.Code != *g.Code) {
			add("%sclose code: expected %d, got %s", where, *w.Code, closeCodeText(g.Code))
		}
		if w.Reason != nil && (g.Reason == nil || *w.Reason != *g.Reason) {
			add("%sclose reason: expected %q, got %q", where, string(*w.Reason), string(bytesOrEmpty(g.Reason)))
		}
	}
	return fs
}

func closeCodeText(code *int) string {
	switch {
	case code == nil:
		return "no close frame"
	case *code == 0:
		return "none (an empty close payload)"
	}
	return fmt.Sprint(*code)
}

func bytesOrEmpty(b *Bytes) Bytes {
	if b == nil {
		return ""
	}
	return *b
}

// record keeps the keys each pinned frame lists, with the values observed.
func (framesCheck) record(e, got *Expect, _ *Observation) {
	e.Frames = append([]Frame(nil), e.Frames...)
	for i := range e.Frames {
		if i >= len(got.Frames) {
			break
		}
		w, g := &e.Frames[i], got.Frames[i]
		w.Op = g.Op
		recordPayload(&w.Data, &w.DataSum, g.Data, g.DataSum)
		if w.Fin != nil {
			w.Fin = g.Fin
		}
		if w.Code != nil {
			w.Code = g.Code
		}
		if w.Reason != nil {
			w.Reason = g.Reason
		}
	}
}
