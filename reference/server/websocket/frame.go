// Package websocket is the WebSocket layer of the reference server (RFC
// 6455): the checks of an opening handshake request and the 101 response
// that accepts it (handshake.go), and a Conn that reads whole messages and
// writes frames over a connection the HTTP/1.1 front has upgraded (read.go,
// write.go), closing it with the codes spec/websocket.md and RFC 6455
// section 7.4 give (close.go).
//
// It negotiates no extension: a frame with an RSV bit set is a protocol
// error. permessage-deflate is left out on purpose (docs/performance.md,
// "WebSocket codec", says what it would cost).
package websocket

import "encoding/binary"

// Opcode is a frame's opcode (RFC 6455 section 5.2).
type Opcode byte

// The opcodes RFC 6455 defines. The others (3 to 7, 11 to 15) are reserved,
// and a frame carrying one is a protocol error.
const (
	OpContinuation Opcode = 0x0
	OpText         Opcode = 0x1
	OpBinary       Opcode = 0x2
	OpClose        Opcode = 0x8
	OpPing         Opcode = 0x9
	OpPong         Opcode = 0xA
)

// MaxControlPayload is the largest payload of a control frame (close, ping,
// pong), RFC 6455 section 5.5.
const MaxControlPayload = 125

// maxHeaderSize is the longest frame header: 2 bytes, 8 of extended length
// and 4 of masking key.
const maxHeaderSize = 14

const (
	finBit  = 0x80
	rsvBits = 0x70
	opBits  = 0x0f
	maskBit = 0x80
	lenBits = 0x7f
)

// String names the opcode as RFC 6455 does: "text", "binary", "close",
// "ping", "pong", "continuation", or "reserved 0xN".
func (op Opcode) String() string {
	switch op {
	case OpContinuation:
		return "continuation"
	case OpText:
		return "text"
	case OpBinary:
		return "binary"
	case OpClose:
		return "close"
	case OpPing:
		return "ping"
	case OpPong:
		return "pong"
	}
	const hex = "0123456789abcdef"
	return "reserved 0x" + string(hex[op&0xf])
}

// isControl reports whether op is a control opcode (the high bit of the
// four set), defined or reserved.
func (op Opcode) isControl() bool { return op&0x8 != 0 }

// isDefined reports whether RFC 6455 defines op.
func (op Opcode) isDefined() bool {
	switch op {
	case OpContinuation, OpText, OpBinary, OpClose, OpPing, OpPong:
		return true
	}
	return false
}

// header is a parsed frame header.
type header struct {
	fin    bool
	rsv    byte // the three RSV bits, in place (0x70)
	op     Opcode
	masked bool
	length int64
	key    [4]byte
}

// headerSize is the size of the header of a frame with this payload length,
// masked or not.
func headerSize(length int, masked bool) int {
	n := 2
	switch {
	case length > 0xffff:
		n += 8
	case length > 125:
		n += 2
	}
	if masked {
		n += 4
	}
	return n
}

// putHeader writes the header of a final frame into b, which must hold
// headerSize(length, key != nil) bytes, and returns its size. The length is
// encoded in the fewest bytes, as RFC 6455 section 5.2 requires of senders.
func putHeader(b []byte, op Opcode, length int, key *[4]byte) int {
	b[0] = finBit | byte(op)
	var m byte
	if key != nil {
		m = maskBit
	}
	n := 2
	switch {
	case length > 0xffff:
		b[1] = m | 127
		binary.BigEndian.PutUint64(b[2:10], uint64(length))
		n = 10
	case length > 125:
		b[1] = m | 126
		binary.BigEndian.PutUint16(b[2:4], uint16(length))
		n = 4
	default:
		b[1] = m | byte(length)
	}
	if key != nil {
		copy(b[n:n+4], key[:])
		n += 4
	}
	return n
}

// mask XORs b with the masking key, b starting at byte pos of the frame's
// payload (RFC 6455 section 5.3); masking and unmasking are the same. The
// bulk, in 16-byte blocks, goes to maskBlocks (SSE2 on amd64,
// mask_amd64.s; words elsewhere, mask_generic.go), with the key widened to
// eight bytes; the rest is done byte by byte.
func mask(b []byte, key [4]byte, pos int) {
	if r := pos & 3; r != 0 {
		key = [4]byte{key[r], key[(r+1)&3], key[(r+2)&3], key[(r+3)&3]}
	}
	if len(b) >= 16 {
		k := uint64(binary.LittleEndian.Uint32(key[:]))
		n := len(b) &^ 15
		maskBlocks(b[:n], k|k<<32)
		b = b[n:]
	}
	// Sixteen is a multiple of four: the key is still aligned with b[0].
	for i := range b {
		b[i] ^= key[i&3]
	}
}
