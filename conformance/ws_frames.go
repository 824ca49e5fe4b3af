package conformance

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/adler32"
	"io"
	"time"
	"unicode/utf8"
)

// The checker's side of RFC 6455 framing, written apart from any server's:
// a client frame built from a fixture step exactly as it says (masked or not,
// reserved bits, any opcode, a close payload spelled raw), written whole or
// in pieces; and a server frame read with a bound on what is kept.

// Opcodes by the names fixtures use.
var opcodes = map[string]byte{
	"continuation": 0x0, "text": 0x1, "binary": 0x2, "close": 0x8, "ping": 0x9, "pong": 0xA,
}

func opcodeName(op byte) string {
	for name, v := range opcodes {
		if v == op {
			return name
		}
	}
	return fmt.Sprintf("opcode-%d", op)
}

// maxFrameHeader is the longest frame header: 2 bytes, 8 of length, 4 of mask.
const maxFrameHeader = 14

// splitPause is how long the checker waits between the pieces of a split
// frame, so that the server reads them apart.
const splitPause = 20 * time.Millisecond

// frameBytes builds the bytes of a client frame: FIN, RSV and opcode as the
// step says, the payload masked with a fresh key unless mask is false.
func frameBytes(f *FrameStep) ([]byte, error) {
	op, err := f.opcode()
	if err != nil {
		return nil, err
	}
	payload := f.payload()
	head := make([]byte, 2, maxFrameHeader)
	if f.fin() {
		head[0] = 0x80
	}
	head[0] |= byte(f.RSV&7)<<4 | op&0x0F
	masked := f.Mask == nil || *f.Mask
	if masked {
		head[1] = 0x80
	}
	switch n := len(payload); {
	case n < 126:
		head[1] |= byte(n)
	case n <= 0xFFFF:
		head[1] |= 126
		head = binary.BigEndian.AppendUint16(head, uint16(n))
	default:
		head[1] |= 127
		head = binary.BigEndian.AppendUint64(head, uint64(n))
	}
	out := make([]byte, 0, len(head)+4+len(payload))
	out = append(out, head...)
	if !masked {
		return append(out, payload...), nil
	}
	var key [4]byte
	if _, err := rand.Read(key[:]); err != nil {
		return nil, err
	}
	out = append(out, key[:]...)
	for i, b := range payload {
		out = append(out, b^key[i&3])
	}
	return out, nil
}

// writeFrame writes the step's frame, in pieces cut at f.Split (offsets into
// the frame's bytes, header included) with a pause between them.
func (w *wireConn) writeFrame(f *FrameStep) error {
	data, err := frameBytes(f)
	if err != nil {
		return err
	}
	from := 0
	for _, at := range append(append([]int(nil), f.Split...), len(data)) {
		at = min(at, len(data))
		if at <= from {
			continue
		}
		if from > 0 {
			time.Sleep(splitPause)
		}
		if err := w.write(data[from:at]); err != nil {
			return err
		}
		from = at
	}
	if op, _ := f.opcode(); op == opcodes["close"] {
		w.sentClose = true
	}
	return nil
}

// wireFrame is a frame as it came from the server.
type wireFrame struct {
	Fin     bool
	RSV     int
	Opcode  byte
	Masked  bool   // servers must not mask (RFC 6455 section 5.1)
	Payload []byte // nil when longer than maxKeptBody
	Len     int64
	Adler32 uint32
	// For a close frame: its code (0 when the payload is empty), its
	// reason, and what is wrong with the payload ("" when sound).
	Code       int
	Reason     string
	CloseError string
}

// errNoFrame: the server closed the connection where a frame was expected.
var errNoFrame = errors.New("the server closed the connection instead of sending a frame")

// readFrame reads one frame from the server. A payload past maxKeptBody is
// read through, summed but not kept.
func (w *wireConn) readFrame() (*wireFrame, error) {
	w.nc.SetReadDeadline(w.deadline())
	var head [2]byte
	if _, err := io.ReadFull(w.br, head[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errNoFrame
		}
		return nil, fmt.Errorf("reading a frame header: %w", describeNetErr(err))
	}
	f := &wireFrame{Fin: head[0]&0x80 != 0, RSV: int(head[0]>>4) & 7, Opcode: head[0] & 0x0F, Masked: head[1]&0x80 != 0}
	n := int64(head[1] & 0x7F)
	switch n {
	case 126:
		var ext [2]byte
		if _, err := io.ReadFull(w.br, ext[:]); err != nil {
			return nil, fmt.Errorf("reading a frame's 16-bit length: %w", describeNetErr(err))
		}
		n = int64(binary.BigEndian.Uint16(ext[:]))
	case 127:
		var ext [8]byte
		if _, err := io.ReadFull(w.br, ext[:]); err != nil {
			return nil, fmt.Errorf("reading a frame's 64-bit length: %w", describeNetErr(err))
		}
		u := binary.BigEndian.Uint64(ext[:])
		if u > 1<<62 {
			return nil, fmt.Errorf("a frame length of %d bytes, past any sane bound (the most significant bit must be 0)", u)
		}
		n = int64(u)
	}
	var key [4]byte
	if f.Masked {
		if _, err := io.ReadFull(w.br, key[:]); err != nil {
			return nil, fmt.Errorf("reading a frame's mask: %w", describeNetErr(err))
		}
	}
	f.Len = n
	sum := adler32.New()
	keep := n <= maxKeptBody
	if keep {
		f.Payload = make([]byte, 0, n)
	}
	buf := make([]byte, min(n, 64<<10))
	for off := int64(0); off < n; {
		w.nc.SetReadDeadline(w.deadline())
		m, err := io.ReadFull(w.br, buf[:min(int64(len(buf)), n-off)])
		p := buf[:m]
		if f.Masked {
			for i := range p {
				p[i] ^= key[(off+int64(i))&3]
			}
		}
		sum.Write(p)
		if keep {
			f.Payload = append(f.Payload, p...)
		}
		off += int64(m)
		if err != nil {
			return nil, fmt.Errorf("reading a %d-byte frame payload, after %d: %w", n, off, describeNetErr(err))
		}
	}
	f.Adler32 = sum.Sum32()
	if f.Opcode == opcodes["close"] && keep {
		f.parseClose()
	}
	w.gotClose = w.gotClose || f.Opcode == opcodes["close"]
	if f.Opcode == opcodes["close"] && !w.sentClose {
		// A client answers a close with a close (RFC 6455 section 5.5.1),
		// echoing the code; the server then closes the connection. A
		// failed answer is the server having closed already.
		reply := &FrameStep{Op: "close"}
		if f.Code != 0 {
			reply.Code = &f.Code
		}
		_ = w.writeFrame(reply)
	}
	return f, nil
}

// parseClose reads a close frame's code and reason, noting what RFC 6455
// section 5.5.1 does not allow.
func (f *wireFrame) parseClose() {
	switch p := f.Payload; {
	case len(p) == 0:
	case len(p) == 1:
		f.CloseError = "a close payload of one byte (a code takes two)"
	default:
		f.Code = int(binary.BigEndian.Uint16(p))
		f.Reason = string(p[2:])
		if !utf8.ValidString(f.Reason) {
			f.CloseError = "a close reason that is not valid UTF-8"
		}
	}
	if len(f.Payload) > 125 {
		f.CloseError = fmt.Sprintf("a close payload of %d bytes (control frames carry at most 125)", len(f.Payload))
	}
}
