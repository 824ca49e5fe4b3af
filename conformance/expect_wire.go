package conformance

import (
	"fmt"
	"strings"

	"github.com/google/go-cmp/cmp"
)

// The checks of what came out on the wire: the responses, whether the
// server closed the connection, and whether the app was called at all.

// responsesCheck is expect.responses (and no_more_responses): each
// response's status, framing, headers, body and trailers.
type responsesCheck struct{}

func (responsesCheck) field() string      { return "responses" }
func (responsesCheck) has(e *Expect) bool { return e.Responses != nil }
func (responsesCheck) fromReport() bool   { return false }

func (responsesCheck) observe(got *Expect, obs *Observation) {
	for _, r := range obs.Responses {
		status := r.Status
		truncated := r.Truncated
		resp := Response{Status: &status, Framing: r.Framing, Truncated: &truncated}
		for _, h := range r.Headers {
			resp.Headers = append(resp.Headers, [2]Bytes{Bytes(h[0]), Bytes(h[1])})
		}
		for _, h := range r.Trailers {
			resp.Trailers = append(resp.Trailers, [2]Bytes{Bytes(h[0]), Bytes(h[1])})
		}
		if r.Body != nil {
			b := Bytes(r.Body)
			resp.Body = &b
		}
		resp.BodySum = &BodySum{Len: r.BodyLen, Adler32: r.Adler32}
		got.Responses = append(got.Responses, resp)
	}
}

func (responsesCheck) compare(want, got *Expect, obs *Observation) []finding {
	var fs []finding
	add := func(format string, args ...any) { fs = append(fs, findingf("responses", format, args...)) }
	if len(got.Responses) < len(want.Responses) {
		add("expected %d responses, got %d%s", len(want.Responses), len(got.Responses), obs.readErrText())
	}
	if want.NoMoreResponses && len(got.Responses) > len(want.Responses) {
		add("expected no response after the %d listed, got %d (response %d: status %d)", len(want.Responses), len(got.Responses), len(want.Responses)+1, *got.Responses[len(want.Responses)].Status)
	}
	for i := 0; i < len(want.Responses) && i < len(got.Responses); i++ {
		w, g, r := want.Responses[i], got.Responses[i], obs.Responses[i]
		where := fmt.Sprintf("response %d: ", i+1)
		if w.Status != nil && *w.Status != *g.Status {
			add("%sstatus: expected %d, got %d", where, *w.Status, *g.Status)
		}
		if w.Framing != "" && w.Framing != g.Framing {
			add("%sframing: expected %s, got %s", where, w.Framing, g.Framing)
		}
		if missing := subsequence(w.Headers, g.Headers); missing != "" {
			add("%sheaders: expected %s among (in this order):\n%s", where, missing, formatFields(g.Headers))
		}
		for _, name := range w.Absent {
			if _, ok := r.header(strings.ToLower(name)); ok {
				add("%sheader %q must not be sent, but was", where, name)
			}
		}
		for _, name := range w.Single {
			if n := r.headerCount(name); n != 1 {
				add("%sheader %q must be sent exactly once, but came %d times:\n%s", where, name, n, formatFields(g.Headers))
			}
		}
		if w.Body != nil {
			switch {
			case g.Body == nil:
				add("%sbody: expected %d bytes, got %d (too long to keep)", where, len(*w.Body), g.BodySum.Len)
			case *w.Body != *g.Body:
				add("%sbody differs (-expected +got):\n%s", where, cmp.Diff(string(*w.Body), string(*g.Body)))
			}
		}
		if w.BodySum != nil && *w.BodySum != *g.BodySum {
			add("%sbody: expected %d bytes with Adler-32 %08x, got %d bytes with %08x", where, w.BodySum.Len, w.BodySum.Adler32, g.BodySum.Len, g.BodySum.Adler32)
		}
		if w.BodyMax != nil && g.BodySum.Len > *w.BodyMax {
			add("%sbody: expected at most %d bytes, got %d", where, *w.BodyMax, g.BodySum.Len)
		}
		for _, s := range w.BodyLacks {
			if g.Body == nil || strings.Contains(string(*g.Body), string(s)) {
				add("%sbody must not contain %q, but does:\n%q", where, string(s), clip(string(bodyOf(g))))
			}
		}
		if w.Truncated != nil && *w.Truncated != *g.Truncated {
			if *w.Truncated {
				add("%sthe response must be cut off (the connection closed before the body's framing ended), but it was complete", where)
			} else {
				add("%sthe connection closed before the body's framing ended (a cut-off response)", where)
			}
		}
		if missing := subsequence(w.Trailers, g.Trailers); missing != "" {
			add("%strailers: expected %s among:\n%s", where, missing, formatFields(g.Trailers))
		}
	}
	return fs
}

// record keeps what the case pins of each response (which headers, whether
// a body or only its sum) with the values observed.
func (responsesCheck) record(e, got *Expect, _ *Observation) {
	e.Responses = append([]Response(nil), e.Responses...) // the case's own stay as they are
	for i := range e.Responses {
		if i >= len(got.Responses) {
			break
		}
		w, g := &e.Responses[i], got.Responses[i]
		if w.Status != nil {
			w.Status = g.Status
		}
		if w.Framing != "" {
			w.Framing = g.Framing
		}
		if w.Headers != nil {
			w.Headers = recordHeaders(w.Headers, g.Headers)
		}
		recordPayload(&w.Body, &w.BodySum, g.Body, g.BodySum)
		if w.Trailers != nil {
			w.Trailers = recordHeaders(w.Trailers, g.Trailers)
		}
		if w.Truncated != nil {
			w.Truncated = g.Truncated
		}
	}
}

// connectionCheck is expect.connection: "closed", the server must close
// the connection.
type connectionCheck struct{}

func (connectionCheck) field() string      { return "connection" }
func (connectionCheck) has(e *Expect) bool { return e.Connection != "" }
func (connectionCheck) fromReport() bool   { return false }

func (connectionCheck) observe(got *Expect, obs *Observation) {
	if obs.Closed {
		got.Connection = "closed"
	}
}

func (connectionCheck) compare(want, got *Expect, obs *Observation) []finding {
	if want.Connection == "closed" && got.Connection != "closed" {
		return []finding{findingf("connection", "the server must close the connection after the response: %s", obs.closeErr)}
	}
	return nil
}

// record leaves the demand as written: it is what the spec requires, not
// what a server happened to do.
func (connectionCheck) record(*Expect, *Expect, *Observation) {}

// appNotCalledCheck is expect.app_not_called: the server must answer the
// request itself, without calling the app.
type appNotCalledCheck struct{}

func (appNotCalledCheck) field() string      { return "app_not_called" }
func (appNotCalledCheck) has(e *Expect) bool { return e.AppNotCalled }
func (appNotCalledCheck) fromReport() bool   { return false }

func (appNotCalledCheck) observe(got *Expect, obs *Observation) {
	if obs.AppCalled != nil {
		got.AppNotCalled = !*obs.AppCalled
	}
}

func (appNotCalledCheck) compare(want, got *Expect, _ *Observation) []finding {
	if want.AppNotCalled && !got.AppNotCalled {
		return []finding{findingf("app_not_called", "the app must not be called for this request, but the probe ran")}
	}
	return nil
}

// record leaves the demand as written, like connection's.
func (appNotCalledCheck) record(*Expect, *Expect, *Observation) {}

func bodyOf(r Response) Bytes {
	if r.Body == nil {
		return ""
	}
	return *r.Body
}

// subsequence returns "" when want appears in got in order (names compared
// case-insensitively), else the first field not found.
func subsequence(want, got [][2]Bytes) string {
	j := 0
	for _, w := range want {
		found := false
		for ; j < len(got); j++ {
			if strings.EqualFold(string(got[j][0]), string(w[0])) && (got[j][1] == w[1] || w[1] == AnyValue) {
				found = true
				j++
				break
			}
		}
		if !found {
			return fmt.Sprintf("%q", string(w[0])+": "+string(w[1]))
		}
	}
	return ""
}

func formatFields(fs [][2]Bytes) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "  %s: %q\n", f[0], string(f[1]))
	}
	if b.Len() == 0 {
		return "  (none)\n"
	}
	return b.String()
}

// AnyValue as an expected header value matches any value: the header must
// be there, whatever it says (a date, say).
const AnyValue = "{any}"

// recordHeaders keeps the pinned header names, with the values observed (the
// first unused field of each name, in order); a pinned AnyValue stays.
func recordHeaders(pinned, got [][2]Bytes) [][2]Bytes {
	used := make([]bool, len(got))
	var out [][2]Bytes
	for _, p := range pinned {
		for j, g := range got {
			if !used[j] && strings.EqualFold(string(g[0]), string(p[0])) {
				used[j] = true
				if p[1] == AnyValue {
					g[1] = AnyValue
				}
				out = append(out, g)
				break
			}
		}
	}
	return out
}

// recordPayload records a pinned payload: its bytes when the case pins them
// (its sum instead when the bytes were too long to keep), or its sum.
func recordPayload(body **Bytes, sum **BodySum, gotBody *Bytes, gotSum *BodySum) {
	if *body != nil {
		*body = gotBody
		if gotBody == nil {
			*sum = gotSum
		}
	}
	if *sum != nil {
		*sum = gotSum
	}
}
