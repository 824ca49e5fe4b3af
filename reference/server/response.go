package server

import (
	"bufio"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/lasgi/lasgi/reference/server/internal/mutant"
	"github.com/lasgi/lasgi/spec/event"
)

// responseWriter puts the app's response events on the wire. It owns the
// framing: content-length when the size is known before the first byte goes
// out, chunked otherwise on HTTP/1.1, close-delimited on HTTP/1.0.
type responseWriter struct {
	bw   *bufio.Writer
	req  *request
	head bool // HEAD request: the body is not sent

	start         *event.Event // held until the first body event fixes the framing
	headerWritten bool
	noBody        bool // HEAD, 204, 205, 304
	chunked       bool
	length        int64 // content-length on the wire, -1 if none
	written       int64 // body bytes the app sent (written or, for noBody, dropped)
	wantTrailers  bool
	trailers      []event.Header
	complete      bool
	mustClose     bool         // the connection cannot carry another request
	closeAsked    bool         // close after this response (client, app or shutdown)
	closing       *atomic.Bool // the server is shutting down
	fault         mutant.Fault
}

func newResponseWriter(bw *bufio.Writer, req *request, closing *atomic.Bool) *responseWriter {
	return &responseWriter{bw: bw, req: req, head: req.method == "HEAD", closeAsked: req.close, closing: closing, length: -1}
}

// write puts one event on the wire (into the buffered writer; the caller
// flushes and sees any write error there).
func (w *responseWriter) write(ev *event.Event) {
	switch ev.Type {
	case event.HTTPResponseStart:
		evCopy := *ev
		if w.fault.ID() != 0 {
			evCopy.Headers = faultResponseHeaders(w.fault, evCopy.Headers)
		}
		w.start = &evCopy
		w.wantTrailers = ev.Trailers
		if w.fault.Is(mutant.HeadAtStart) {
			// Framed as a body of unknown length yet to come.
			w.writeHead(&event.Event{Type: event.HTTPResponseBody, MoreBody: true})
		}
	case event.HTTPResponseBody:
		if !w.headerWritten {
			w.writeHead(ev)
		}
		w.writeBody(ev)
	case event.HTTPResponseTrailers:
		w.trailers = append(w.trailers, ev.Headers...)
		if !ev.MoreTrailers {
			w.finish()
		}
	}
}

func (w *responseWriter) writeHead(first *event.Event) {
	st := w.start
	w.headerWritten = true
	w.noBody = w.head && !w.fault.Is(mutant.HeadBodySent) || event.NoBodyStatus(st.Status)
	// 204 and 205 have no content and say so by their status: an app's own
	// content-length is dropped, and a 205 gets content-length: 0
	// (http.body.no-body-wire). A 304's content-length describes the
	// representation a GET would get, so it is kept.
	dropLength := st.Status == 204 || st.Status == 205
	declared := int64(-1)
	for _, h := range st.Headers {
		switch h.Name {
		case "content-length":
			if !dropLength {
				declared, _ = event.ParseLength(h.Value)
			}
			if w.fault.Is(mutant.AppLengthIgnored) {
				declared = -1
			}
		case "connection":
			if hasToken(h.Value, "close") {
				w.closeAsked = true
			}
		}
	}
	switch {
	case declared >= 0:
		w.length = declared
	case st.Status == 205:
		w.length = 0
	case st.Status == 204 || st.Status == 304:
		// no framing at all
	case !first.MoreBody && (!w.wantTrailers || w.fault.Is(mutant.TrailersNoChunking)):
		w.length = int64(len(first.Body))
	case (w.req.minor >= 1 || w.fault.Is(mutant.HTTP10Chunked)) && !w.head && !w.fault.Is(mutant.NeverChunked):
		w.chunked = true
	case w.head:
		// a HEAD answer without a known length says nothing about it
	default:
		w.mustClose = true // HTTP/1.0 without a length: the close ends the body
	}
	if w.mustClose || w.closing.Load() || w.fault.Is(mutant.CloseEveryResponse) {
		w.closeAsked = true
	}

	bw := w.bw
	writeStatusLine(bw, st.Status)
	hasDate := false
	for _, h := range st.Headers {
		switch h.Name {
		case "transfer-encoding", "connection", "keep-alive":
			if h.Name == "transfer-encoding" && w.fault.Is(mutant.AppTransferEncodingKept) {
				break
			}
			continue // the server owns the framing and the connection
		case "content-length":
			if declared < 0 {
				continue
			}
		case "date":
			hasDate = true
		}
		writeHeader(bw, h.Name, h.Value)
	}
	if declared < 0 && w.length >= 0 {
		writeHeader(bw, "content-length", strconv.FormatInt(w.length, 10))
	}
	if w.chunked {
		writeHeader(bw, "transfer-encoding", "chunked")
	}
	if !hasDate || w.fault.Is(mutant.DateAlwaysAdded) {
		writeHeader(bw, "date", httpDate())
	}
	if w.closeAsked {
		writeHeader(bw, "connection", "close")
	} else if w.req.minor == 0 {
		writeHeader(bw, "connection", "keep-alive")
	}
	bw.WriteString("\r\n")
}

func (w *responseWriter) writeBody(ev *event.Event) {
	n := len(ev.Body)
	w.written += int64(n)
	if n == 0 && ev.MoreBody && w.chunked && w.fault.Is(mutant.EmptyPieceEndsBody) {
		w.bw.WriteString("0\r\n\r\n")
	}
	if n > 0 && !w.noBody {
		if w.chunked {
			w.bw.WriteString(strconv.FormatInt(int64(n), chunkBase(w.fault, mutant.ResponseChunkSizeDecimal)))
			w.bw.WriteString("\r\n")
			writeLarge(w.bw, ev.Body)
			w.bw.WriteString("\r\n")
		} else {
			writeLarge(w.bw, ev.Body)
		}
	}
	if !ev.MoreBody && (!w.wantTrailers || w.fault.Is(mutant.TrailersNotAwaited)) {
		w.finish()
	}
}

// writeLarge writes s, which may be large. bufio.Writer.WriteString copies
// all of s through the buffer, one buffer-full and one write call at a time,
// because a net.Conn has no WriteString; Write hands a large slice to the
// socket at once. The slice shares s's bytes, which Write only reads.
func writeLarge(bw *bufio.Writer, s string) {
	if len(s) <= bw.Available() {
		bw.WriteString(s)
		return
	}
	bw.Write(readOnly(s))
}

// readOnly is s's bytes as a slice, for a writer that only reads them
// during the call: []byte(s) would copy them, and allocate when the
// writer keeps the slice in a field meanwhile.
func readOnly(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// finish ends the body: the last chunk and trailers, or a check that the
// declared length was met.
func (w *responseWriter) finish() {
	w.complete = true
	if w.chunked && w.fault.Is(mutant.LastChunkMissing) {
		return
	}
	if w.chunked {
		w.bw.WriteString("0\r\n")
		for _, h := range w.trailers {
			writeHeader(w.bw, h.Name, h.Value)
		}
		w.bw.WriteString("\r\n")
		return
	}
	if w.length >= 0 && !w.noBody && w.written < w.length {
		// The app declared more than it sent: the client can only tell from
		// the connection closing (spec rule http.body.content-length).
		w.mustClose = !w.fault.Is(mutant.ShortLengthKeptAlive)
	}
}

func writeStatusLine(bw *bufio.Writer, status int) {
	bw.WriteString("HTTP/1.1 ")
	bw.WriteString(strconv.Itoa(status))
	bw.WriteByte(' ')
	bw.WriteString(http.StatusText(status))
	bw.WriteString("\r\n")
}

func writeHeader(bw *bufio.Writer, name, value string) {
	bw.WriteString(name)
	bw.WriteString(": ")
	bw.WriteString(value)
	bw.WriteString("\r\n")
}

// httpDate returns the current time in IMF-fixdate, recomputed once a second.
func httpDate() string {
	now := time.Now()
	if c := dateCache.Load(); c != nil && c.sec == now.Unix() {
		return c.text
	}
	c := &cachedDate{sec: now.Unix(), text: now.UTC().Format(http.TimeFormat)}
	dateCache.Store(c)
	return c.text
}

type cachedDate struct {
	sec  int64
	text string
}

var dateCache atomic.Pointer[cachedDate]

// writeError writes a complete plain-text error response and asks to close.
func writeError(bw *bufio.Writer, status int, msg string) {
	writeErrorWith(bw, status, msg, nil)
}

// writeErrorWith is writeError with extra header fields (a 426's upgrade).
func writeErrorWith(bw *bufio.Writer, status int, msg string, extra [][2]string) {
	body := strconv.Itoa(status) + " " + http.StatusText(status) + "\n"
	if msg != "" {
		body += msg + "\n"
	}
	writeStatusLine(bw, status)
	writeHeader(bw, "content-type", "text/plain; charset=utf-8")
	writeHeader(bw, "content-length", strconv.Itoa(len(body)))
	writeHeader(bw, "date", httpDate())
	writeHeader(bw, "connection", "close")
	if status == http.StatusServiceUnavailable {
		writeHeader(bw, "retry-after", "1")
	}
	for _, h := range extra {
		if h[0] != "connection" { // it says close
			writeHeader(bw, h[0], h[1])
		}
	}
	bw.WriteString("\r\n")
	bw.WriteString(body)
}
