package conformance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lasgi/lasgi/spec"
)

// Status is the outcome of a case.
type Status string

const (
	Passed  Status = "passed"
	Failed  Status = "failed"
	Skipped Status = "skipped"
)

// Result is the outcome of one case.
type Result struct {
	Case    *Case
	Status  Status
	Message string // why it failed or was skipped, with the rules' sentences
	Elapsed time.Duration
}

// Checker runs cases against a server hosting the probe. The zero value is
// not usable: Addr is required.
type Checker struct {
	Addr    string        // host:port of the server under test
	Timeout time.Duration // each network step; 0 means 5 seconds

	tokens atomic.Uint64
}

func (k *Checker) timeout() time.Duration {
	if k.Timeout <= 0 {
		return 5 * time.Second
	}
	return k.Timeout
}

// Observation is everything a case run saw.
type Observation struct {
	Responses []*wireResponse
	Report    map[string]any // the probe's report, nil when none came
	Closed    bool           // the server closed the connection
	AppCalled *bool          // for app_not_called: nil when unknown
	Client    []any          // the first connection's local end, as scope.client should show it
	Server    []any          // and its remote end, as scope.server should show it
	notes     []string       // things worth saying when the case fails

	probeSent bool   // a lasgi-probe header went out with the request
	reportErr error  // the probe's report could not be had; the wire is still compared
	closeErr  string // why the connection did not close when it should have
}

// Run runs c and checks what happened against c.Expect.
func (k *Checker) Run(ctx context.Context, c *Case) Result {
	start := time.Now()
	res := Result{Case: c}
	obs, err := k.Observe(ctx, c)
	switch {
	case errors.Is(err, errSkip):
		res.Status, res.Message = Skipped, err.Error()
	case err != nil:
		res.Status, res.Message = Failed, explain(c, []string{err.Error()}, obs)
	default:
		problems := compare(c, obs)
		if obs.reportErr != nil {
			problems = append([]string{obs.reportErr.Error()}, problems...)
		}
		if len(problems) > 0 {
			res.Status, res.Message = Failed, explain(c, problems, obs)
		} else {
			res.Status = Passed
		}
	}
	res.Elapsed = time.Since(start)
	return res
}

// errSkip wraps reasons a case cannot be judged on this server.
var errSkip = errors.New("skipped")

type skipError struct{ msg string }

func (e *skipError) Error() string { return e.msg }
func (e *skipError) Is(t error) bool {
	return t == errSkip
}

// explain builds a failure message: what went wrong, then each rule's
// sentence.
func explain(c *Case, problems []string, obs *Observation) string {
	var b strings.Builder
	for _, p := range problems {
		b.WriteString(p)
		if !strings.HasSuffix(p, "\n") {
			b.WriteByte('\n')
		}
	}
	if obs != nil {
		for _, n := range obs.notes {
			b.WriteString("note: " + n + "\n")
		}
	}
	for _, id := range c.Rules {
		r, _ := spec.Lookup(id)
		fmt.Fprintf(&b, "rule %s (%s): %s\n", r.ID, r.Section, r.Text)
	}
	return strings.TrimRight(b.String(), "\n")
}

// Observe runs c's exchange and gathers what happened, without judging it.
func (k *Checker) Observe(ctx context.Context, c *Case) (*Observation, error) {
	obs := &Observation{}
	token := ""
	if c.Report == "kept" || c.Expect.AppNotCalled {
		token = fmt.Sprintf("t%d-%d", time.Now().UnixNano(), k.tokens.Add(1))
	}
	conns := map[int]*clientConn{}
	defer func() {
		for _, cc := range conns {
			cc.w.close()
		}
	}()
	stop := context.AfterFunc(ctx, func() {
		for _, cc := range conns {
			cc.w.close()
		}
	})
	defer stop()
	conn := func(i int) (*clientConn, error) {
		if cc, ok := conns[i]; ok {
			return cc, nil
		}
		w, err := dialWire(k.Addr, k.timeout())
		if err != nil {
			return nil, err
		}
		conns[i] = &clientConn{w: w}
		if i == 0 {
			obs.Client, obs.Server = addrPair(w.nc.LocalAddr()), addrPair(w.nc.RemoteAddr())
		}
		return conns[i], nil
	}

	for i, s := range c.Send {
		if s.PauseMS > 0 {
			select {
			case <-time.After(time.Duration(s.PauseMS) * time.Millisecond):
			case <-ctx.Done():
				return obs, ctx.Err()
			}
			continue
		}
		cc, err := conn(s.Conn)
		if err != nil {
			return obs, err
		}
		if cc.closed {
			return obs, fmt.Errorf("send[%d]: connection %d was closed by an earlier step", i, s.Conn)
		}
		switch {
		case s.Data != "":
			line := probeLine(c.Probe, token)
			if line != "" && strings.Contains(string(s.Data), ProbePlaceholder) {
				obs.probeSent = true
			}
			data := strings.Replace(string(s.Data), ProbePlaceholder, line, 1)
			if s.Repeat > 1 {
				data = strings.Repeat(data, s.Repeat)
			}
			cc.heads = append(cc.heads, strings.HasPrefix(data, "HEAD "))
			if err := cc.w.write([]byte(data)); err != nil {
				if c.Expect.Connection == "closed" || len(c.Expect.Responses) > len(obs.Responses) {
					// A server may refuse early and close: read what it said.
					obs.notes = append(obs.notes, fmt.Sprintf("send[%d]: %v", i, err))
					break
				}
				return obs, fmt.Errorf("send[%d]: %w", i, err)
			}
		case s.Read:
			r, err := cc.read()
			if err != nil {
				return obs, fmt.Errorf("response %d (connection %d): %w", len(obs.Responses)+1, s.Conn, err)
			}
			obs.Responses = append(obs.Responses, r)
		case s.Close:
			cc.w.close()
			cc.closed = true
		case s.Fill != nil:
			if err := cc.w.fill(s.Fill); err != nil {
				return obs, fmt.Errorf("send[%d]: %w", i, err)
			}
		case s.Await != "":
			if err := cc.w.await([]byte(s.Await)); err != nil {
				return obs, fmt.Errorf("send[%d]: waiting for %q from the server (connection %d) before sending more: %w", i, clip(string(s.Await)), s.Conn, err)
			}
		}
	}
	// The rest of the expected responses come on the first connection.
	main := conns[0]
	if main != nil && !main.closed {
		want := len(c.Expect.Responses)
		if want == 0 && needsReport(c) {
			// The report is in its head, or (kept) is complete once the
			// app has answered.
			want = 1
		}
		for len(obs.Responses) < want {
			r, err := main.read()
			if err != nil {
				return obs, fmt.Errorf("response %d: %w", len(obs.Responses)+1, err)
			}
			obs.Responses = append(obs.Responses, r)
		}
		if c.Expect.Connection == "closed" {
			if err := main.w.waitClosed(); err != nil {
				obs.closeErr = err.Error()
			} else {
				obs.Closed = true
			}
		}
	}
	if err := k.collectReport(ctx, c, token, obs); err != nil {
		if errors.Is(err, errSkip) || ctx.Err() != nil {
			return obs, err
		}
		obs.reportErr = err
	}
	for _, ext := range c.Requires {
		if obs.Report == nil {
			break
		}
		scope, _ := obs.Report["scope"].(map[string]any)
		exts, _ := scope["extensions"].(map[string]any)
		if _, ok := exts[ext]; !ok {
			return obs, &skipError{fmt.Sprintf("the server does not offer the %s extension", ext)}
		}
	}
	return obs, nil
}

// scriptFrom says where the probe's script came from ("header" or
// "default"): from the report the case is judged on, or, when a kept report
// could not be had, from the head of the first response (the one the
// scripted request gets in every case that checks a report).
func scriptFrom(obs *Observation) string {
	if obs.Report != nil {
		from, _ := obs.Report["script_from"].(string)
		return from
	}
	if len(obs.Responses) == 0 {
		return ""
	}
	v, ok := obs.Responses[0].header(ReportHeader)
	if !ok {
		return ""
	}
	rep, err := DecodeBytesJSON([]byte(v))
	if err != nil {
		return ""
	}
	m, _ := rep.(map[string]any)
	from, _ := m["script_from"].(string)
	return from
}

// clientConn is one of a case's client connections.
type clientConn struct {
	w      *wireConn
	heads  []bool // for each request written, whether it was HEAD
	closed bool
}

// read reads the response to the oldest request not yet answered.
func (cc *clientConn) read() (*wireResponse, error) {
	head := false
	if len(cc.heads) > 0 {
		head, cc.heads = cc.heads[0], cc.heads[1:]
	}
	return cc.w.readResponse(head)
}

func needsReport(c *Case) bool {
	e := &c.Expect
	return e.Scope != nil || e.Events != nil || e.Body != nil || e.Sends != nil || e.Coroutine != nil || len(c.Requires) > 0
}

// collectReport finds the probe's report: kept under the token, or in the
// head of the first response that carries one.
func (k *Checker) collectReport(ctx context.Context, c *Case, token string, obs *Observation) error {
	if c.Expect.AppNotCalled {
		kept, err := k.fetchReport(ctx, token, false)
		if err != nil {
			return err
		}
		called := kept != nil
		obs.AppCalled = &called
		return nil
	}
	if !needsReport(c) {
		return nil
	}
	if c.Report == "kept" {
		kept, err := k.fetchReport(ctx, token, true)
		if err != nil {
			return err
		}
		if kept == nil {
			return &skipError{"the probe's kept report could not be fetched: the exchange may have run in another worker or process than every report request reached; run the server with one worker to check this case"}
		}
		obs.Report = kept
		return nil
	}
	for _, r := range obs.Responses {
		if v, ok := r.header(ReportHeader); ok {
			rep, err := DecodeBytesJSON([]byte(v))
			if err != nil {
				return fmt.Errorf("the %s header is not valid report JSON: %v", ReportHeader, err)
			}
			obs.Report, _ = rep.(map[string]any)
			return nil
		}
	}
	return fmt.Errorf("no response carried the probe's %s header: is the server running the probe app (lasgi-check probe)?", ReportHeader)
}

// fetchReport asks for the report kept under token, on fresh connections,
// until one answers 200 (nil, nil: not found). A report that must exist is
// waited for until the step deadline: the app may still be finishing, or the
// requests may keep reaching other workers. One that should not exist is
// asked for a few times only.
func (k *Checker) fetchReport(ctx context.Context, token string, patient bool) (map[string]any, error) {
	deadline := time.Now().Add(k.timeout())
	pause := 5 * time.Millisecond
	for i := 0; ; i++ {
		if patient && time.Now().After(deadline) || !patient && i == 4 {
			return nil, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		w, err := dialWire(k.Addr, k.timeout())
		if err != nil {
			return nil, fmt.Errorf("fetching the probe report: %w", err)
		}
		err = w.write([]byte("GET /.lasgi-probe/report HTTP/1.1\r\nhost: lasgi-check\r\n" + ProbeHeader + ": report:" + token + "\r\nconnection: close\r\n\r\n"))
		var r *wireResponse
		if err == nil {
			r, err = w.readResponse(false)
		}
		w.close()
		if err != nil {
			return nil, fmt.Errorf("fetching the probe report: %w", err)
		}
		switch r.Status {
		case 200:
			if r.Body == nil {
				return nil, errors.New("the probe report is larger than 1 MiB")
			}
			rep, err := DecodeBytesJSON(r.Body)
			if err != nil {
				return nil, fmt.Errorf("asking the probe for its report (%s: report:%s) got 200 with %q, which is not a report: the probe did not get its script (does the server pass the %s header to the app?)", ProbeHeader, token, clip(string(r.Body)), ProbeHeader)
			}
			m, _ := rep.(map[string]any)
			return m, nil
		case 404:
			time.Sleep(pause)
			if patient {
				pause = min(2*pause, 100*time.Millisecond)
			}
		default:
			return nil, fmt.Errorf("asking the probe for its report (%s: report:%s) got status %d with %q", ProbeHeader, token, r.Status, clip(string(r.Body)))
		}
	}
}

var ruleInError = regexp.MustCompile(`lasgi: ([a-z0-9]+(?:\.[a-z0-9-]+)+|disconnected): `)

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
	e.Scope, _ = obs.Report["scope"].(map[string]any)
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

// compare checks every field c.Expect has against the observation.
func compare(c *Case, obs *Observation) []string {
	got := observed(obs)
	want := &c.Expect
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	if from := scriptFrom(obs); obs.probeSent && needsReport(c) && from == "default" {
		add("the probe never got its script: the %s request header did not reach the app in scope.headers, so it ran its default script and the results below say little about this case", ProbeHeader)
	}
	for i, r := range obs.Responses {
		if r.Framing == "unframed" {
			add("response %d has neither content-length nor chunked framing and the connection stayed open: a client cannot tell where its body ends", i+1)
		}
	}

	if len(got.Responses) < len(want.Responses) {
		add("expected %d responses, got %d", len(want.Responses), len(got.Responses))
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
	if want.Connection == "closed" && got.Connection != "closed" {
		add("the server must close the connection after the response: %s", obs.closeErr)
	}
	if want.AppNotCalled && !got.AppNotCalled {
		add("the app must not be called for this request, but the probe ran")
	}
	if want.Scope != nil {
		wantScope := substituteAddrs(want.Scope, obs)
		sub := map[string]any{}
		for k := range wantScope {
			v, ok := got.Scope[k]
			if ok {
				sub[k] = v
			} else {
				sub[k] = "(absent)"
			}
		}
		if d := cmp.Diff(normalizeNumbers(wantScope), normalizeNumbers(sub)); d != "" {
			add("scope differs (-expected +got):\n%s", d)
		}
	}
	if want.Events != nil {
		if d := cmp.Diff(want.Events, got.Events); d != "" {
			add("receive() events differ (-expected +got; http.request runs merged):\n%s", d)
		}
	}
	if want.Body != nil && (got.Body == nil || *want.Body != *got.Body) {
		add("request body seen by the app: expected %+v, got %+v", want.Body, got.Body)
	}
	if want.Coroutine != nil && (got.Coroutine == nil || *got.Coroutine != *want.Coroutine) {
		add("the app must run in a coroutine of its own, but coroutine.running() says it does not")
	}
	if want.Sends != nil {
		if d := cmp.Diff(want.Sends, got.Sends); d != "" {
			add("send() outcomes differ (-expected +got; error is the rule ID the error named):\n%s", d)
		}
	}
	return problems
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

// normalizeNumbers turns JSON numbers into float64 so values decoded from a
// fixture and from a report compare equal.
func normalizeNumbers(v any) any {
	switch v := v.(type) {
	case json.Number:
		f, _ := v.Float64()
		return f
	case float64:
		return v
	case int:
		return float64(v)
	case []any:
		out := make([]any, len(v))
		for i := range v {
			out[i] = normalizeNumbers(v[i])
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = normalizeNumbers(x)
		}
		return out
	}
	return v
}

// Record returns c's Expect with every present field replaced by what obs
// shows: how `lasgi-check record` pins a case to the reference server.
func Record(c *Case, obs *Observation) Expect {
	got := observed(obs)
	e := c.Expect
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
		if w.Body != nil {
			w.Body = g.Body
			if g.Body == nil {
				w.BodySum = g.BodySum
			}
		}
		if w.BodySum != nil {
			w.BodySum = g.BodySum
		}
		if w.Trailers != nil {
			w.Trailers = recordHeaders(w.Trailers, g.Trailers)
		}
		if w.Truncated != nil {
			w.Truncated = g.Truncated
		}
	}
	if e.Scope != nil {
		for k := range e.Scope {
			e.Scope[k] = asBytes(got.Scope[k])
			for placeholder, addr := range map[string][]any{ClientPlaceholder: obs.Client, ServerPlaceholder: obs.Server} {
				if cmp.Equal(normalizeNumbers(got.Scope[k]), normalizeNumbers(addr)) && addr != nil {
					e.Scope[k] = placeholder
				}
			}
		}
	}
	if e.Events != nil {
		e.Events = got.Events
	}
	if e.Body != nil {
		e.Body = got.Body
	}
	if e.Sends != nil {
		e.Sends = got.Sends
	}
	if e.Coroutine != nil {
		e.Coroutine = got.Coroutine
	}
	return e
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

// asBytes wraps every string of a decoded report value in Bytes, so that it
// is written back with the fixture's byte-string convention.
func asBytes(v any) any {
	switch v := v.(type) {
	case string:
		return Bytes(v)
	case []any:
		out := make([]any, len(v))
		for i := range v {
			out[i] = asBytes(v[i])
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = asBytes(x)
		}
		return out
	}
	return v
}

// Placeholders a fixture's expected scope may use for the addresses of the
// checker's own connection, which change with every run.
const (
	ClientPlaceholder = "{client}" // [host, port] of the checker's end
	ServerPlaceholder = "{server}" // [host, port] of the server's end
)

func addrPair(a net.Addr) []any {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return nil
	}
	p, _ := strconv.Atoi(port)
	return []any{host, float64(p)}
}

// substituteAddrs replaces the address placeholders in an expected scope.
func substituteAddrs(scope map[string]any, obs *Observation) map[string]any {
	out := make(map[string]any, len(scope))
	for k, v := range scope {
		switch v {
		case ClientPlaceholder:
			out[k] = obs.Client
		case ServerPlaceholder:
			out[k] = obs.Server
		default:
			out[k] = v
		}
	}
	return out
}
