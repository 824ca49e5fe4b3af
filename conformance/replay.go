package conformance

import (
	"bufio"
	"errors"
	"io"
	"strconv"
	"strings"

	"github.com/lasgi/lasgi/spec/event"
)

// ReplayCases turns the fixture corpus into app cases: the first request of
// each fixture, parsed into the scope a server would build (headers in order,
// path decoded), its body delivered in the pieces the client wrote it in, and
// the client going away where the fixture closes the connection. Fixtures
// whose request no server would hand an app (malformed ones) are left out,
// and so are the other protocols'.
func ReplayCases(cases []*Case) []*AppCase {
	var out []*AppCase
	for _, c := range cases {
		// Only http cases are replayed (a WebSocket handshake is no request
		// an app answers as http), and no malformed ones.
		if !strings.HasPrefix(c.ID, "http.") || strings.HasPrefix(c.ID, "http.malformed/") {
			continue
		}
		ac, ok := replay(c)
		if ok {
			out = append(out, ac)
		}
	}
	return out
}

func replay(c *Case) (*AppCase, bool) {
	// The bytes of connection 0, in writes; a close ends them.
	var writes []string
	closed := false
	for i := range c.Send {
		s := &c.Send[i]
		kind, err := kindOf(s)
		if s.Conn != 0 || err != nil {
			continue
		}
		if kind.sent != nil {
			writes = append(writes, kind.sent(s))
		}
		if kind.ends {
			closed = true
			break
		}
	}
	raw := strings.Join(writes, "")
	scope, bodyStart, chunked, length, ok := parseHead(raw)
	if !ok {
		return nil, false
	}
	// Body pieces follow the writes that carried them.
	body, complete := decodeBody(raw[bodyStart:], chunked, length)
	if !complete && !closed {
		return nil, false
	}
	pieces := splitBody(body, writes, bodyStart, chunked)
	ac := &AppCase{
		ID:              "app.replay/" + strings.ReplaceAll(c.ID, "/", "."),
		Rules:           append([]string{}, sendRules...),
		Scope:           scope,
		Body:            pieces,
		DisconnectAfter: -1,
	}
	if closed {
		ac.DisconnectAfter = len(pieces)
		if !complete {
			ac.DisconnectAfter = max(len(pieces)-1, 0)
		}
	}
	return ac, true
}

// splitBody cuts the body where the client's writes were cut (for a
// content-length body), else in pieces of at most 64 KiB.
func splitBody(body string, writes []string, bodyStart int, chunked bool) []string {
	var pieces []string
	if !chunked {
		pos := 0
		for _, w := range writes {
			end := pos + len(w)
			lo, hi := max(pos, bodyStart)-bodyStart, min(end-bodyStart, len(body))
			if hi > lo && lo >= 0 {
				pieces = append(pieces, body[lo:hi])
			}
			pos = end
		}
	}
	if len(pieces) == 0 {
		pieces = split(body, 64<<10)
	}
	var out []string
	for _, p := range pieces {
		out = append(out, split(p, 64<<10)...)
	}
	return out
}

func fillBytes(f *Fill) string {
	part := strings.Repeat("0123456789abcdef", 4096)
	var b strings.Builder
	for left := f.Size; left > 0; {
		n := min(int64(len(part)), left)
		if f.Chunk > 0 {
			n = min(n, int64(f.Chunk))
			b.WriteString(strconv.FormatInt(n, 16) + "\r\n")
		}
		b.WriteString(part[:n])
		if f.Chunk > 0 {
			b.WriteString("\r\n")
		}
		left -= n
	}
	if f.Chunk > 0 {
		b.WriteString("0\r\n\r\n")
	}
	return b.String()
}

// parseHead reads a request head the way the reference server builds a
// scope from it; ok is false for anything a server would refuse.
func parseHead(raw string) (scope event.Scope, bodyStart int, chunked bool, length int64, ok bool) {
	end := strings.Index(raw, "\r\n\r\n")
	if end < 0 {
		return scope, 0, false, 0, false
	}
	lines := strings.Split(raw[:end], "\r\n")
	parts := strings.Split(lines[0], " ")
	if len(parts) != 3 || !strings.HasPrefix(parts[2], "HTTP/1.") {
		return scope, 0, false, 0, false
	}
	target := parts[1]
	if i := strings.Index(target, "://"); i >= 0 {
		rest := target[i+3:]
		j := strings.IndexAny(rest, "/?")
		if j < 0 {
			target = "/"
		} else {
			target = rest[j:]
			if target[0] == '?' {
				target = "/" + target
			}
		}
	}
	rawPath, query, _ := strings.Cut(target, "?")
	scope = appScope(nil)
	scope.Method, scope.HTTPVersion = parts[0], strings.TrimPrefix(parts[2], "HTTP/")
	scope.RawPath, scope.QueryString, scope.Path = rawPath, query, event.DecodePath(rawPath)
	scope.Headers = nil
	length = -1
	for _, l := range lines[1:] {
		name, value, found := strings.Cut(l, ":")
		if !found {
			return scope, 0, false, 0, false
		}
		h := event.Header{Name: strings.ToLower(name), Value: strings.Trim(value, " \t")}
		scope.Headers = append(scope.Headers, h)
		switch h.Name {
		case "content-length":
			n, err := event.ParseLength(h.Value)
			if err != nil {
				return scope, 0, false, 0, false
			}
			length = n
		case "transfer-encoding":
			chunked = true
		}
	}
	return scope, end + 4, chunked, length, true
}

// decodeBody returns the body bytes and whether the whole body is there.
func decodeBody(rest string, chunked bool, length int64) (string, bool) {
	if !chunked {
		if length <= 0 {
			return "", true
		}
		if int64(len(rest)) < length {
			return rest, false
		}
		return rest[:length], true
	}
	br := bufio.NewReader(strings.NewReader(rest))
	var b strings.Builder
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return b.String(), false
		}
		sizeText, _, _ := strings.Cut(strings.TrimSpace(line), ";")
		size, err := strconv.ParseInt(sizeText, 16, 64)
		if err != nil {
			return b.String(), false
		}
		if size == 0 {
			return b.String(), true
		}
		n, err := io.CopyN(&b, br, size)
		if err != nil || n != size {
			return b.String(), false
		}
		if _, err := br.ReadString('\n'); err != nil && !errors.Is(err, io.EOF) {
			return b.String(), false
		}
	}
}
