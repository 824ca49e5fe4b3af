package server

// Go native fuzz targets for the request-head parser and the chunked body
// decoder. `go test` runs their seeds (testdata/fuzz/ and the f.Add calls)
// as plain tests; scripts/test fuzzes each for a few seconds, scripts/fuzz
// for longer (docs/reliability.md, "Fuzzing").

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http/httputil"
	"testing"

	"github.com/lasgi/lasgi/reference/server/internal/mutant"
	"github.com/lasgi/lasgi/spec/event"
)

// countingReader counts the bytes the bufio.Reader above it took.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// bufSize maps a fuzzed byte to a read buffer of 16 bytes (bufio's least)
// to readBuffer, the connection's: small ones reach the long-line paths of
// readLine with short inputs.
func bufSize(b uint8) int { return min(16<<(b%10), readBuffer) }

// heads are real request heads, good and malformed (malformed_test.go).
var heads = []string{
	"GET / HTTP/1.1\r\nHost: t\r\n\r\n",
	"GET /a%20b?x=1&y HTTP/1.1\r\nHost: example.test:8080\r\nUser-Agent: curl/8\r\nAccept: */*\r\n\r\n",
	"\r\nPOST /p HTTP/1.1\r\nHost: [::1]:80\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhello",
	"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
	"GET / HTTP/1.0\nConnection: keep-alive\n\n",
	"OPTIONS * HTTP/1.1\r\nHost:\r\nConnection: close\r\n\r\n",
	"GARBAGE\r\n\r\n",
	"GET /\r\n\r\n",
	"GET / HTTP/1.x\r\n\r\n",
	"GET / HTTP/2.0\r\n\r\n",
	"GET /a b HTTP/1.1\r\nHost: t\r\n\r\n",
	"GET / HTTP/1.1\r\nHost : t\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: t\r\nX: a\r\n b\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: t\r\nX: a\x00b\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
	"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: t\r\nExpect: magic\r\nContent-Length: 0\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: t\r\nX-Big: " + string(bytes.Repeat([]byte("a"), 300)) + "\r\n\r\n",
	"GET / HTTP/1.1\r\nHost:",
}

// FuzzReadRequest: readRequest never panics; it fails with an *httpError
// that has a status and a message (or errClosed on an empty connection), or
// gives a request whose method, target, version and header fields are what
// the grammar allows. It never takes more than maxHeader bytes for a head it
// accepts, nor more than maxHeader plus one read buffer for one it refuses,
// and an accepted head ends where its empty line does.
func FuzzReadRequest(f *testing.F) {
	for i, h := range heads {
		f.Add([]byte(h), uint16(4096), uint8(9))
		f.Add([]byte(h), uint16(len(h)/2), uint8(i))
	}
	f.Fuzz(func(t *testing.T, data []byte, max uint16, buf uint8) {
		maxHeader := int(max)%8192 + 1
		cr := &countingReader{r: bytes.NewReader(data)}
		br := bufio.NewReaderSize(cr, bufSize(buf))
		r, err := readRequest(br, maxHeader, mutant.Fault{})
		took := cr.n - br.Buffered()
		if err != nil {
			if r != nil {
				t.Fatalf("a request and an error: %v", err)
			}
			var he *httpError
			switch {
			case errors.As(err, &he):
				if he.status < 400 || he.status > 599 || he.msg == "" {
					t.Fatalf("httpError %d %q", he.status, he.msg)
				}
			case errors.Is(err, errClosed):
				if s := string(data); s != "" && s != "\n" && s != "\r\n" {
					t.Fatalf("errClosed for %q", data)
				}
			default:
				t.Fatalf("an error that is neither an httpError nor errClosed: %T %v", err, err)
			}
			if took > maxHeader+bufSize(buf) {
				t.Fatalf("read %d bytes of a refused head, max %d, buffer %d", took, maxHeader, bufSize(buf))
			}
			return
		}
		if took > maxHeader {
			t.Fatalf("accepted a head of %d bytes, max %d", took, maxHeader)
		}
		if head := data[:took]; !bytes.HasSuffix(head, []byte("\n\n")) && !bytes.HasSuffix(head, []byte("\n\r\n")) {
			t.Fatalf("the head does not end with an empty line: %q", head)
		}
		checkRequest(t, r)
	})
}

// checkRequest checks an accepted request against the grammar the parser
// enforces.
func checkRequest(t *testing.T, r *request) {
	if r.method == "" || !allBytes(r.method, event.IsTokenByte) {
		t.Fatalf("method %q", r.method)
	}
	if r.target == "" || !allBytes(r.target, func(c byte) bool { return c > ' ' && c != 0x7f }) {
		t.Fatalf("target %q", r.target)
	}
	if r.minor != 0 && r.minor != 1 {
		t.Fatalf("HTTP/1.%d", r.minor)
	}
	hosts := 0
	for _, h := range r.headers {
		if h.Name == "" || !allBytes(h.Name, event.IsTokenByte) || h.Name != lowerASCII([]byte(h.Name)) {
			t.Fatalf("header name %q", h.Name)
		}
		if !allBytes(h.Value, event.IsValueByte) || string(trimOWS([]byte(h.Value))) != h.Value {
			t.Fatalf("header %s value %q", h.Name, h.Value)
		}
		if h.Name == "host" {
			hosts++
		}
	}
	if hosts > 1 || r.minor == 1 && hosts != 1 {
		t.Fatalf("%d host fields in HTTP/1.%d", hosts, r.minor)
	}
	if r.contentLength < -1 || r.chunked && (r.contentLength != -1 || r.minor != 1) {
		t.Fatalf("content-length %d, chunked %v, HTTP/1.%d", r.contentLength, r.chunked, r.minor)
	}
	if r.expectContinue && r.minor != 1 {
		t.Fatal("100-continue in HTTP/1.0")
	}
}

func allBytes(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

// bodies are chunked bodies, good and malformed (malformed_test.go).
var bodies = []string{
	"3\r\nabc\r\n0\r\n\r\n",
	"1;ext=v\r\na\r\n10\r\n0123456789abcdef\r\n0\r\nTrailer: x\r\n\r\n",
	"3\nabc\n0\n\n",
	"A \t;x\r\n0123456789\r\n0\r\n\r\n",
	"1\r\na\r\nzz\r\n",
	"1\r\nabc\r\n",
	" 1\r\na\r\n0\r\n\r\n",
	"1;x=" + string(bytes.Repeat([]byte("e"), 200)) + "\r\na\r\n0\r\n\r\n",
	"7fffffffffffffff\r\nab",
	"0000000000000001\r\na\r\n0\r\n\r\n",
	"3e8\r\n" + string(bytes.Repeat([]byte("a"), 1000)) + "\r\n0\r\n\r\n",
	"0\r\n",
}

// FuzzChunkedBody: the chunked decoder never panics and always makes
// progress; what it decodes is never longer than its input, nor over the
// body limit; and httputil's chunked writer is its oracle: payload, cut into
// chunks and encoded by httputil.NewChunkedWriter, decodes to payload
// exactly, stopping at the end of the body.
func FuzzChunkedBody(f *testing.F) {
	for i, b := range bodies {
		f.Add([]byte(b), []byte(b), uint8(i), uint16(0), uint8(9))
		f.Add([]byte(b), []byte("hello, world"), uint8(3), uint16(len(b)/2), uint8(i))
	}
	f.Fuzz(func(t *testing.T, raw, payload []byte, cut uint8, limit uint16, buf uint8) {
		// Any input.
		out, err := decodeChunked(t, raw, int64(limit), bufSize(buf))
		if len(out) > len(raw) {
			t.Fatalf("decoded %d bytes from %d", len(out), len(raw))
		}
		if limit > 0 && len(out) > int(limit) {
			t.Fatalf("decoded %d bytes over a limit of %d", len(out), limit)
		}
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
			if he := (*httpError)(nil); !errors.As(err, &he) || he.msg == "" {
				t.Fatalf("error %T %v", err, err)
			}
		}

		// A valid encoding of payload, and a pipelined request after it.
		var enc bytes.Buffer
		cw := httputil.NewChunkedWriter(&enc)
		for rest, n := payload, int(cut)+1; len(rest) > 0; n = n*3/2 + 1 {
			n = min(n, len(rest))
			cw.Write(rest[:n])
			rest = rest[n:]
		}
		cw.Close()
		enc.WriteString("\r\n") // the empty trailer section
		body := enc.Len()
		enc.WriteString("GET /next HTTP/1.1\r\n")
		br := bufio.NewReaderSize(bytes.NewReader(enc.Bytes()), bufSize(buf))
		b := newBodyReader(br, &request{chunked: true, contentLength: -1, minor: 1}, 0, readBuffer)
		got, err := io.ReadAll(b)
		if err != nil || !bytes.Equal(got, payload) || !b.Done() {
			t.Fatalf("httputil's encoding of %q (%q) decoded to %q, %v (done %v)", payload, enc.Bytes()[:body], got, err, b.Done())
		}
		if rest, _ := io.ReadAll(br); string(rest) != "GET /next HTTP/1.1\r\n" {
			t.Fatalf("read into the next request: %q left", rest)
		}
	})
}

// decodeChunked reads a chunked body off raw as the connection would, and
// fails t if a read makes no progress.
func decodeChunked(t *testing.T, raw []byte, limit int64, size int) ([]byte, error) {
	br := bufio.NewReaderSize(bytes.NewReader(raw), size)
	b := newBodyReader(br, &request{chunked: true, contentLength: -1, minor: 1}, limit, readBuffer)
	var out []byte
	p := make([]byte, 512)
	for stalls := 0; ; {
		n, err := b.Read(p)
		out = append(out, p[:n]...)
		if err == io.EOF {
			if !b.Done() {
				t.Fatal("io.EOF before the body is done")
			}
			return out, nil
		}
		if err != nil {
			return out, err
		}
		if n == 0 {
			if stalls++; stalls > len(raw)+2 {
				t.Fatal("Read makes no progress")
			}
		}
	}
}
