package uvicorn_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/lasgi/lasgi/conformance"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

const (
	dialTimeout = 2 * time.Second
	ioTimeout   = 3 * time.Second // each write of a request, each read step of a response
	maxBody     = 1 << 20         // a response body larger than this is an error
	maxLine     = 16 << 10        // a status, header or chunk-size line longer than this is an error
)

// response is an HTTP/1.x response as read off the wire.
type response struct {
	proto   string      // "HTTP/1.1"
	status  int         // 200
	headers [][2]string // names lowercased, values as received (trimmed), in order
	body    []byte      // decoded from its framing
	framing string      // "content-length", "chunked", "close" or "none" (HEAD, 204, 304)
}

func (r *response) header(name string) (string, bool) {
	for _, h := range r.headers {
		if h[0] == name {
			return h[1], true
		}
	}
	return "", false
}

// exchange writes each raw request to one new connection to addr, in turn,
// and reads its response before writing the next. methods[i] is the method
// of raws[i] (a HEAD response has no body).
func exchange(addr string, raws, methods []string) ([]*response, error) {
	c, err := net.DialTimeout("tcp", addr, dialTimeout)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	br := bufio.NewReader(deadlineReader{c})
	var out []*response
	for i, raw := range raws {
		if err := c.SetWriteDeadline(time.Now().Add(ioTimeout)); err != nil {
			return out, err
		}
		if _, err := io.WriteString(c, raw); err != nil {
			return out, fmt.Errorf("writing request %d: %w", i+1, err)
		}
		resp, err := readResponse(br, methods[i])
		if err != nil {
			return out, fmt.Errorf("reading response %d: %w", i+1, err)
		}
		out = append(out, resp)
	}
	return out, nil
}

// deadlineReader renews the read deadline before every read.
type deadlineReader struct{ c net.Conn }

func (d deadlineReader) Read(p []byte) (int, error) {
	if err := d.c.SetReadDeadline(time.Now().Add(ioTimeout)); err != nil {
		return 0, err
	}
	return d.c.Read(p)
}

func readLine(br *bufio.Reader) (string, error) {
	var line []byte
	for {
		frag, err := br.ReadSlice('\n')
		line = append(line, frag...)
		if len(line) > maxLine {
			return "", fmt.Errorf("line longer than %d bytes", maxLine)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return "", fmt.Errorf("connection closed inside a line (%q): %w", line, io.ErrUnexpectedEOF)
			}
			return "", err
		}
		return strings.TrimSuffix(strings.TrimSuffix(string(line), "\n"), "\r"), nil
	}
}

func readResponse(br *bufio.Reader, method string) (*response, error) {
	status, err := readLine(br)
	if err != nil {
		return nil, fmt.Errorf("status line: %w", err)
	}
	proto, rest, ok := strings.Cut(status, " ")
	code, _, _ := strings.Cut(rest, " ")
	r := &response{proto: proto}
	if r.status, err = strconv.Atoi(code); !ok || err != nil || !strings.HasPrefix(proto, "HTTP/1.") {
		return nil, fmt.Errorf("malformed status line %q", status)
	}
	for {
		line, err := readLine(br)
		if err != nil {
			return nil, fmt.Errorf("header section: %w", err)
		}
		if line == "" {
			break
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("malformed header line %q", line)
		}
		r.headers = append(r.headers, [2]string{strings.ToLower(name), strings.Trim(value, " \t")})
	}

	te, hasTE := r.header("transfer-encoding")
	cl, hasCL := r.header("content-length")
	switch {
	case method == "HEAD" || r.status/100 == 1 || r.status == 204 || r.status == 304:
		r.framing = "none"
	case hasTE:
		if !strings.EqualFold(strings.TrimSpace(te), "chunked") {
			return nil, fmt.Errorf("unexpected transfer-encoding %q", te)
		}
		r.framing = "chunked"
		r.body, err = readChunked(br)
	case hasCL:
		n, perr := strconv.ParseInt(cl, 10, 64)
		if perr != nil || n < 0 || n > maxBody {
			return nil, fmt.Errorf("bad content-length %q", cl)
		}
		r.framing = "content-length"
		r.body = make([]byte, n)
		_, err = io.ReadFull(br, r.body)
	default:
		r.framing = "close"
		r.body, err = io.ReadAll(io.LimitReader(br, maxBody+1))
		if err == nil && len(r.body) > maxBody {
			err = fmt.Errorf("close-delimited body over %d bytes", maxBody)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("body (%s): %w", r.framing, err)
	}
	return r, nil
}

func readChunked(br *bufio.Reader) ([]byte, error) {
	var body []byte
	for {
		line, err := readLine(br)
		if err != nil {
			return nil, fmt.Errorf("chunk size: %w", err)
		}
		sizeText, _, _ := strings.Cut(line, ";")
		size, err := strconv.ParseUint(strings.TrimSpace(sizeText), 16, 32)
		if err != nil || len(body)+int(size) > maxBody {
			return nil, fmt.Errorf("bad chunk size line %q", line)
		}
		if size == 0 {
			for { // trailer section
				line, err := readLine(br)
				if err != nil {
					return nil, fmt.Errorf("trailer section: %w", err)
				}
				if line == "" {
					return body, nil
				}
			}
		}
		chunk := make([]byte, size)
		if _, err := io.ReadFull(br, chunk); err != nil {
			return nil, err
		}
		body = append(body, chunk...)
		if end, err := readLine(br); err != nil || end != "" {
			return nil, fmt.Errorf("chunk data not followed by CRLF (%q, %v)", end, err)
		}
	}
}

// ---------------------------------------------------------------------------------------
// The JSON both apps answer with

// scopeFields are the parts of a scope.lua / scope_app.py answer compared
// between the servers. Every string holds bytes (ASGI text as UTF-8).
type scopeFields struct {
	Type        string
	HTTPVersion string
	Method      string
	Scheme      string
	Path        string
	RawPath     string
	QueryString string
	RootPath    string
	Headers     [][2]string
	ClientHost  string // the ports legitimately differ and are not compared
	ServerHost  string
	Body        string // the bodies of all http.request events, concatenated
}

// decoder pulls typed fields out of the generic JSON, remembering the first error.
type decoder struct{ err error }

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf(format, args...)
	}
}

func (d *decoder) bytes(v any, what string) string {
	s, ok := v.(string)
	if !ok {
		d.fail("%s: want a string, got %#v", what, v)
		return ""
	}
	b, err := conformance.Latin1(s)
	if err != nil {
		d.fail("%s: %v", what, err)
	}
	return b
}

// list accepts a JSON array, or {} (how scope.lua writes an empty Lua table).
func (d *decoder) list(v any, what string) []any {
	switch v := v.(type) {
	case []any:
		return v
	case map[string]any:
		if len(v) == 0 {
			return nil
		}
	}
	d.fail("%s: want a list, got %#v", what, v)
	return nil
}

// host is the host of a [host, port] address.
func (d *decoder) host(v any, what string) string {
	addr := d.list(v, what)
	if len(addr) != 2 {
		d.fail("%s: want [host, port], got %#v", what, v)
		return ""
	}
	if _, ok := addr[1].(float64); !ok {
		d.fail("%s: port is not a number: %#v", what, v)
	}
	return d.bytes(addr[0], what+" host")
}

func decodeAnswer(text []byte) (scopeFields, error) {
	var doc struct {
		Scope  map[string]any `json:"scope"`
		Events any            `json:"events"`
	}
	if err := json.Unmarshal(text, &doc); err != nil {
		return scopeFields{}, fmt.Errorf("the answer is not JSON: %w", err)
	}
	if doc.Scope == nil {
		return scopeFields{}, errors.New(`the answer has no "scope" object`)
	}
	d := &decoder{}
	s := doc.Scope
	f := scopeFields{
		Type:        d.bytes(s["type"], "type"),
		HTTPVersion: d.bytes(s["http_version"], "http_version"),
		Method:      d.bytes(s["method"], "method"),
		Scheme:      d.bytes(s["scheme"], "scheme"),
		Path:        d.bytes(s["path"], "path"),
		RawPath:     d.bytes(s["raw_path"], "raw_path"),
		QueryString: d.bytes(s["query_string"], "query_string"),
		RootPath:    d.bytes(s["root_path"], "root_path"),
		ClientHost:  d.host(s["client"], "client"),
		ServerHost:  d.host(s["server"], "server"),
	}
	for i, h := range d.list(s["headers"], "headers") {
		pair := d.list(h, fmt.Sprintf("headers[%d]", i+1))
		if len(pair) != 2 {
			d.fail("headers[%d]: want [name, value], got %#v", i+1, h)
			continue
		}
		f.Headers = append(f.Headers, [2]string{
			d.bytes(pair[0], fmt.Sprintf("headers[%d] name", i+1)),
			d.bytes(pair[1], fmt.Sprintf("headers[%d] value", i+1)),
		})
	}
	events := d.list(doc.Events, "events")
	if len(events) == 0 {
		d.fail("no http.request event")
	}
	var body bytes.Buffer
	for i, e := range events {
		ev, ok := e.(map[string]any)
		if !ok {
			d.fail("events[%d]: want an object, got %#v", i+1, e)
			continue
		}
		if t := d.bytes(ev["type"], "event type"); t != "http.request" {
			d.fail("events[%d]: type %q, want http.request", i+1, t)
		}
		if ev["body"] != nil { // absent: the default, empty
			body.WriteString(d.bytes(ev["body"], fmt.Sprintf("events[%d].body", i+1)))
		}
		more, _ := ev["more_body"].(bool)
		if last := i == len(events)-1; more == last {
			d.fail("events[%d]: more_body %v (%d events)", i+1, ev["more_body"], len(events))
		}
	}
	f.Body = body.String()
	return f, d.err
}
