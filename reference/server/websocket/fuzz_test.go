package websocket

// FuzzReadMessage feeds arbitrary bytes to a server Conn. `go test` runs its
// seeds (testdata/fuzz/FuzzReadMessage) as a plain test; fuzz it with
//
//	go test -run '^$' -fuzz '^FuzzReadMessage$' -fuzztime 30s ./reference/server/websocket/

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
	"unicode/utf8"
)

// fuzzMax is the message limit under fuzzing: small, so that inputs reach it.
const fuzzMax = 4096

// readResult is all a Conn made of a stream: the messages, the error that
// ended them, and what it wrote back.
type readResult struct {
	msgs []string // opcode byte, then payload
	err  string
	out  []byte
}

// readStream reads stream to its end with a server Conn, checking on the
// way what must hold of every message and of the buffer.
func readStream(t *testing.T, r io.Reader) (readResult, error) {
	var out bytes.Buffer
	c := NewConn(r, &out, Options{MaxMessageSize: fuzzMax})
	var res readResult
	for {
		op, p, err := c.ReadMessage()
		if cap(c.msg) > fuzzMax {
			t.Fatalf("message buffer of %d bytes, past the limit of %d", cap(c.msg), fuzzMax)
		}
		if err != nil {
			res.err, res.out = err.Error(), out.Bytes()
			return res, err
		}
		if op != OpText && op != OpBinary {
			t.Fatalf("ReadMessage returned opcode %s", op)
		}
		if len(p) > fuzzMax {
			t.Fatalf("message of %d bytes, past the limit of %d", len(p), fuzzMax)
		}
		if op == OpText && !utf8.Valid(p) {
			t.Fatalf("text message %q is not UTF-8", p)
		}
		res.msgs = append(res.msgs, string(rune(op))+string(p))
	}
}

func FuzzReadMessage(f *testing.F) {
	f.Add([]byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}) // RFC 6455 5.7, masked "Hello"
	f.Fuzz(func(t *testing.T, stream []byte) {
		whole, err := readStream(t, bytes.NewReader(stream))

		// The error is one of the three kinds ReadMessage documents.
		var pe *ProtocolError
		var ce *CloseError
		switch {
		case errors.As(err, &pe):
			if pe.Code != CloseProtocolError && pe.Code != CloseInvalidPayload && pe.Code != CloseMessageTooBig {
				t.Fatalf("protocol error with close code %d: %v", pe.Code, pe)
			}
			if len(pe.Reason) > MaxCloseReason || checkCloseArgs(pe.Code, pe.Reason) != "" {
				t.Fatalf("protocol error whose close frame could not be sent: %v", pe)
			}
		case errors.As(err, &ce):
			if ce.Code != CloseNoStatus && !ValidCloseCode(ce.Code) {
				t.Fatalf("close error with code %d", ce.Code)
			}
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		default:
			t.Fatalf("unexpected error %v", err)
		}

		// What the Conn wrote is valid server frames: pongs, and a close
		// last if any.
		cl := NewConn(bytes.NewReader(whole.out), io.Discard, Options{Client: true})
		if _, _, err := cl.ReadMessage(); !errors.Is(err, io.EOF) && !errors.As(err, &ce) {
			t.Fatalf("the Conn wrote %x, which reads as %v", whole.out, err)
		}

		// Read a byte at a time, the stream gives the same.
		bytewise, _ := readStream(t, iotest.OneByteReader(bytes.NewReader(stream)))
		if whole.err != bytewise.err || !bytes.Equal(whole.out, bytewise.out) || len(whole.msgs) != len(bytewise.msgs) {
			t.Fatalf("read whole: %d messages, %q, wrote %x; a byte at a time: %d messages, %q, wrote %x",
				len(whole.msgs), whole.err, whole.out, len(bytewise.msgs), bytewise.err, bytewise.out)
		}
		for i := range whole.msgs {
			if whole.msgs[i] != bytewise.msgs[i] {
				t.Fatalf("message %d: %q read whole, %q a byte at a time", i, whole.msgs[i], bytewise.msgs[i])
			}
		}
	})
}
