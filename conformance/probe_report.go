package conformance

import (
	"encoding/json"
	"fmt"
	"strings"
)

// ProbeReport is what the probe app reported of one call (fixtures/PROBE.md),
// decoded once: the checks read its fields, never the JSON.
type ProbeReport struct {
	// Scope is the scope as the probe saw it, strings as the bytes they
	// stand for and numbers as json.Number: its keys are open-ended, and
	// cases compare them by key with value patterns.
	Scope map[string]any
	// Events are the receive() events in order, as reported (not merged);
	// each carries the problems the probe saw in its shape.
	Events     []Event
	Body       *BodySum    // every request body byte the app received
	Coroutine  *bool       // coroutine.running() said the app runs in a coroutine of its own
	Sends      []ProbeSend // the outcome of each send() the script made
	ScriptFrom string      // "header": the script came with the request; "default": it did not
	Running    bool        // a kept report of a call that had not returned: partial
	// Lifespan is what the state verb saw of scope.state, compared by key
	// as the scope is.
	Lifespan map[string]any
}

// ProbeSend is one send() the probe made: whether it succeeded and, if not,
// the error value as a string.
type ProbeSend struct {
	Action string
	OK     bool
	Error  string
}

// parseReport decodes a probe report, a lasgi-probe-report header value or
// a kept report's body. A JSON value other than an object is no report
// (nil, nil); keys of the wrong type read as absent.
func parseReport(data []byte) (*ProbeReport, error) {
	m, err := decodeReportJSON(data)
	if err != nil || m == nil {
		return nil, err
	}
	return newProbeReport(m), nil
}

// decodeReportJSON decodes the report's JSON: strings are the bytes they
// stand for, numbers stay json.Number. A value other than an object gives a
// nil map.
func decodeReportJSON(data []byte) (map[string]any, error) {
	rep, err := DecodeBytesJSON(data)
	if err != nil {
		return nil, err
	}
	m, _ := rep.(map[string]any)
	return m, nil
}

func newProbeReport(m map[string]any) *ProbeReport {
	r := &ProbeReport{}
	r.Scope, _ = m["scope"].(map[string]any)
	if evs, ok := m["events"].([]any); ok {
		for _, x := range evs {
			r.Events = append(r.Events, reportEvent(x))
		}
	}
	if b, ok := m["body"].(map[string]any); ok {
		r.Body = &BodySum{Len: jsonInt(b["len"]), Adler32: uint32(jsonInt(b["adler32"]))}
	}
	if co, ok := m["coroutine"].(bool); ok {
		r.Coroutine = &co
	}
	if sends, ok := m["sends"].([]any); ok {
		for _, s := range sends {
			sm, _ := s.(map[string]any)
			var ps ProbeSend
			ps.Action, _ = sm["action"].(string)
			ps.OK, _ = sm["ok"].(bool)
			ps.Error, _ = sm["error"].(string)
			r.Sends = append(r.Sends, ps)
		}
	}
	r.ScriptFrom, _ = m["script_from"].(string)
	r.Running, _ = m["running"].(bool)
	r.Lifespan, _ = m["lifespan"].(map[string]any)
	return r
}

// reportEvent reads one reported receive() event, noting what is wrong with
// its shape: receive() returning other than one value, a missing type, and
// for http.request a more_body that is not a boolean or a body that is not a
// string. A body the probe did not report (too long) stays empty.
func reportEvent(x any) Event {
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
	for key, dst := range map[string]**Bytes{"text": &ev.Text, "bytes": &ev.Bytes, "reason": &ev.Reason} {
		if v, ok := m[key].(string); ok {
			b := Bytes(v)
			*dst = &b
		}
	}
	if m["code"] != nil {
		code := int(jsonInt(m["code"]))
		ev.Code = &code
	}
	groupEvent(&ev, m)
	if ev.Type == "websocket.receive" && (ev.Text == nil) == (ev.Bytes == nil) {
		ev.Problems = append(ev.Problems, "not exactly one of text and bytes")
	}
	if ev.Type == "http.request" {
		if _, ok := m["more_body"].(bool); !ok {
			ev.Problems = append(ev.Problems, "more_body is not a boolean")
		}
		if m["len"] == nil {
			ev.Problems = append(ev.Problems, "body is not a string")
		}
	}
	return ev
}

// offers reports whether the reported scope offers the extension.
func (r *ProbeReport) offers(ext string) bool {
	exts, _ := r.Scope["extensions"].(map[string]any)
	_, ok := exts[ext]
	return ok
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

// withoutProbeHeader returns the reported scope with the probe's own
// request header left out of scope.headers: the checker added it to carry
// the script, so no case's expected headers include it (a copy; the report
// is left as it is).
func withoutProbeHeader(scope map[string]any) map[string]any {
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

// sendOutcome is what a reported send() shows as a fixture's SendResult:
// its error is the rule ID the error value named, exactly "lasgi: <rule>:
// ..." (a position prefix or other wrapping shows as the raw message, spec
// rule core.send.error-value).
func sendOutcome(s ProbeSend) SendResult {
	sr := SendResult{Action: s.Action}
	if s.OK {
		return sr
	}
	sr.Error = s.Error
	if sub := ruleInError.FindStringSubmatch(s.Error); sub != nil && strings.HasPrefix(s.Error, sub[0]) {
		sr.Error = sub[1]
	} else if s.Error == "" {
		sr.Error = "(an error without a message)"
	}
	return sr
}
