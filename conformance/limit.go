package conformance

import (
	"fmt"
	"io"
	"sync"
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
