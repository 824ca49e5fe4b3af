package conformance

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/google/go-cmp/cmp"
)

// observed turns an observation into the Expect shape, with every field
// filled in: what `record` writes and what `compare` compares.
func observed(obs *Observation) Expect {
	var e Expect
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
		e.Responses = append(e.Responses, resp)
	}
	if obs.Closed {
		e.Connection = "closed"
	}
	if obs.AppCalled != nil {
		e.AppNotCalled = !*obs.AppCalled
	}
	if obs.Report == nil {
		return e
	}
	e.Scope = withoutProbeHeader(obs.Report["scope"])
	if evs, ok := obs.Report["events"].([]any); ok {
		e.Events = mergeEvents(evs)
	}
	if b, ok := obs.Report["body"].(map[string]any); ok {
		e.Body = &BodySum{Len: jsonInt(b["len"]), Adler32: uint32(jsonInt(b["adler32"]))}
	}
	if co, ok := obs.Report["coroutine"].(bool); ok {
		e.Coroutine = &co
	}
	if sends, ok := obs.Report["sends"].([]any); ok {
		for _, s := range sends {
			m, _ := s.(map[string]any)
			action, _ := m["action"].(string)
			msg, _ := m["error"].(string)
			sr := SendResult{Action: action}
			if ok, _ := m["ok"].(bool); !ok {
				sr.Error = msg
				// The value must be exactly "lasgi: <rule>: ...": a
				// position prefix or other wrapping shows as the raw
				// message (spec rule core.send.error-value).
				if sub := ruleInError.FindStringSubmatch(msg); sub != nil && strings.HasPrefix(msg, sub[0]) {
					sr.Error = sub[1]
				} else if msg == "" {
					sr.Error = "(an error without a message)"
				}
			}
			e.Sends = append(e.Sends, sr)
		}
	}
	return e
}

// withoutProbeHeader returns the reported scope with the probe's own
// request header left out of scope.headers: the checker added it to carry
// the script, so no case's expected headers include it (a copy; the report
// is left as it is).
func withoutProbeHeader(v any) map[string]any {
	scope, _ := v.(map[string]any)
	hs, ok := scope["headers"].([]any)
	if !ok {
		return scope
	}
	kept := make([]any, 0, len(hs))
	for _, h := range hs {
		if pair, ok := h.([]any); ok && len(pair) == 2 && pair[0] == ProbeHeader {
			continue
		}
		kept = append(kept, h)
	}
	out := make(map[string]any, len(scope))
	for k, x := range scope {
		out[k] = x
	}
	out["headers"] = kept
	return out
}

// mergeEvents merges runs of http.request events into one (bodies
// concatenated, more_body of the last), since a server may split a body
// anywhere. A body the probe did not record (too long) stays empty.
func mergeEvents(evs []any) []Event {
	var out []Event
	for _, x := range evs {
		m, _ := x.(map[string]any)
		ev := Event{}
		ev.Type, _ = m["type"].(string)
		ev.MoreBody, _ = m["more_body"].(bool)
		if b, ok := m["body"].(string); ok {
			ev.Body = Bytes(b)
		}
		if n, ok := m["values"]; ok && n != nil {
			ev.Problems = append(ev.Problems, fmt.Sprintf("receive() returned %v values", n))
		}
		if ev.Type == "" {
			ev.Problems = append(ev.Problems, "no type string")
		}
		if ev.Type == "http.request" {
			if _, ok := m["more_body"].(bool); !ok {
				ev.Problems = append(ev.Problems, "more_body is not a boolean")
			}
			if m["len"] == nil {
				ev.Problems = append(ev.Problems, "body is not a string")
			}
		}
		if n := len(out); n > 0 && ev.Type == "http.request" && out[n-1].Type == "http.request" && out[n-1].MoreBody {
			out[n-1].Body += ev.Body
			out[n-1].MoreBody = ev.MoreBody
			continue
		}
		out = append(out, ev)
	}
	return out
}

func jsonInt(v any) int64 {
	switch n := v.(type) {
	case json.Number:
		i, _ := n.Int64()
		return i
	case float64:
		return int64(n)
	}
	return -1
}

// compare checks every field of c.Expect against the observation, and then
// expect.one_of: at least one of its alternatives must match as a whole.
func compare(c *Case, obs *Observation) []finding {
	got := observed(obs)
	var fs []finding
	if obs.noProbe != nil {
		fs = append(fs, finding{fieldCase, obs.noProbe.Error()})
	}
	if from := scriptFrom(obs); obs.probeSent && c.needsReport() && from == "default" {
		fs = append(fs, finding{fieldCase, fmt.Sprintf("the probe never got its script: the %s request header did not reach the app in scope.headers, so it ran its default script and the results below say little about this case", ProbeHeader)})
	}
	for i, r := range obs.Responses {
		if r.Framing == "unframed" {
			fs = append(fs, finding{"responses", fmt.Sprintf("response %d has neither content-length nor chunked framing and the connection stayed open: a client cannot tell where its body ends", i+1)})
		}
	}
	fs = append(fs, compareExpect(&c.Expect, &got, obs)...)
	if len(c.Expect.OneOf) == 0 {
		return fs
	}
	var b strings.Builder
	b.WriteString("none of the outcomes the spec permits came about:")
	for i := range c.Expect.OneOf {
		alt := compareExpect(&c.Expect.OneOf[i], &got, obs)
		if len(alt) == 0 {
			return fs
		}
		fmt.Fprintf(&b, "\n  outcome %d (%s):", i+1, c.Expect.OneOf[i].Outcome)
		for _, f := range alt {
			b.WriteString("\n    " + strings.ReplaceAll(f.text, "\n", "\n    "))
		}
	}
	return append(fs, finding{fieldOneOf, b.String()})
}

// compareExpect checks the fields present in want against got.
func compareExpect(want, got *Expect, obs *Observation) []finding {
	var fs []finding
	field := ""
	add := func(format string, args ...any) { fs = append(fs, finding{field, fmt.Sprintf(format, args...)}) }

	field = "responses"
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
	field = "connection"
	if want.Connection == "closed" && got.Connection != "closed" {
		add("the server must close the connection after the response: %s", obs.closeErr)
	}
	field = "app_not_called"
	if want.AppNotCalled && !got.AppNotCalled {
		add("the app must not be called for this request, but the probe ran")
	}
	if want.needsReport() && obs.reportErr != nil {
		// What the probe saw cannot be compared: say why once, against
		// the first field that needed it.
		field = want.reportFields()[0]
		add("%v", obs.reportErr)
		return fs
	}
	field = "scope"
	if want.Scope != nil {
		if d := compareScope(want.Scope, got.Scope, obs); d != "" {
			add("scope differs (-expected +got):\n%s", d)
		}
	}
	field = "events"
	if want.Events != nil {
		if d := cmp.Diff(want.Events, got.Events); d != "" {
			add("receive() events differ (-expected +got; http.request runs merged):\n%s", d)
		}
	}
	field = "body"
	if want.Body != nil && (got.Body == nil || *want.Body != *got.Body) {
		add("request body seen by the app: expected %+v, got %+v", want.Body, got.Body)
	}
	field = "coroutine"
	if want.Coroutine != nil && (got.Coroutine == nil || *got.Coroutine != *want.Coroutine) {
		add("the app must run in a coroutine of its own, but coroutine.running() says it does not")
	}
	field = "sends"
	if want.Sends != nil {
		if d := cmp.Diff(want.Sends, got.Sends); d != "" {
			// A send that raised an error naming a rule, where another rule
			// was expected, concerns which rule a server reports (field
			// sends.rule, see sendsOnlyRuleDiffers); any other difference
			// (no error, a malformed one, a missing send) concerns sends.
			if sendsOnlyRuleDiffers(want.Sends, got.Sends) {
				field = fieldSendsRule
			}
			add("send() outcomes differ (-expected +got; error is the rule ID the error named):\n%s", d)
		}
	}
	return fs
}

// sendsOnlyRuleDiffers reports whether got differs from want only in which
// rule an error named, each expected error having come as a well-formed
// error naming a rule.
func sendsOnlyRuleDiffers(want, got []SendResult) bool {
	if len(want) != len(got) {
		return false
	}
	for i := range want {
		w, g := want[i], got[i]
		switch {
		case w.Action != g.Action, (w.Error == "") != (g.Error == ""):
			return false
		case w.Error != g.Error && !ruleID.MatchString(g.Error):
			return false
		}
	}
	return true
}

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

// readErrText says why no more responses came, for a message.
func (o *Observation) readErrText() string {
	if o.readErr == nil {
		return ""
	}
	return fmt.Sprintf(" (%v)", o.readErr)
}

// ruleID matches a rule ID as a send error named it.
var ruleID = regexp.MustCompile(`^[a-z0-9]+(?:\.[a-z0-9-]+)+$`)
