package conformance

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"hash/adler32"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// maxKeptBody is how much of a response body is kept to compare byte for
// byte; longer bodies are compared by length and Adler-32.
const maxKeptBody = 1 << 20

// maxHead bounds a response head the checker will read.
const maxHead = 256 << 10

// wireResponse is a response as it came off the wire.
type wireResponse struct {
	Status   int
	Interim  []int       // 1xx responses before it
	Headers  [][2]string // names lowercased, in order
	Framing  string      // length, chunked, close, none
	Body     []byte      // nil when longer than maxKeptBody
	BodyLen  int64
	Adler32  uint32
	Trailers [][2]string
	// Truncated: the connection closed before the framing said the body
	// ended (what a server does when an app fails mid-response).
	Truncated bool
}

// errTruncated marks a body cut off by the connection closing.
var errTruncated = errors.New("truncated")

func (r *wireResponse) header(name string) (string, bool) {
	for _, h := range r.Headers {
		if h[0] == name {
			return h[1], true
		}
	}
	return "", false
}

// headerCount counts the fields named name (case-insensitively).
func (r *wireResponse) headerCount(name string) int {
	n := 0
	for _, h := range r.Headers {
		if strings.EqualFold(h[0], name) {
			n++
		}
	}
	return n
}

// wireConn is a client connection where every read and write has a
// deadline, and the whole exchange has one too.
type wireConn struct {
	nc      net.Conn
	br      *bufio.Reader
	step    time.Duration
	overall time.Time
	// sentClose: a WebSocket close frame went out, so a close from the
	// server is its answer and needs none (RFC 6455 section 5.5.1).
	sentClose bool
	// gotClose: the server sent a WebSocket close frame, after which no
	// frame may come.
	gotClose bool
}

func dialWire(addr string, step time.Duration) (*wireConn, error) {
	nc, err := net.DialTimeout("tcp", addr, step)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", addr, err)
	}
	return &wireConn{nc: nc, br: bufio.NewReaderSize(nc, 64<<10), step: step, overall: time.Now().Add(10 * step)}, nil
}

func (w *wireConn) deadline() time.Time {
	d := time.Now().Add(w.step)
	if d.After(w.overall) {
		d = w.overall
	}
	return d
}

func (w *wireConn) write(p []byte) error {
	w.nc.SetWriteDeadline(w.deadline())
	_, err := w.nc.Write(p)
	if err != nil {
		return fmt.Errorf("writing the request: %w", describeNetErr(err))
	}
	return nil
}

func (w *wireConn) close() { w.nc.Close() }

// fill writes a generated body of f.Size bytes.
func (w *wireConn) fill(f *Fill) error {
	part := bytes.Repeat([]byte("0123456789abcdef"), 4096)
	for left := f.Size; left > 0; {
		n := int64(len(part))
		if f.Chunk > 0 && int64(f.Chunk) < n {
			n = int64(f.Chunk)
		}
		n = min(n, left)
		if f.Chunk > 0 {
			if err := w.write([]byte(strconv.FormatInt(n, 16) + "\r\n")); err != nil {
				return err
			}
		}
		if err := w.write(part[:n]); err != nil {
			return err
		}
		if f.Chunk > 0 {
			if err := w.write([]byte("\r\n")); err != nil {
				return err
			}
		}
		left -= n
	}
	if f.Chunk > 0 {
		return w.write([]byte("0\r\n\r\n"))
	}
	return nil
}

// readLine reads one line of a response head, without its line end.
func (w *wireConn) readLine(budget *int) (string, error) {
	w.nc.SetReadDeadline(w.deadline())
	line, err := w.br.ReadSlice('\n')
	*budget -= len(line)
	if *budget < 0 || errors.Is(err, bufio.ErrBufferFull) {
		return "", errors.New("response head longer than 256 KiB")
	}
	if err != nil {
		if errors.Is(err, io.EOF) && len(line) == 0 {
			return "", io.EOF
		}
		if errors.Is(err, io.EOF) {
			return "", fmt.Errorf("the connection closed in the middle of a line, after %q", clip(string(line)))
		}
		return "", describeNetErr(err)
	}
	return strings.TrimRight(string(line), "\r\n"), nil
}

// readResponse reads one response; head says the request was HEAD.
func (w *wireConn) readResponse(head bool) (*wireResponse, error) {
	r := &wireResponse{}
	budget := maxHead
	for {
		line, err := w.readLine(&budget)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, errors.New("the server closed the connection without a response")
			}
			return nil, fmt.Errorf("reading the status line: %w", err)
		}
		status, err := parseStatusLine(line)
		if err != nil {
			return nil, err
		}
		r.Status = status
		r.Headers = r.Headers[:0]
		if r.Headers, err = w.readFields(&budget); err != nil {
			return nil, fmt.Errorf("reading the response head: %w", err)
		}
		if status >= 100 && status < 200 && status != 101 {
			r.Interim = append(r.Interim, status)
			continue
		}
		break
	}
	return r, w.readBody(r, head)
}

func parseStatusLine(line string) (int, error) {
	if len(line) < 12 || !strings.HasPrefix(line, "HTTP/1.") || line[8] != ' ' {
		return 0, fmt.Errorf("malformed status line %q", clip(line))
	}
	status, err := strconv.Atoi(line[9:12])
	if err != nil || (len(line) > 12 && line[12] != ' ') {
		return 0, fmt.Errorf("malformed status line %q", clip(line))
	}
	return status, nil
}

func (w *wireConn) readFields(budget *int) ([][2]string, error) {
	var fields [][2]string
	for {
		line, err := w.readLine(budget)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, errors.New("connection closed inside the head")
			}
			return nil, err
		}
		if line == "" {
			return fields, nil
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return nil, fmt.Errorf("malformed header line %q", clip(line))
		}
		fields = append(fields, [2]string{strings.ToLower(name), strings.Trim(value, " \t")})
	}
}

func (w *wireConn) readBody(r *wireResponse, head bool) error {
	te, chunked := r.header("transfer-encoding")
	cl, hasLength := r.header("content-length")
	sum := adler32.New()
	keep := &bytes.Buffer{}
	sink := func(p []byte) {
		r.BodyLen += int64(len(p))
		sum.Write(p)
		if keep != nil {
			if keep.Len()+len(p) > maxKeptBody {
				keep = nil
			} else {
				keep.Write(p)
			}
		}
	}
	var err error
	switch {
	case head || r.Status == 204 || r.Status == 304 || r.Status == 101:
		// 101: what follows is the new protocol's (WebSocket frames).
		r.Framing = "none"
	case chunked && strings.EqualFold(strings.TrimSpace(te), "chunked"):
		r.Framing = "chunked"
		err = w.readChunked(r, sink)
	case chunked:
		return fmt.Errorf("unsupported transfer-encoding %q", te)
	case hasLength:
		r.Framing = "length"
		n, perr := strconv.ParseInt(cl, 10, 64)
		if perr != nil || n < 0 {
			return fmt.Errorf("invalid content-length %q", cl)
		}
		err = w.copyN(n, sink)
	default:
		r.Framing = "close"
		err = w.copyToEOF(sink)
	}
	if keep != nil {
		r.Body = keep.Bytes()
	}
	r.Adler32 = sum.Sum32()
	if errors.Is(err, errTruncated) {
		r.Truncated = true
		return nil
	}
	if errors.Is(err, errUnframed) {
		r.Framing = "unframed"
		return nil
	}
	return err
}

func (w *wireConn) copyN(n int64, sink func([]byte)) error {
	buf := make([]byte, 32<<10)
	for n > 0 {
		w.nc.SetReadDeadline(w.deadline())
		k, err := w.br.Read(buf[:min(int64(len(buf)), n)])
		sink(buf[:k])
		n -= int64(k)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return errTruncated
			}
			return fmt.Errorf("reading the body: %w", describeNetErr(err))
		}
	}
	return nil
}

// errUnframed: a body without length or chunking whose connection stayed
// open until the deadline.
var errUnframed = errors.New("unframed")

func (w *wireConn) copyToEOF(sink func([]byte)) error {
	buf := make([]byte, 32<<10)
	for {
		w.nc.SetReadDeadline(w.deadline())
		k, err := w.br.Read(buf)
		sink(buf[:k])
		if errors.Is(err, io.EOF) {
			return nil
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return errUnframed
		}
		if err != nil {
			return fmt.Errorf("reading a close-delimited body: %w", describeNetErr(err))
		}
	}
}

func (w *wireConn) readChunked(r *wireResponse, sink func([]byte)) error {
	budget := maxHead
	for {
		line, err := w.readLine(&budget)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return errTruncated
			}
			return fmt.Errorf("reading a chunk size: %w", err)
		}
		sizeText, _, _ := strings.Cut(line, ";")
		size, perr := strconv.ParseInt(strings.TrimSpace(sizeText), 16, 64)
		if perr != nil || size < 0 {
			return fmt.Errorf("malformed chunk size line %q", clip(line))
		}
		if size == 0 {
			r.Trailers, err = w.readFields(&budget)
			return err
		}
		if err := w.copyN(size, sink); err != nil {
			return err
		}
		crlf, err := w.readLine(&budget)
		if err != nil || crlf != "" {
			return fmt.Errorf("chunk data not followed by CRLF")
		}
	}
}

// waitClosed reports whether the server closes the connection (EOF or reset)
// before the step deadline, without sending anything more.
// await reads until want has come, leaving every byte read in the buffer
// for the next readResponse. The step deadline bounds the whole wait.
func (w *wireConn) await(want []byte) error {
	w.nc.SetReadDeadline(w.deadline())
	for {
		n := w.br.Buffered()
		got, _ := w.br.Peek(n)
		if bytes.Contains(got, want) {
			return nil
		}
		if n == w.br.Size() {
			return fmt.Errorf("not among the first %d bytes the server sent", n)
		}
		if _, err := w.br.Peek(n + 1); err != nil {
			if errors.Is(err, io.EOF) {
				return fmt.Errorf("the connection closed after %d bytes without them", n)
			}
			return fmt.Errorf("%w, after %d bytes without them", describeNetErr(err), n)
		}
	}
}

func (w *wireConn) waitClosed() error {
	w.nc.SetReadDeadline(w.deadline())
	var one [1]byte
	n, err := w.br.Read(one[:])
	if n > 0 {
		return fmt.Errorf("expected the connection to close, but the server sent more bytes: %q", one[:n])
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("expected the server to close the connection; it was still open after %v", w.step)
	}
	return nil
}

func describeNetErr(err error) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return errors.New("timed out (the server sent nothing more before the deadline)")
	}
	return err
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
