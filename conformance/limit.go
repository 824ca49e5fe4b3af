package conformance

import (
	"crypto/sha256"
	"fmt"
	"io"
	"sync"
	"unicode/utf8"
)

// LimitWriter returns a writer that passes the first n bytes on to w and
// drops the rest, saying once that it did: for what an app prints, which
// must neither flood a report nor grow without bound. It never fails a
// write (the app must not see its output's fate).
func LimitWriter(w io.Writer, n int64) io.Writer { return &limitWriter{w: w, left: n, limit: n} }

type limitWriter struct {
	mu      sync.Mutex
	w       io.Writer
	left    int64
	limit   int64
	dropped bool
}

func (l *limitWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := len(p)
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	if len(p) > 0 {
		l.w.Write(p)
		l.left -= int64(len(p))
	}
	if len(p) < n && !l.dropped {
		l.dropped = true
		fmt.Fprintf(l.w, "\n[output past %d bytes dropped]\n", l.limit)
	}
	return n, nil
}

// MaxText bounds the text an app puts in a report: an error message, what
// it printed. A longer one is clipped by ClipText.
const MaxText = 4 << 10

// ClipText returns s when it is at most MaxText bytes, else its first
// MaxText bytes (to a UTF-8 boundary) followed by its size and SHA-256, so
// that a 50 MB error message costs a report 4 KiB and can still be told
// from another.
func ClipText(s string) string {
	if len(s) <= MaxText {
		return s
	}
	cut := MaxText
	for cut > MaxText-utf8.UTFMax && !utf8.RuneStart(s[cut]) {
		cut--
	}
	h := sha256.New()
	for i := 0; i < len(s); i += 64 << 10 {
		h.Write([]byte(s[i:min(i+64<<10, len(s))]))
	}
	return fmt.Sprintf("%s... (%d bytes, sha256 %x)", s[:cut], len(s), h.Sum(nil))
}
