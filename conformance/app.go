package conformance

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lasgi/lasgi/reference/server/bridge"
	"github.com/lasgi/lasgi/spec/event"
)

// AppCase is one exchange the kit plays against an app, standing in for
// the server: the scope it hands over, the request body as the receive()
// events it delivers one at a time, and where the client goes away.
type AppCase struct {
	ID    string
	Rules []string
	Scope event.Scope
	Body  []string // one http.request per piece; the last has more_body = false
	// DisconnectAfter is how many pieces the app receives before the client
	// goes away; len(Body) or more: once it has them all. -1 means it stays
	// as long as the app has something to say: it leaves once the app, the
	// body all taken, waits in receive() for more (AppChecker.play).
	DisconnectAfter int
	// WantRaise names the rule by which the app must end with an error (a
	// scope it cannot serve), or is "".
	WantRaise string
	// WS, when set, makes the case a WebSocket exchange (Scope.Type
	// "websocket"): Body and DisconnectAfter are then unused, and the client
	// acts as WS says (app_ws.go).
	WS *WSScript
	// Lifespan, when set, makes the case a lifespan call (Scope.Type
	// "lifespan"): the server's side is the script (app_lifespan.go).
	Lifespan *LifespanScript
}

// AppChecker checks an app by playing the server. Load starts an engine
// running the app (in this process, the reference server's gopher-lua
// engine); a new one replaces an engine an app left stuck in a case. The
// engine's Start and wake-ups must return at once, so that each step's
// timeout holds while the app runs (engine.Options.Async).
type AppChecker struct {
	Load    func() (bridge.Engine, error)
	Timeout time.Duration // each step of a case; 0 means 5 seconds
	Strict  bool          // a case that broke only SHOULD, SHOULD NOT or MAY rules fails instead of warning

	engine bridge.Engine
}

// Close stops the engine.
func (a *AppChecker) Close() error {
	if a.engine == nil {
		return nil
	}
	err := a.engine.Close()
	a.engine = nil
	return err
}

// Run plays c and judges what the app did.
func (a *AppChecker) Run(ctx context.Context, c *AppCase) Result {
	start := time.Now()
	var problems []string
	if c.Lifespan != nil {
		// A lifespan call comes first in a Lua state (lifespan.call.per-state),
		// and the state it leaves must reach no other case: an engine of its own.
		a.Close()
	}
	if a.engine == nil {
		eng, err := a.Load()
		if err != nil {
			problems = []string{err.Error()}
		}
		a.engine = eng
	}
	if a.engine != nil {
		var stuck bool
		problems, stuck = a.play(ctx, c)
		if stuck || c.Lifespan != nil {
			a.Close() // the app may still be running: start afresh
		}
	}
	return appResult(c, problems, a.Strict, time.Since(start))
}

// appResult makes the result of an app case from its problems. The rules
// an app broke (named in the problems' "lasgi: <rule>: " text) come first,
// since they are what the report is about, and their levels decide between
// failure and warning; a problem that names no rule (an app that raised an
// error of its own, or hung) is a failure.
func appResult(c *AppCase, problems []string, strict bool, elapsed time.Duration) Result {
	var broken []string
	unnamed := false
	for _, p := range problems {
		sub := ruleInError.FindStringSubmatch(p)
		switch {
		case sub == nil || sub[1] == "disconnected":
			unnamed = true
		case !contains(broken, sub[1]):
			broken = append(broken, sub[1])
		}
	}
	rules := append([]string(nil), broken...)
	for _, r := range c.Rules {
		if !contains(rules, r) {
			rules = append(rules, r)
		}
	}
	res := Result{Case: &Case{ID: c.ID, Rules: rules, File: "app.json"}, Broken: broken, Elapsed: elapsed}
	if len(problems) == 1 && strings.HasPrefix(problems[0], declinedPrefix) {
		res.Status, res.Message = Passed, strings.TrimPrefix(problems[0], declinedPrefix)
		return res
	}
	if len(problems) == 0 {
		res.Status = Passed
		return res
	}
	res.Status = levelStatus(broken, strict)
	if unnamed {
		res.Status = Failed
	}
	// Explain the rules that were broken, or else the case's own; not the
	// send rules every case watches.
	explained := &Case{ID: c.ID}
	for _, r := range rules {
		if len(explained.Rules) > 0 && contains(sendRules, r) {
			break
		}
		explained.Rules = append(explained.Rules, r)
	}
	res.Message = explain(explained, nil, problems, nil)
	return res
}

// RunAll plays every case, calling progress after each. Once ctx is done
// (lasgi-check app's --run-timeout is a deadline on it, its cause the
// reason), the cases left are failed as not run, without playing them, and
// the one being played ends at once.
func (a *AppChecker) RunAll(ctx context.Context, cases []*AppCase, progress func(int, Result)) []Result {
	results, _ := runCases(ctx, len(cases), 1, func(i int) Result {
		return a.Run(ctx, cases[i])
	}, func(int, Result) string { return "" }, func(i int, why string) Result {
		c := cases[i]
		return Result{Case: &Case{ID: c.ID, Rules: c.Rules, File: "app.json"}, Status: Failed, Message: "not run: " + why}
	}, progress)
	return results
}

// play runs one case; stuck says the app did not return.
func (a *AppChecker) play(ctx context.Context, c *AppCase) (problems []string, stuck bool) {
	timeout := a.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	if c.WS != nil {
		return a.playWS(ctx, c, timeout)
	}
	if c.Lifespan != nil {
		return a.playLifespan(ctx, c, timeout)
	}
	// Every step (the app taking a piece, then returning) has the timeout;
	// the call as a whole has as many.
	deadline := time.Now().Add(timeout * time.Duration(len(c.Body)+2))

	scope := c.Scope
	hub := offerGroups(a.engine, &scope)
	call := bridge.NewCall(&scope, deadline)
	call.Groups = hub
	room := call.Room()
	a.engine.Start(call)

	// What the app sent is summed up, never kept: an endless body must not
	// grow the checker.
	var sent sentLog
	collect := func() {
		n := 0
		for _, ev := range call.Take() {
			sent.add(&ev)
			n += len(ev.Body)
		}
		call.Written(n)
	}
	wait := func(ready func() bool) bool {
		timer := time.NewTimer(timeout)
		defer timer.Stop()
		for !ready() {
			select {
			case <-call.Notify():
			case <-room:
			case <-timer.C:
				call.Disconnect()
				return false
			case <-ctx.Done():
				call.Disconnect()
				return false
			}
			collect()
		}
		return true
	}

	disconnected := false
	pieces := c.Body
	if len(pieces) == 0 {
		pieces = []string{""}
	}
	for i, piece := range pieces {
		if c.DisconnectAfter >= 0 && i == c.DisconnectAfter {
			call.Disconnect()
			disconnected = true
			break
		}
		call.Push(event.Event{Type: event.HTTPRequest, Body: piece, MoreBody: i < len(pieces)-1})
		finished := func() bool { return call.State().Finished }
		if !wait(func() bool { return call.Pending() == 0 || finished() }) {
			if ctx.Err() != nil {
				return []string{cutOff(ctx)}, true
			}
			return []string{fmt.Sprintf("the app did not take http.request %d of %d within %v%s", i+1, len(pieces), timeout, sent.meanwhile())}, true
		}
		if finished() {
			break
		}
	}
	if !disconnected && c.DisconnectAfter >= len(pieces) {
		call.Disconnect()
		disconnected = true
	}
	// A client that stays leaves once the app, the body all taken, waits in
	// receive() for more (the call's Watch: a server would watch the socket
	// then): it sends nothing more, so the app can only be waiting for it to
	// go, as a stream paced by lasgi.timers or a long poll does, whose
	// timeout would otherwise cost the case real seconds or its deadline. A
	// receive({timeout = 0}) is a look, not a wait: it gets lasgi.timeout
	// and the client stays. harness.lua's client leaves at the same point.
	leaves := func() bool {
		st := call.State()
		if !disconnected && st.Watch && !st.Finished {
			call.Disconnect()
			disconnected = true
		}
		return st.Finished
	}
	if !wait(leaves) {
		if ctx.Err() != nil {
			return []string{cutOff(ctx)}, true
		}
		return []string{notReturned(disconnected, timeout) + sent.meanwhile()}, true
	}
	collect()
	return judge(c, call, &sent, disconnected), false
}

// judge checks how an app call ended.
func judge(c *AppCase, call *bridge.Call, sent *sentLog, disconnected bool) []string {
	st := call.State()
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	errText := ""
	if st.Err != nil {
		errText = ClipText(st.Err.Error())
	}
	switch {
	case st.Err == nil && c.WantRaise != "":
		add("%s", servedUnknownScope(c))
	case st.Err != nil:
		if p, ok := errorProblem(st.Err, errText, disconnected); ok {
			if p != "" {
				add("%s", p)
			}
		} else if c.WantRaise == "" {
			add("the app raised an error: %s", errText)
		}
	}
	if st.Err == nil && c.WantRaise == "" && !disconnected && !st.Complete {
		resp := call.Response()
		if resp.WantsTrailers() && sent.lastBody {
			add("lasgi: %s: the app set trailers = true and sent its last body, but returned without http.response.trailers", "http.trailers.required")
		} else {
			add("lasgi: %s: the app returned without completing its response (events sent: %s)", event.RuleAppCompleteResponse, sent)
		}
	}
	return append(problems, findingProblems(call)...)
}

// errorProblem judges the errors a call ends with the same way in every
// protocol: the disconnected error (a problem only when the client never
// went away: ""), a rule the server itself ended the call for
// (bridge.Call.Receive), or an error naming a rule the server raised into
// the app (for a group event where groups are not offered, the rule the app
// broke, not the server's core.send.type: raisedProblem). ok is false for
// any other error, which the protocol judges.
func errorProblem(err error, errText string, disconnected bool) (problem string, ok bool) {
	var v *event.Violation
	switch {
	case strings.Contains(errText, bridge.DisconnectedPrefix):
		if !disconnected {
			return "the app ended with a disconnected error, but the client never went away: " + errText, true
		}
		return "", true
	case errors.As(err, &v) && !groupEventRefused.MatchString(errText):
		return errText, true
	}
	if sub := ruleInError.FindStringSubmatch(errText); sub != nil {
		return raisedProblem(sub[1], errText), true
	}
	return "", false
}

// raisedProblem is the problem of an app the server raised the error text
// into for rule, in every protocol and on every checker.
func raisedProblem(rule, errText string) string {
	if p, ok := groupsNotOffered(errText); ok {
		return p
	}
	return fmt.Sprintf("the app broke rule %s; the server raised into it: %s", rule, errText)
}

// findingProblems are the SHOULD rules the server put right for the app (a
// 204's body, an uppercase header name), once per rule: their level makes
// them warnings.
func findingProblems(call *bridge.Call) []string {
	var seen, problems []string
	for _, f := range call.Findings() {
		if !contains(seen, f.Rule) {
			seen = append(seen, f.Rule)
			problems = append(problems, f.Error())
		}
	}
	return problems
}

// cutOff says a case was ended before its time by the end of the run.
func cutOff(ctx context.Context) string {
	return "not finished: " + context.Cause(ctx).Error()
}

// notReturned says an app did not return in time; after http.disconnect
// that breaks http.disconnect.app-return.
func notReturned(disconnected bool, timeout time.Duration) string {
	if disconnected {
		return fmt.Sprintf("lasgi: http.disconnect.app-return: the app did not return within %v after receive() returned http.disconnect", timeout)
	}
	return fmt.Sprintf("the app did not return within %v", timeout)
}

// servedUnknownScope says an app returned normally from a scope it should
// have refused (core.app.scope-type, core.scope.version-check).
func servedUnknownScope(c *AppCase) string {
	return fmt.Sprintf("lasgi: %s: the app returned normally from a scope it cannot serve (%s); it should raise an error", c.WantRaise, describeScope(&c.Scope))
}

func describeScope(s *event.Scope) string {
	v := s.LASGIVersion
	if v == "" {
		v = event.LASGIVersion
	}
	return fmt.Sprintf("type %q, lasgi.version %q", s.Type, v)
}

// sentLog sums up the events an app sent in a case: the types of the first
// few in order, how many there were, and the body bytes.
type sentLog struct {
	types     []string // of the first maxLoggedTypes events
	events    int
	bodyBytes int64
	lastBody  bool // a body with more_body = false was sent
	moreBody  bool // the last body sent had more_body = true
}

const maxLoggedTypes = 8

func (l *sentLog) add(ev *event.Event) {
	if len(l.types) < maxLoggedTypes {
		l.types = append(l.types, ev.Type)
	}
	l.events++
	if ev.Type == event.HTTPResponseBody {
		l.bodyBytes += int64(len(ev.Body))
		l.moreBody = ev.MoreBody
		if !ev.MoreBody {
			l.lastBody = true
		}
	}
}

// String lists the types sent ("none"), and past the first few how many
// events and body bytes there were.
func (l *sentLog) String() string {
	if l.events == 0 {
		return "none"
	}
	s := strings.Join(l.types, ", ")
	if l.events > len(l.types) {
		s += fmt.Sprintf(", ... (%d events, %d body bytes)", l.events, l.bodyBytes)
	}
	return s
}

// meanwhile says what the app sent while the checker waited for it, if
// anything: an app that streams an endless body is told from one that hangs.
func (l *sentLog) meanwhile() string {
	if l.events == 0 {
		return ""
	}
	s := fmt.Sprintf("; it sent %d events, %d body bytes", l.events, l.bodyBytes)
	if l.moreBody {
		s += ", the last body with more_body = true"
	}
	return s
}
