package event

import (
	"strconv"
)

// Response follows one HTTP response as an app sends it and checks each
// event against the spec's ordering and value rules. The zero value is a
// response that has not started. It is not safe for concurrent use.
type Response struct {
	Started  bool
	Complete bool
	Status   int

	trailers  bool  // start asked for trailers
	bodyDone  bool  // the last body event (more_body false) was sent
	length    int64 // declared content-length, -1 if none
	bodyBytes int64 // body bytes sent so far
}

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
// advances the state. A broken rule comes back as a *Violation and leaves the
// state as it was.
func (r *Response) Send(ev *Event) error {
	if r.Complete {
		return Violationf(RuleAfterComplete, "%s sent after the response was complete", ev.Type)
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
		for i, h := range ev.Headers {
			if err := CheckHeader(h, i+1); err != nil {
				return err
			}
			if h.Name == "content-length" {
				n, err := ParseLength(h.Value)
				if err != nil || (length >= 0 && n != length) {
					return Violationf(RuleContentLength, "content-length %q is not one non-negative integer", h.Value)
				}
				length = n
			}
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
		if n > 0 && (r.Status == 204 || r.Status == 304) {
			return Violationf(RuleNoBodyStatus, "a %d response has no body, but %d bytes were sent", r.Status, n)
		}
		if r.length >= 0 && r.bodyBytes+n > r.length {
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
		for i, h := range ev.Headers {
			if err := CheckHeader(h, i+1); err != nil {
				return err
			}
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

// CheckHeader checks one header an app sends; index is its 1-based position
// in the list, for the message.
func CheckHeader(h Header, index int) error {
	if h.Name == "" {
		return Violationf(RuleHeaderBytes, "header %d has an empty name", index)
	}
	for i := 0; i < len(h.Name); i++ {
		c := h.Name[i]
		if 'A' <= c && c <= 'Z' {
			return Violationf(RuleHeaderLowercase, "header %d name %q is not lowercase", index, h.Name)
		}
		if !IsTokenByte(c) {
			return Violationf(RuleHeaderBytes, "header %d name %q has byte 0x%02x, which is not allowed in a field name", index, h.Name, c)
		}
	}
	for i := 0; i < len(h.Value); i++ {
		if c := h.Value[i]; c == '\r' || c == '\n' || c == 0 {
			return Violationf(RuleHeaderBytes, "header %d (%s) value has byte 0x%02x (CR, LF and NUL are not allowed)", index, h.Name, c)
		}
	}
	return nil
}

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
