package websocket

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/lasgi/lasgi/reference/server/internal/mutant"
)

// retainLimit is the largest message buffer a Conn keeps for the next
// message; a larger one, grown for a large message, is dropped when the
// next ReadMessage starts, so that an idle connection holds at most this.
const retainLimit = 64 << 10

// eagerLimit is how much of a frame's declared length is allocated before
// its bytes arrive; past it the buffer at most doubles as they do, so a
// header announcing a huge frame costs what the peer actually sends.
const eagerLimit = 64 << 10

// ReadMessage reads the next data message and returns its opcode, OpText or
// OpBinary, and its payload, fragments reassembled. The payload belongs to
// the Conn and is valid until the next ReadMessage; a text payload is valid
// UTF-8.
//
// Control frames between and inside messages are dealt with on the way: a
// ping is answered with a pong of the same payload (unless this end has
// sent a close frame), a pong goes to Options.OnPong, and a close frame
// ends reading with a *CloseError carrying its code and reason, after
// ReadMessage has answered it with a close frame echoing the code (unless
// this end sent one first: then it was the answer).
//
// A frame that breaks RFC 6455 or the limit ends reading with a
// *ProtocolError saying which close code to send: 1002 for an unmasked
// client frame (a masked server frame in a client Conn), an RSV bit set, a
// reserved opcode, a continuation frame with no message begun, a new data
// frame inside a fragmented message, a fragmented control frame, a control
// payload over 125 bytes, a length with its top bit set, a close payload of
// one byte or a close code ValidCloseCode refuses; 1007 for a text message
// or close reason that is not UTF-8 (a text message is checked frame by
// frame, so a character may straddle two fragments); 1009 for a frame that
// takes the message past Options.MaxMessageSize, refused from its header
// alone, before any of its payload is read.
//
// Any other error is the transport's, wrapped with the frame it happened
// in: errors.Is(err, io.EOF) when the connection ended between frames, and
// io.ErrUnexpectedEOF inside one. Once ReadMessage has returned an error it
// returns the same one on every later call.
func (c *Conn) ReadMessage() (Opcode, []byte, error) {
	if c.rerr != nil {
		return 0, nil, c.rerr
	}
	if cap(c.msg) > retainLimit {
		c.msg = nil
	}
	c.msg = c.msg[:0]
	var op Opcode // the message's opcode, once its first frame is in
	good := 0     // how far a text message is known to be valid UTF-8
	if c.fault.Is(mutant.WSFragmentsSeparate) {
		op, c.fragOp = c.fragOp, 0
	}
	for {
		h, err := c.readHeader()
		if err != nil {
			return c.fail(err)
		}
		if err := c.checkHeader(&h, op); err != nil {
			return c.fail(err)
		}
		if h.op.isControl() {
			if err := c.readControl(&h); err != nil {
				return c.fail(err)
			}
			continue
		}
		if h.op != OpContinuation {
			op = h.op
		}
		if h.length > c.max-int64(len(c.msg)) {
			return c.fail(c.protocolError(&h, CloseMessageTooBig,
				"message past the limit of "+strconv.FormatInt(c.max, 10)+" bytes"))
		}
		if err := c.readPayload(&h); err != nil {
			return c.fail(err)
		}
		if op == OpText && !c.fault.Is(mutant.WSInvalidUTF8Delivered) {
			var ok bool
			if good, ok = checkUTF8(c.msg, good, h.fin); !ok {
				return c.fail(c.protocolError(&h, CloseInvalidPayload, "text message is not valid UTF-8"))
			}
		}
		if h.fin {
			return op, c.msg, nil
		}
		if c.fault.Is(mutant.WSFragmentsSeparate) {
			c.fragOp = op
			return op, c.msg, nil
		}
	}
}

// fail makes err the Conn's read error for good.
func (c *Conn) fail(err error) (Opcode, []byte, error) {
	if c.fault.Is(mutant.WSMessageAfterDisconnect) && errors.As(err, new(*CloseError)) {
		return 0, nil, err // reading goes on past the peer's close frame
	}
	c.rerr = err
	c.msg = nil
	return 0, nil, err
}

func (c *Conn) protocolError(h *header, code int, reason string) *ProtocolError {
	return &ProtocolError{Code: code, Reason: reason, Frame: c.frames, Op: h.op}
}

// transportError wraps a read error with the frame it happened in; an end
// of file inside a frame becomes io.ErrUnexpectedEOF.
func (c *Conn) transportError(err error, what string, inside bool) error {
	if inside && errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("websocket: reading frame %d %s: %w", c.frames, what, err)
}

// readHeader reads the next frame header into c.rhdr. It copies rather than
// peeks: a peek at a header cut by the end of the buffer would slide its
// first bytes to the front and refill behind them, leaving every later read
// into the buffer misaligned, which made the payload copies of 1 KiB
// frames up to twice as slow.
func (c *Conn) readHeader() (header, error) {
	c.frames++
	var h header
	b := c.rhdr[:2]
	if n, err := io.ReadFull(c.in, b); err != nil {
		return h, c.transportError(err, "header", n > 0)
	}
	h.fin = b[0]&finBit != 0
	h.rsv = b[0] & rsvBits
	h.op = Opcode(b[0] & opBits)
	h.masked = b[1]&maskBit != 0
	n := 0
	switch b[1] & lenBits {
	case 126:
		n = 2
	case 127:
		n = 8
	}
	if h.masked {
		n += 4
	}
	if n == 0 {
		h.length = int64(b[1] & lenBits)
		return h, nil
	}
	b = c.rhdr[2 : 2+n]
	if _, err := io.ReadFull(c.in, b); err != nil {
		return h, c.transportError(err, "header", true)
	}
	switch l := c.rhdr[1] & lenBits; l {
	case 126:
		h.length = int64(binary.BigEndian.Uint16(b))
		b = b[2:]
	case 127:
		u := binary.BigEndian.Uint64(b)
		if u>>63 != 0 {
			return h, c.protocolError(&h, CloseProtocolError, "frame length with its most significant bit set")
		}
		h.length = int64(u)
		b = b[8:]
	default:
		h.length = int64(l)
	}
	if h.masked {
		copy(h.key[:], b)
	}
	return h, nil
}

// checkHeader applies RFC 6455's rules on a frame header, op being the
// opcode of the message in progress (0 when none).
func (c *Conn) checkHeader(h *header, op Opcode) error {
	switch {
	case h.rsv != 0:
		return c.protocolError(h, CloseProtocolError, "RSV bits set with no extension negotiated")
	case !h.op.isDefined():
		return c.protocolError(h, CloseProtocolError, "reserved opcode")
	case !c.client && !h.masked:
		return c.protocolError(h, CloseProtocolError, "client frame not masked")
	case c.client && h.masked:
		return c.protocolError(h, CloseProtocolError, "server frame masked")
	case h.op.isControl() && !h.fin:
		return c.protocolError(h, CloseProtocolError, "fragmented control frame")
	case h.op.isControl() && h.length > MaxControlPayload:
		return c.protocolError(h, CloseProtocolError, "control frame payload over 125 bytes")
	case h.op == OpContinuation && op == 0:
		return c.protocolError(h, CloseProtocolError, "continuation frame with no message begun")
	case (h.op == OpText || h.op == OpBinary) && op != 0:
		return c.protocolError(h, CloseProtocolError, "new data frame inside a fragmented message")
	}
	return nil
}

// readPayload appends a data frame's payload, unmasked, to c.msg. The
// caller has checked that it fits the limit. The buffer grows as bytes
// arrive (eagerLimit), reading straight into it.
func (c *Conn) readPayload(h *header) error {
	left := h.length
	pos := 0
	for left > 0 {
		if len(c.msg) == cap(c.msg) {
			c.grow(left)
		}
		start := len(c.msg)
		k := min(int64(cap(c.msg)-start), left)
		c.msg = c.msg[:start+int(k)]
		if _, err := io.ReadFull(c.in, c.msg[start:]); err != nil {
			c.msg = c.msg[:start]
			return c.transportError(err, "payload", true)
		}
		if h.masked {
			mask(c.msg[start:], h.key, pos)
		}
		pos += int(k)
		left -= k
	}
	return nil
}

// grow makes room in c.msg for more of a frame with left bytes still to
// come: all of them up to eagerLimit, past it at most as much again as the
// buffer holds; and never less than that, within the message's limit, so
// that a message of many small fragments is copied a few times, not once
// for each fragment (100,000 one-byte fragments took a second of CPU when
// the buffer grew by each fragment's length, and the time grew with their
// square).
func (c *Conn) grow(left int64) {
	have := int64(cap(c.msg))
	add := min(max(have, eagerLimit), left)
	add = max(add, min(have, c.max-int64(len(c.msg))))
	b := make([]byte, len(c.msg), have+add)
	copy(b, c.msg)
	c.msg = b
}

// readControl reads a control frame's payload and acts on it.
func (c *Conn) readControl(h *header) error {
	p := c.ctrl[:h.length]
	if _, err := io.ReadFull(c.in, p); err != nil {
		return c.transportError(err, "payload", true)
	}
	if h.masked {
		mask(p, h.key, 0)
	}
	switch h.op {
	case OpPing:
		if c.fault.Is(mutant.WSPingNotAnswered) {
			break
		}
		if err := c.writeControl(OpPong, p, false); err != nil && !errors.Is(err, ErrCloseSent) {
			return fmt.Errorf("websocket: answering the ping of frame %d: %w", c.frames, err)
		}
	case OpPong:
		if c.onPong != nil {
			c.onPong(p)
		}
	case OpClose:
		code, reason, errCode, why := parseClose(p)
		if errCode != 0 {
			return c.protocolError(h, errCode, why)
		}
		// The echo carries the code alone (none for 1005), as RFC 6455
		// section 5.5.1 suggests.
		echo := p[:min(len(p), 2)]
		if err := c.writeControl(OpClose, echo, true); err != nil && !errors.Is(err, ErrCloseSent) {
			return fmt.Errorf("websocket: answering the close of frame %d: %w", c.frames, err)
		}
		return &CloseError{Code: code, Reason: reason}
	}
	return nil
}
