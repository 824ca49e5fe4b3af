package websocket

import "unicode/utf8"

// UTF-8 of a text message is checked frame by frame as the message grows,
// so that a message split inside a character is fine and one that breaks
// the encoding is refused at the first frame that shows it, without waiting
// for the rest. The state is how far the message is known good: the bytes
// after that are at most the start of one character still to be completed
// by the next frame, and are checked again with it.

// checkUTF8 checks b[from:], the part of a text message not yet known good,
// and returns how far b is good now. final says b is the whole message.
// ok is false when b cannot be the start of valid UTF-8, or, when final,
// is not valid UTF-8.
func checkUTF8(b []byte, from int, final bool) (good int, ok bool) {
	rest := b[from:]
	tail := incompleteTail(rest)
	if final && tail > 0 {
		return from, false
	}
	whole := rest[:len(rest)-tail]
	if !utf8.Valid(whole) {
		return from, false
	}
	if tail > 0 && !validStart(rest[len(rest)-tail:]) {
		return from, false
	}
	return from + len(whole), true
}

// incompleteTail is the length of the character b ends in the middle of: a
// lead byte and fewer continuation bytes than it announces. It is 0 when b
// ends on a complete character or on a byte no character can start with
// (which utf8.Valid then refuses).
func incompleteTail(b []byte) int {
	n := len(b)
	for i := 1; i <= 3 && i <= n; i++ {
		c := b[n-i]
		if c&0xc0 == 0x80 { // a continuation byte: look further back
			continue
		}
		if seqLen(c) > i {
			return i
		}
		return 0
	}
	return 0
}

// seqLen is the length of the character lead byte c starts, or 0 when c
// starts none of two bytes or more (ASCII, continuation bytes, C0, C1 and
// F5 to FF).
func seqLen(c byte) int {
	switch {
	case c >= 0xc2 && c <= 0xdf:
		return 2
	case c >= 0xe0 && c <= 0xef:
		return 3
	case c >= 0xf0 && c <= 0xf4:
		return 4
	}
	return 0
}

// validStart reports whether t, a lead byte followed by fewer continuation
// bytes than it needs, can still become a valid character: the second byte
// has the narrower range some lead bytes require (RFC 3629 section 4), which
// excludes overlong forms, surrogates and code points past U+10FFFF.
func validStart(t []byte) bool {
	if len(t) < 2 {
		return true
	}
	lo, hi := byte(0x80), byte(0xbf)
	switch t[0] {
	case 0xe0:
		lo = 0xa0
	case 0xed:
		hi = 0x9f
	case 0xf0:
		lo = 0x90
	case 0xf4:
		hi = 0x8f
	}
	return t[1] >= lo && t[1] <= hi
}
