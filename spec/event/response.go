package event

import (
	"strconv"
)

// Response follows one HTTP response as an app sends it and checks each
// event against the spec's ordering and value rules: it is the http
// protocol's Conversation. The zero value is a response that has not
// started and checks no extensions; ResponseFor makes one that also holds
// the app to the extensions its scope offers. It is not safe for concurrent
// use.
type Response struct {
	Started  bool
	Complete bool

	// The booleans sit together, without padding between: a bridge.Call
	// holds its Response in place.
	trailers bool // start asked for trailers
	bodyDone bool // the last body event (more_body false) was sent
	// noTrailers: the scope does not offer the trailers extension, so
	// asking for trailers breaks http.trailers.offered and sending them
	// core.extensions.offered-only (set by ResponseFor).
	noTrailers  bool
	requestDone bool // the app received the last http.request

	Status int

	length    int64 // declared content-length, -1 if none
	bodyBytes int64 // body bytes sent so far

	findings []*Violation // SHOULD-level rules the app broke, in order
}

// ResponseFor returns the response of a call for scope s: a value, so that
// a caller can hold it in place without an allocation of its own.
func ResponseFor(s *Scope) Response {
	return Response{noTrailers: !s.Offers(ExtensionTrailers)}
}

// Done reports whether the response is complete (Conversation).
func (r *Response) Done() bool { return r.Complete }

// Received notes an event the app received (Conversation): the last
// http.request makes the call Drained.
func (r *Response) Received(ev *Event) {
	if ev.Type == HTTPRequest && !ev.MoreBody {
		r.requestDone = true
	}
}

// Drained reports whether the app has received the whole request body
// (Conversation): a receive() now waits for http.disconnect.
func (r *Response) Drained() bool { return r.requestDone }

// Final is http.disconnect (Conversation): what receive() returns once the
// response is complete or the client has gone (http.disconnect.after-complete),
// and which the app must return after (http.disconnect.app-return).
func (r *Response) Final() (Event, string, bool) {
	return Event{Type: HTTPDisconnect}, RuleDisconnectReturn, true
}

// NoBodyStatus reports whether a response with status has no content, so
// that any body bytes an app sends are discarded (spec rules
// http.body.no-body-status and http.body.no-body-wire): 204, 205 and 304.
func NoBodyStatus(status int) bool {
	return status == 204 || status == 205 || status == 304
}

// Findings returns the SHOULD-level rules the app broke in the events Send
// accepted, in the order they happened, one *Violation each (for example
// http.headers.name-lowercase, http.body.no-body-status). Send never returns
// these: the event is accepted and put right (names lowercased, body bytes
// discarded), and the finding is only recorded here, for a checker to report
// as a warning. Which rules are SHOULD comes from the catalog
// (spec.Lookup(rule).Level). The slice is shared; callers must not modify it.
func (r *Response) Findings() []*Violation { return r.findings }

// ContentLength returns the content-length the app declared, or -1.
func (r *Response) ContentLength() int64 {
	if !r.Started {
		return -1
	}
	return r.length
}

// BodyBytes returns how many body bytes the app has sent.
func (r *Response) BodyBytes() int64 { return r.bodyBytes }

// WantsTrailers reports whether http.response.start set trailers.
func (r *Response) WantsTrailers() bool { return r.trailers }

// Send checks ev as the next event of the response and, when it is valid,
// advances the state. A broken MUST rule comes back as a *Violation and
// leaves the state (and ev) as it was. A broken SHOULD rule does not: Send
// puts ev right in place (uppercase letters of header names lowercased,
// http.headers.name-lowercase; body bytes of a 204, 205 or 304 response kept
// in ev but not counted, http.body.no-body-status, for the writer to discard)
// and records the finding for Findings.
func (r *Response) Send(ev *Event) error {
	if r.Complete {
		return Violationf(RuleAfterComplete, "%s sent after the response was complete", ev.Type)
	}
	if r.noTrailers {
		switch {
		case ev.Type == HTTPResponseStart && ev.Trailers:
			return Violationf(RuleTrailersOffered, "trailers = true, but the scope does not offer the %s extension", ExtensionTrailers)
		case ev.Type == HTTPResponseTrailers:
			return Violationf(RuleOfferedOnly, "%s sent, but the scope does not offer that extension", ev.Type)
		}
	}
	switch ev.Type {
	case HTTPResponseStart:
		if r.Started {
			return Violationf(RuleStartOnce, "http.response.start sent twice")
		}
		if ev.Status < 200 || ev.Status > 599 {
			return Violationf(RuleStatusRange, "status %d is outside 200..599", ev.Status)
		}
		length := int64(-1)
		upper := false
		for i, h := range ev.Headers {
			if err := CheckHeader(h, i+1); err != nil {
				return err
			}
			name := h.Name
			if hasUpper(name) {
				upper, name = true, lowerASCII(name)
			}
			if name == "content-length" {
				n, err := ParseLength(h.Value)
				if err != nil || (length >= 0 && n != length) {
					return Violationf(RuleContentLength, "content-length %q is not one non-negative integer", h.Value)
				}
				length = n
			}
		}
		if upper {
			r.lowercase(ev.Headers)
		}
		r.Started, r.Status, r.trailers, r.length = true, ev.Status, ev.Trailers, length
		return nil

	case HTTPResponseBody:
		if !r.Started {
			return Violationf(RuleStartFirst, "http.response.body sent before http.response.start")
		}
		if r.bodyDone {
			return Violationf(RuleTrailersAfter, "http.response.body sent after the last body event; only http.response.trailers may follow")
		}
		n := int64(len(ev.Body))
		if n > 0 && NoBodyStatus(r.Status) {
			r.findings = append(r.findings, Violationf(RuleNoBodyStatus, "a %d response has no content, but %d body bytes were sent; they are discarded", r.Status, n))
			n = 0
		}
		if r.length >= 0 && !NoBodyStatus(r.Status) && r.bodyBytes+n > r.length {
			return Violationf(RuleContentLength, "body exceeds the declared content-length %d (%d bytes sent)", r.length, r.bodyBytes+n)
		}
		r.bodyBytes += n
		if !ev.MoreBody {
			r.bodyDone = true
			r.Complete = !r.trailers
		}
		return nil

	case HTTPResponseTrailers:
		if !r.Started {
			return Violationf(RuleStartFirst, "http.response.trailers sent before http.response.start")
		}
		if !r.trailers {
			return Violationf(RuleTrailersFlag, "http.response.trailers sent but http.response.start did not set trailers = true")
		}
		if !r.bodyDone {
			return Violationf(RuleTrailersAfter, "http.response.trailers sent before the last http.response.body")
		}
		upper := false
		for i, h := range ev.Headers {
			if err := CheckHeader(h, i+1); err != nil {
				return err
			}
			upper = upper || hasUpper(h.Name)
		}
		if upper {
			r.lowercase(ev.Headers)
		}
		r.Complete = !ev.MoreTrailers
		return nil

	default:
		return Violationf(RuleEventType, "%q is not an event an app sends in an http scope", ev.Type)
	}
}

// ParseLength parses a content-length value: one or more decimal digits and
// nothing else (no sign, no spaces), as HTTP requires.
func ParseLength(v string) (int64, error) {
	if v == "" || len(v) > 18 {
		return 0, strconv.ErrRange
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, strconv.ErrSyntax
		}
	}
	return strconv.ParseInt(v, 10, 64)
}

// lowercase lowercases the header names in place and records one
// http.headers.name-lowercase finding per name that had uppercase letters.
func (r *Response) lowercase(hs []Header) {
	for i := range hs {
		if hasUpper(hs[i].Name) {
			r.findings = append(r.findings, Violationf(RuleHeaderLowercase, "header %d name %q is not lowercase; sent as %q", i+1, hs[i].Name, lowerASCII(hs[i].Name)))
			hs[i].Name = lowerASCII(hs[i].Name)
		}
	}
}

// CheckHeader checks one header an app sends against the MUST rule
// http.headers.valid-bytes; index is its 1-based position in the list, for
// the message. Uppercase letters in the name are allowed here: they break
// only the SHOULD rule http.headers.name-lowercase, which Response.Send
// records as a finding.
func CheckHeader(h Header, index int) error {
	if h.Name == "" {
		return Violationf(RuleHeaderBytes, "header %d has an empty name", index)
	}
	for i := 0; i < len(h.Name); i++ {
		if c := h.Name[i]; !IsTokenByte(c) {
			return Violationf(RuleHeaderBytes, "header %d name %q has byte 0x%02x, which is not allowed in a field name", index, h.Name, c)
		}
	}
	for i := 0; i < len(h.Value); i++ {
		if c := h.Value[i]; !IsValueByte(c) {
			return Violationf(RuleHeaderBytes, "header %d (%s) value has control character 0x%02x (only HTAB is allowed)", index, h.Name, c)
		}
	}
	return nil
}

func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return true
		}
	}
	return false
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// IsValueByte reports whether c may appear in a header field value: any
// byte but the control characters, HTAB excepted (RFC 9110 section 5.5).
// Requests and responses are held to it alike.
func IsValueByte(c byte) bool { return (c >= 0x20 || c == '\t') && c != 0x7f }

// IsTokenByte reports whether c may appear in an HTTP token (RFC 9110 tchar).
func IsTokenByte(c byte) bool {
	return tokenTable[c]
}

var tokenTable = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()
