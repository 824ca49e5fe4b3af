package websocket

import (
	"encoding/binary"
	"strconv"
	"unicode/utf8"
)

// Close codes (RFC 6455 section 7.4.1) this package uses by name.
const (
	CloseNormal          = 1000
	CloseGoingAway       = 1001
	CloseProtocolError   = 1002
	CloseUnsupportedData = 1003
	CloseNoStatus        = 1005 // never on the wire: a close frame without a code
	CloseAbnormal        = 1006 // never on the wire: no close frame at all
	CloseInvalidPayload  = 1007
	ClosePolicyViolation = 1008
	CloseMessageTooBig   = 1009
	CloseInternalError   = 1011
)

// MaxCloseReason is the longest close reason: a control frame's 125 bytes
// less the two of the code.
const MaxCloseReason = MaxControlPayload - 2

// ValidCloseCode reports whether an endpoint may put code in a close frame,
// the set spec rule websocket.close.code gives: 1000 to 1003 and 1007 to 1014
// (RFC 6455 section 7.4.1 and IANA's registry), and 3000 to 4999 for
// libraries, frameworks and applications. Everything else is refused, when
// received, as a protocol error: below 1000 (unused), 1004 (reserved), 1005
// and 1006 (never sent: they stand for "no code" and "no close frame"),
// 1015 (TLS failure, never sent), 1016 to 2999 (reserved for the protocol),
// and from 5000 on (undefined).
func ValidCloseCode(code int) bool {
	switch {
	case code >= 1000 && code <= 1003:
		return true
	case code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// CloseError is what ReadMessage returns when the peer sent a valid close
// frame: its code (CloseNoStatus, 1005, when the frame had no payload) and
// reason. By then ReadMessage has answered with a close frame of its own,
// unless this end had sent one first.
type CloseError struct {
	Code   int
	Reason string
}

func (e *CloseError) Error() string {
	s := "websocket: the peer closed the connection with code " + strconv.Itoa(e.Code)
	if e.Reason != "" {
		s += ", reason " + strconv.Quote(e.Reason)
	}
	return s
}

// ProtocolError is what ReadMessage returns when the peer broke the
// protocol or a limit: the connection must be closed with a close frame of
// Code and Reason (WriteClose(e.Code, e.Reason)), and the transport closed
// soon after, since the frame stream can no longer be followed. Reason is
// short ASCII, at most MaxCloseReason bytes, fit to go to the peer.
type ProtocolError struct {
	Code   int    // CloseProtocolError, CloseInvalidPayload or CloseMessageTooBig
	Reason string // what rule was broken, for the close frame and the log
	Frame  int64  // which frame of the connection broke it, from 1
	Op     Opcode // that frame's opcode
}

func (e *ProtocolError) Error() string {
	return "websocket: frame " + strconv.FormatInt(e.Frame, 10) + " (" + e.Op.String() + "): " +
		e.Reason + " (close " + strconv.Itoa(e.Code) + ")"
}

// parseClose reads a close frame's payload (RFC 6455 section 5.5.1): empty,
// or a two-byte code and a UTF-8 reason. A one-byte payload or a code
// ValidCloseCode refuses is a protocol error (1002); a reason that is not
// UTF-8, an invalid payload (1007).
func parseClose(p []byte) (code int, reason string, errCode int, why string) {
	switch len(p) {
	case 0:
		return CloseNoStatus, "", 0, ""
	case 1:
		return 0, "", CloseProtocolError, "close payload of 1 byte"
	}
	code = int(binary.BigEndian.Uint16(p))
	if !ValidCloseCode(code) {
		return 0, "", CloseProtocolError, "invalid close code " + strconv.Itoa(code)
	}
	if !utf8.Valid(p[2:]) {
		return 0, "", CloseInvalidPayload, "close reason is not valid UTF-8"
	}
	return code, string(p[2:]), 0, ""
}

// checkCloseArgs says what is wrong with a close frame WriteClose is asked
// to send, or "" when nothing is.
func checkCloseArgs(code int, reason string) string {
	if code == CloseNoStatus {
		if reason != "" {
			return "a close frame without a code (1005) cannot carry a reason"
		}
		return ""
	}
	if !ValidCloseCode(code) {
		return "close code " + strconv.Itoa(code) + " may not be sent (1000-1003, 1007-1014, 3000-4999)"
	}
	if len(reason) > MaxCloseReason {
		return "close reason of " + strconv.Itoa(len(reason)) + " bytes is past " + strconv.Itoa(MaxCloseReason)
	}
	if !utf8.ValidString(reason) {
		return "close reason is not valid UTF-8"
	}
	return ""
}
