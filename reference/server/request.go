package server

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"

	"github.com/lasgi/lasgi/reference/server/internal/mutant"
	"github.com/lasgi/lasgi/spec/event"
)

// request is a parsed request head.
type request struct {
	method, target string
	minor          int // HTTP/1.minor
	headers        []event.Header
	contentLength  int64 // -1 when none
	chunked        bool
	close          bool // the client asked to close after this exchange
	expectContinue bool
}

// httpError is a malformed or refused request: it is answered with status
// and never reaches the app (spec rule http.malformed).
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return strconv.Itoa(e.status) + " " + e.msg }

func badRequest(msg string) error { return &httpError{400, msg} }

// errClosed means the client closed the connection cleanly between requests.
var errClosed = errors.New("connection closed")

// readRequest reads one request head from br. maxHeader bounds the request
// line and header section together. f is a fault to inject (tests only).
func readRequest(br *bufio.Reader, maxHeader int, f mutant.Fault) (*request, error) {
	budget := maxHeader
	line, err := readLine(br, &budget)
	if err != nil {
		if errors.Is(err, errHeaderTooLarge) && f.Is(mutant.RequestLineTooLong400) {
			return nil, badRequest("request line too long")
		}
		if errors.Is(err, errHeaderTooLarge) {
			return nil, &httpError{414, "request line too long"}
		}
		return nil, err
	}
	// RFC 9112 2.2: a server SHOULD ignore at least one empty line before the request line.
	if len(line) == 0 {
		if line, err = readLine(br, &budget); err != nil {
			if errors.Is(err, errHeaderTooLarge) {
				return nil, &httpError{414, "request line too long"}
			}
			return nil, err
		}
	}
	r := &request{contentLength: -1}
	if err := r.parseRequestLine(line); err != nil {
		if he, ok := err.(*httpError); ok && he.status == 505 && f.Is(mutant.HTTP2Answered400) {
			return nil, badRequest(he.msg)
		}
		return nil, err
	}
	if f.Is(mutant.UnknownMethodRefused) && !knownMethod(r.method) {
		return nil, &httpError{501, "unknown method"}
	}
	var transferEncoding []byte
	sawLength := false
	hosts := 0
	for {
		line, err := readLine(br, &budget)
		if err != nil {
			if errors.Is(err, errHeaderTooLarge) && f.Is(mutant.HeaderTooLarge400) {
				return nil, badRequest("request header fields too large")
			}
			if errors.Is(err, errHeaderTooLarge) {
				return nil, &httpError{431, "request header fields too large"}
			}
			if errors.Is(err, errClosed) {
				return nil, badRequest("connection closed inside the header section")
			}
			return nil, err
		}
		if len(line) == 0 {
			break
		}
		if (line[0] == ' ' || line[0] == '\t') && len(r.headers) > 0 && f.Is(mutant.UnfoldObsFold) {
			r.headers[len(r.headers)-1].Value += " " + string(trimOWS(line))
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			return nil, badRequest("obsolete line folding in the header section")
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return nil, badRequest("header line without a name and colon")
		}
		name := line[:colon]
		if f.Is(mutant.NameWhitespaceTrimmed) {
			name = trimOWS(name)
		}
		for _, c := range name {
			if !event.IsTokenByte(c) {
				return nil, badRequest("invalid byte in header name " + strconv.Quote(string(name)))
			}
		}
		value := trimOWS(line[colon+1:])
		if f.Is(mutant.HeaderValuesUntrimmed) {
			value = line[colon+1:]
		}
		for _, c := range value {
			if !event.IsValueByte(c) {
				return nil, badRequest("invalid byte in the value of header " + strconv.Quote(string(name)))
			}
		}
		h := event.Header{Name: lowerASCII(name), Value: string(value)}
		if f.Is(mutant.HeaderNamesRaw) {
			h.Name = string(name)
		}
		r.headers = append(r.headers, h)
		switch h.Name {
		case "content-length":
			n, err := event.ParseLength(h.Value)
			if err != nil && f.Is(mutant.InvalidLengthIgnored) {
				continue
			}
			if err != nil {
				return nil, badRequest("invalid content-length " + strconv.Quote(h.Value))
			}
			if sawLength && n != r.contentLength && !f.Is(mutant.ConflictingLengthsAccepted) {
				return nil, badRequest("conflicting content-length headers")
			}
			sawLength, r.contentLength = true, n
		case "transfer-encoding":
			if len(transferEncoding) > 0 {
				transferEncoding = append(transferEncoding, ',')
			}
			transferEncoding = append(transferEncoding, h.Value...)
		case "connection":
			if hasToken(h.Value, "close") && !f.Is(mutant.ClientCloseIgnored) {
				r.close = true
			} else if r.minor == 0 && hasToken(h.Value, "keep-alive") {
				r.close = false
			}
		case "host":
			hosts++
			if !validHost(h.Value) && !f.Is(mutant.HostUnchecked) {
				return nil, badRequest("invalid host " + strconv.Quote(h.Value))
			}
		case "expect":
			if !equalFoldASCII(h.Value, "100-continue") && !f.Is(mutant.ExpectationPassed) {
				return nil, &httpError{417, "unsupported expectation " + strconv.Quote(h.Value)}
			}
			r.expectContinue = r.minor >= 1
		}
	}
	// RFC 9112 section 3.2: an HTTP/1.1 request without host, or any request
	// with two, is answered 400.
	if (hosts > 1 || hosts == 0 && r.minor >= 1) && !f.Is(mutant.HostUnchecked) {
		return nil, badRequest(strconv.Itoa(hosts) + " host header fields; a request has exactly one (HTTP/1.0: at most one)")
	}
	if transferEncoding != nil {
		if sawLength && !f.Is(mutant.LengthAndChunkedAccepted) {
			return nil, badRequest("both transfer-encoding and content-length")
		}
		if r.minor == 0 {
			return nil, badRequest("transfer-encoding in an HTTP/1.0 request")
		}
		codings := splitTokens(string(transferEncoding))
		if len(codings) != 1 || !equalFoldASCII(codings[0], "chunked") {
			return nil, &httpError{501, "unsupported transfer-encoding " + strconv.Quote(string(transferEncoding))}
		}
		r.chunked = true
	}
	return r, nil
}

func (r *request) parseRequestLine(line []byte) error {
	sp1 := bytes.IndexByte(line, ' ')
	if sp1 <= 0 {
		return badRequest("malformed request line")
	}
	rest := line[sp1+1:]
	sp2 := bytes.IndexByte(rest, ' ')
	if sp2 <= 0 {
		return badRequest("malformed request line")
	}
	method, target, proto := line[:sp1], rest[:sp2], rest[sp2+1:]
	for _, c := range method {
		if !event.IsTokenByte(c) {
			return badRequest("invalid method")
		}
	}
	for _, c := range target {
		if c <= ' ' || c == 0x7f {
			return badRequest("invalid byte in the request target")
		}
	}
	if len(proto) != 8 || string(proto[:5]) != "HTTP/" || proto[6] != '.' ||
		proto[5] < '0' || proto[5] > '9' || proto[7] < '0' || proto[7] > '9' {
		return badRequest("malformed HTTP version " + strconv.Quote(string(proto)))
	}
	if proto[5] != '1' {
		return &httpError{505, "HTTP version not supported: " + string(proto)}
	}
	r.method, r.target = string(method), string(target)
	r.minor = int(proto[7] - '0')
	if r.minor > 1 {
		r.minor = 1 // RFC 9110 2.5: answer a higher minor version as 1.1
	}
	r.close = r.minor == 0
	return nil
}

var errHeaderTooLarge = errors.New("header too large")

// readLine reads one CRLF- (or bare LF-) terminated line without the line
// end, charging it to budget.
func readLine(br *bufio.Reader, budget *int) ([]byte, error) {
	var long []byte
	for {
		frag, err := br.ReadSlice('\n')
		*budget -= len(frag)
		if *budget < 0 {
			return nil, errHeaderTooLarge
		}
		if err == bufio.ErrBufferFull {
			long = append(long, frag...)
			continue
		}
		if err != nil {
			if len(frag) == 0 && len(long) == 0 && errors.Is(err, io.EOF) {
				return nil, errClosed
			}
			if len(long)+len(frag) > 0 && errors.Is(err, io.EOF) {
				return nil, badRequest("connection closed in the middle of a line")
			}
			return nil, err
		}
		if long != nil {
			frag = append(long, frag...)
		}
		frag = frag[:len(frag)-1]
		if n := len(frag); n > 0 && frag[n-1] == '\r' {
			frag = frag[:n-1]
		}
		return frag, nil
	}
}

// validHost reports whether v is a host header value: uri-host [":" port]
// (RFC 9110 section 7.2, RFC 3986 section 3.2.2), empty included, checked
// by the bytes it may hold.
func validHost(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("-._~%!$&'()*+,;=:[]", c) >= 0:
		default:
			return false
		}
	}
	return true
}

func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// lowerASCII lowercases a header name; names are tokens, so ASCII is all.
func lowerASCII(b []byte) string {
	for _, c := range b {
		if 'A' <= c && c <= 'Z' {
			out := make([]byte, len(b))
			for i, c := range b {
				if 'A' <= c && c <= 'Z' {
					c += 'a' - 'A'
				}
				out[i] = c
			}
			return string(out)
		}
	}
	return string(b)
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// splitTokens splits a comma-separated header value into trimmed elements.
func splitTokens(v string) []string {
	var out []string
	for len(v) > 0 {
		i := 0
		for i < len(v) && v[i] != ',' {
			i++
		}
		if t := string(trimOWS([]byte(v[:i]))); t != "" {
			out = append(out, t)
		}
		if i == len(v) {
			break
		}
		v = v[i+1:]
	}
	return out
}

func hasToken(v, token string) bool {
	for _, t := range splitTokens(v) {
		if equalFoldASCII(t, token) {
			return true
		}
	}
	return false
}
