package websocket

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"unicode/utf8"
)

// ErrCloseSent is what the Write methods return once this end has sent a
// close frame: RFC 6455 section 5.5.1 allows no data frame after it.
var ErrCloseSent = errors.New("websocket: a close frame was already sent on this connection")

// writeBufSize is the size of the pooled buffers a frame is put together
// in: a frame up to it (header and payload) goes out in one Write; a larger
// server frame goes out as header and payload in one writev (net.Buffers).
// Pooled rather than per Conn, so that an idle connection holds none.
const writeBufSize = 4096

var writeBufs = sync.Pool{New: func() any { b := make([]byte, writeBufSize); return &b }}

// WriteMessage writes a data message, OpText or OpBinary, as one frame. A
// text payload must be valid UTF-8. After WriteClose, or after ReadMessage
// has answered the peer's close, it returns ErrCloseSent. A failed write
// may have left part of a frame on the wire, so every later write returns
// that same error.
func (c *Conn) WriteMessage(op Opcode, payload []byte) error {
	switch op {
	case OpText:
		if !utf8.Valid(payload) {
			return errors.New("websocket: WriteMessage: text message of " + strconv.Itoa(len(payload)) + " bytes is not valid UTF-8")
		}
	case OpBinary:
	default:
		return errors.New("websocket: WriteMessage of a " + op.String() + " frame: only text and binary are messages")
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closeSent {
		return ErrCloseSent
	}
	return c.writeFrame(op, payload)
}

// WritePing writes a ping frame with payload, at most MaxControlPayload
// bytes. The peer's pong arrives through Options.OnPong.
func (c *Conn) WritePing(payload []byte) error {
	if len(payload) > MaxControlPayload {
		return errors.New("websocket: WritePing: payload of " + strconv.Itoa(len(payload)) + " bytes is past 125")
	}
	return c.writeControl(OpPing, payload, false)
}

// WriteClose writes a close frame with code and reason and starts the
// closing handshake: no data frame may follow (ErrCloseSent), and the
// peer's answering close frame ends ReadMessage with a *CloseError. code
// must satisfy ValidCloseCode, or be CloseNoStatus (1005) with no reason for
// a close frame without payload; reason is valid UTF-8 of at most
// MaxCloseReason bytes. A second WriteClose returns ErrCloseSent.
func (c *Conn) WriteClose(code int, reason string) error {
	if why := checkCloseArgs(code, reason); why != "" {
		return errors.New("websocket: WriteClose: " + why)
	}
	var p [MaxControlPayload]byte
	n := 0
	if code != CloseNoStatus {
		binary.BigEndian.PutUint16(p[:2], uint16(code))
		n = 2 + copy(p[2:], reason)
	}
	return c.writeControl(OpClose, p[:n], true)
}

// writeControl writes a control frame; close marks the close frame.
func (c *Conn) writeControl(op Opcode, payload []byte, close bool) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closeSent {
		return ErrCloseSent
	}
	if close {
		c.closeSent = true
	}
	return c.writeFrame(op, payload)
}

// writeFrame writes one final frame; c.wmu is held.
func (c *Conn) writeFrame(op Opcode, payload []byte) error {
	if c.werr != nil {
		return c.werr
	}
	var key *[4]byte
	if c.client {
		if _, err := rand.Read(c.wkey[:]); err != nil {
			return fmt.Errorf("websocket: masking key for a %s frame: %w", op, err)
		}
		key = &c.wkey
	}
	hn := headerSize(len(payload), key != nil)
	var err error
	switch {
	case hn+len(payload) <= writeBufSize:
		bp := writeBufs.Get().(*[]byte)
		b := (*bp)[:hn+len(payload)]
		putHeader(b, op, len(payload), key)
		copy(b[hn:], payload)
		if key != nil {
			mask(b[hn:], *key, 0)
		}
		_, err = c.w.Write(b)
		writeBufs.Put(bp)
	case key == nil:
		putHeader(c.whdr[:], op, len(payload), nil)
		c.bufArr = [2][]byte{c.whdr[:hn], payload}
		c.bufs = c.bufArr[:]
		_, err = c.bufs.WriteTo(c.w)
		c.bufArr, c.bufs = [2][]byte{}, nil // keep no hold on the caller's payload
	default:
		// A client's large frame: the payload is masked piece by piece in
		// a pooled buffer, never in the caller's slice.
		bp := writeBufs.Get().(*[]byte)
		b := *bp
		putHeader(b, op, len(payload), key)
		n := hn
		for pos := 0; pos < len(payload) && err == nil; n = 0 {
			k := copy(b[n:], payload[pos:])
			mask(b[n:n+k], *key, pos)
			_, err = c.w.Write(b[:n+k])
			pos += k
		}
		writeBufs.Put(bp)
	}
	if err != nil {
		c.werr = fmt.Errorf("websocket: writing a %s frame of %d bytes: %w", op, len(payload), err)
		return c.werr
	}
	return nil
}
