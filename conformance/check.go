package conformance

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"github.com/lasgi/lasgi/spec"
)

// Status is the outcome of a case.
type Status string

const (
	Passed  Status = "passed"
	Failed  Status = "failed"
	Warning Status = "warning" // only rules that do not bind (SHOULD, SHOULD NOT, MAY) were broken
	Skipped Status = "skipped"
)

// Result is the outcome of one case.
type Result struct {
	Case    *Case
	Status  Status
	Message string // why it failed, warned or was skipped, with the rules' sentences
	// Broken are the rules of the case whose checks failed, in the case's
	// order; their levels in the catalog made Status Failed or Warning.
	Broken  []string
	Elapsed time.Duration

	unanswered bool // the case expected a response and none came
}

// Checker runs cases against a server hosting the probe. The zero value is
// not usable: Addr is required.
type Checker struct {
	Addr    string        // host:port of the server under test
	Timeout time.Duration // each network step; 0 means 5 seconds
	// CaseTimeout bounds a whole case, its steps and report fetches
	// together: a server that answers each step just inside its deadline
	// still ends the case. 0 means 6 step timeouts.
	CaseTimeout time.Duration
	// Strict makes a case that broke only SHOULD, SHOULD NOT or MAY rules
	// fail instead of warn.
	Strict bool
	// GiveUpAfter stops RunAll once this many cases in a row expected a
	// response and got none (a server that accepts and never answers): the
	// rest are not run, and StopReason says why. 0 means 5; negative, never.
	GiveUpAfter int

	stopReason string

	tokens atomic.Uint64
}

func (k *Checker) caseTimeout() time.Duration {
	if k.CaseTimeout <= 0 {
		return 6 * k.timeout()
	}
	return k.CaseTimeout
}

// StopReason says why the last RunAll gave up before the end ("" when it
// did not): the server answered none of several cases in a row.
func (k *Checker) StopReason() string { return k.stopReason }

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
	noProbe   error  // a success came without evidence that the probe ran (probeEvidence)
	reportErr error  // the probe's report could not be had; the wire is still compared
	readErr   error  // why fewer responses were read than the case expects at most
	closeErr  string // why the connection did not close when it should have
}

// Run runs c and checks what happened against c.Expect.
func (k *Checker) Run(ctx context.Context, c *Case) Result {
	start := time.Now()
	res := Result{Case: c}
	caseCtx, cancel := context.WithTimeout(ctx, k.caseTimeout())
	defer cancel()
	obs, err := k.Observe(caseCtx, c)
	if err != nil && ctx.Err() == nil && caseCtx.Err() != nil {
		err = fmt.Errorf("the case ran past --case-timeout %v, each step within its own %v deadline: the server is answering too slowly (%w)", k.caseTimeout(), k.timeout(), err)
	}
	res.unanswered = c.maxResponses() > 0 && (obs == nil || len(obs.Responses) == 0)
	switch {
	case errors.Is(err, errSkip):
		res.Status, res.Message = Skipped, err.Error()
	default:
		var findings []finding
		if err != nil {
			findings = []finding{{fieldCase, err.Error()}}
		} else {
			findings = compare(c, obs)
		}
		res.Status, res.Broken = verdict(c, findings, k.Strict)
		if err == nil && obs.noProbe != nil {
			res.Status = Failed // a setup failure, not a finding of some level
		}
		if res.Status != Passed {
			res.Message = explain(c, res.Broken, texts(findings), obs)
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

func texts(fs []finding) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.text
	}
	return out
}

// explain builds a failure message: what went wrong, then the sentence of
// each rule broken (the case's rules when none is named), with its level.
func explain(c *Case, broken []string, problems []string, obs *Observation) string {
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
	if len(broken) == 0 {
		broken = c.Rules
	}
	for _, id := range broken {
		r, _ := spec.Lookup(id)
		fmt.Fprintf(&b, "rule %s (%s, %s): %s\n", r.ID, r.Level, r.Section, r.Text)
	}
	return strings.TrimRight(b.String(), "\n")
}

// Observe runs c's exchange and gathers what happened, without judging it.
func (k *Checker) Observe(ctx context.Context, c *Case) (*Observation, error) {
	obs := &Observation{}
	token := ""
	if c.Report == "kept" || c.wantsAppNotCalled() || c.Probe != "" && c.sendsProbe() {
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
				if c.wantsClosed() || c.maxResponses() > len(obs.Responses) {
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
		want := c.maxResponses()
		if want == 0 && c.needsReport() {
			// The report is in its head, or (kept) is complete once the
			// app has answered.
			want = 1
		}
		for len(obs.Responses) < want {
			r, err := main.read()
			if err != nil {
				// Judged with the responses: an outcome the case permits
				// may have fewer (the server closed instead).
				obs.readErr = fmt.Errorf("response %d: %w", len(obs.Responses)+1, err)
				break
			}
			obs.Responses = append(obs.Responses, r)
		}
		// Waiting for a close costs a step deadline on a server that keeps the
		// connection open, so an outcome that wants it is waited for only when
		// the server stopped short of the most responses an outcome expects,
		// or ended the last one with the close (cut off, or a body delimited
		// by it), and so has closed already.
		ended := false
		if n := len(obs.Responses); n > 0 {
			ended = obs.Responses[n-1].Truncated || obs.Responses[n-1].Framing == "close"
		}
		if c.Expect.Connection != "" || c.wantsClosed() && (len(obs.Responses) < c.maxResponses() || ended) {
			if err := main.w.waitClosed(); err != nil {
				obs.closeErr = err.Error()
			} else {
				obs.Closed = true
			}
		} else if c.wantsClosed() {
			obs.closeErr = fmt.Sprintf("it sent %d responses and was not waited for", len(obs.Responses))
		}
	}
	if err := k.collectReport(ctx, c, token, obs); err != nil {
		if errors.Is(err, errSkip) || ctx.Err() != nil {
			return obs, err
		}
		obs.reportErr = err
	}
	obs.noProbe = k.probeEvidence(ctx, c, token, obs)
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

// probeEvidence makes sure the probe took part when the app was to be
// called and a success came: a response carries its report, or it kept one
// under the token. A plain HTTP server that is not running the probe passes
// no case.
func (k *Checker) probeEvidence(ctx context.Context, c *Case, token string, obs *Observation) error {
	if c.wantsAppNotCalled() || obs.Report != nil {
		return nil
	}
	// Only a success is held against the setup: a server that refused the
	// request itself (a 501 for an unknown method), or sent nothing, is
	// judged by the case's findings.
	success := false
	for _, r := range obs.Responses {
		if _, ok := r.header(ReportHeader); ok {
			return nil
		}
		success = success || r.Status >= 200 && r.Status < 300
	}
	if !success {
		return nil
	}
	if token != "" {
		kept, err := k.fetchReport(ctx, token, false)
		if err != nil {
			return fmt.Errorf("%w (%v)", errNoProbe, err)
		}
		if kept != nil {
			return nil
		}
	}
	return errNoProbe
}

// errNoProbe is a setup failure, whatever the levels of the case's rules.
var errNoProbe = errors.New("no evidence that the probe app ran (a success came, but no response carries its " + ReportHeader + " header and it kept no report): is the server running the probe app (lasgi-check probe)? does it pass the " + ProbeHeader + " header to it?")

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
	m, err := decodeReport([]byte(v))
	if err != nil {
		return ""
	}
	from, _ := m["script_from"].(string)
	return from
}

// decodeReport decodes a probe report, a lasgi-probe-report header value or
// a kept report's body: strings are the bytes they stand for, numbers stay
// json.Number. A JSON value other than an object gives a nil report.
func decodeReport(data []byte) (map[string]any, error) {
	rep, err := DecodeBytesJSON(data)
	if err != nil {
		return nil, err
	}
	m, _ := rep.(map[string]any)
	return m, nil
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

// collectReport finds the probe's report: kept under the token, or in the
// head of the first response that carries one.
func (k *Checker) collectReport(ctx context.Context, c *Case, token string, obs *Observation) error {
	if c.wantsAppNotCalled() {
		kept, err := k.fetchReport(ctx, token, false)
		if err != nil {
			return err
		}
		called := kept != nil
		obs.AppCalled = &called
		if !called || c.Report == "kept" {
			obs.Report = kept
			return nil
		}
	}
	if !c.needsReport() {
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
		if running, _ := kept["running"].(bool); running {
			obs.notes = append(obs.notes, fmt.Sprintf("the app call had not returned %v after the exchange (a receive() or send() that never came back?): judged on what the probe saw until then", k.timeout()))
		}
		obs.Report = kept
		return nil
	}
	for _, r := range obs.Responses {
		if v, ok := r.header(ReportHeader); ok {
			rep, err := decodeReport([]byte(v))
			if err != nil {
				return fmt.Errorf("the %s header is not valid report JSON: %v", ReportHeader, err)
			}
			obs.Report = rep
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
			m, err := decodeReport(r.Body)
			if err != nil {
				return nil, fmt.Errorf("asking the probe for its report (%s: report:%s) got 200 with %q, which is not a report: the probe did not get its script (does the server pass the %s header to the app?)", ProbeHeader, token, clip(string(r.Body)), ProbeHeader)
			}
			// A report of a call still running is partial: wait for the
			// call to end, and judge the partial one only at the deadline.
			if running, _ := m["running"].(bool); running && patient && time.Now().Add(pause).Before(deadline) {
				time.Sleep(pause)
				pause = min(2*pause, 100*time.Millisecond)
				continue
			}
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
