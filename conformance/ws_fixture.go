package conformance

import (
	"fmt"
	"sort"
	"strings"
)

// FrameStep is a WebSocket frame the client sends (a step's "frame"): by
// default a final, masked frame without reserved bits, so that a case
// spells out only what it breaks. fixtures/README.md documents each key.
type FrameStep struct {
	Op     string `json:"op,omitempty"`     // text, binary, continuation, close, ping, pong
	Opcode *int   `json:"opcode,omitempty"` // a raw opcode 0..15, for the reserved ones, instead of op
	Data   Bytes  `json:"data,omitempty"`   // the payload (for close: after the code)
	Fill   int64  `json:"fill,omitempty"`   // a generated payload of this many bytes instead of data
	Fin    *bool  `json:"fin,omitempty"`    // default true
	Mask   *bool  `json:"mask,omitempty"`   // default true: clients must mask
	RSV    int    `json:"rsv,omitempty"`    // reserved bits RSV1..3 as a number 0..7
	Code   *int   `json:"code,omitempty"`   // a close frame's code, before data
	// Split cuts the frame's bytes (header included) at these offsets into
	// writes a pause apart, so the server reads them apart.
	Split []int `json:"split,omitempty"`
}

func (f *FrameStep) fin() bool { return f.Fin == nil || *f.Fin }

func (f *FrameStep) opcode() (byte, error) {
	if f.Opcode != nil {
		return byte(*f.Opcode), nil
	}
	op, ok := opcodes[f.Op]
	if !ok {
		return 0, fmt.Errorf("op %q is not one of %s", f.Op, strings.Join(opNames(), ", "))
	}
	return op, nil
}

// payload is the frame's payload: for a close frame with a code, the code
// then data; fill generates the pattern 0123456789abcdef.
func (f *FrameStep) payload() []byte {
	var p []byte
	if f.Code != nil {
		p = append(p, byte(*f.Code>>8), byte(*f.Code))
	}
	if f.Fill > 0 {
		return append(p, fillBytes(&Fill{Size: f.Fill})...)
	}
	return append(p, f.Data...)
}

func opNames() []string {
	names := make([]string, 0, len(opcodes))
	for n := range opcodes {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// maxFrameFill bounds a generated frame payload.
const maxFrameFill = 64 << 20

func checkFrame(s *Step, where string, bad badField) error {
	f := s.Frame
	where += ".frame"
	switch {
	case f.Opcode != nil && f.Op != "":
		return bad(where, "op and opcode exclude each other")
	case f.Opcode != nil && (*f.Opcode < 0 || *f.Opcode > 15):
		return bad(where+".opcode", "%d is outside 0..15", *f.Opcode)
	case f.Opcode == nil:
		if _, err := f.opcode(); err != nil {
			return bad(where+".op", "%v", err)
		}
	}
	switch {
	case f.Fill < 0 || f.Fill > maxFrameFill:
		return bad(where+".fill", "%d is outside 1..%d", f.Fill, maxFrameFill)
	case f.Fill > 0 && f.Data != "":
		return bad(where, "data and fill exclude each other")
	case f.RSV < 0 || f.RSV > 7:
		return bad(where+".rsv", "%d is outside 0..7", f.RSV)
	case f.Code != nil && (*f.Code < 0 || *f.Code > 0xFFFF):
		return bad(where+".code", "%d does not fit the two bytes of a close code", *f.Code)
	}
	for i, at := range f.Split {
		if at <= 0 || i > 0 && at <= f.Split[i-1] {
			return bad(fmt.Sprintf("%s.split[%d]", where, i), "offsets are positive and increasing")
		}
	}
	return nil
}

// Frame is a frame the server must send (expect.frames), compared on the
// keys present.
type Frame struct {
	Op      string   `json:"op"` // text, binary, close, ping, pong, continuation, or opcode-N
	Data    *Bytes   `json:"data,omitempty"`
	DataSum *BodySum `json:"data_sum,omitempty"`
	Fin     *bool    `json:"fin,omitempty"`
	Code    *int     `json:"code,omitempty"`   // a close frame's code (0: none)
	Reason  *Bytes   `json:"reason,omitempty"` // a close frame's reason
}
