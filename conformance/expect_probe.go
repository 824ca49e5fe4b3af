package conformance

import (
	"regexp"

	"github.com/google/go-cmp/cmp"
)

// The checks of what the probe app reported: the scope, the receive()
// events, the request body, the coroutine, and the outcomes of send().

// scopeCheck is expect.scope: the listed keys, with value patterns and the
// checker's own addresses (scope_compare.go).
type scopeCheck struct{}

func (scopeCheck) field() string      { return "scope" }
func (scopeCheck) has(e *Expect) bool { return e.Scope != nil }
func (scopeCheck) fromReport() bool   { return true }

func (scopeCheck) observe(got *Expect, obs *Observation) {
	got.Scope = withoutProbeHeader(obs.Report.Scope)
}

func (scopeCheck) compare(want, got *Expect, obs *Observation) []finding {
	if d := compareScope(want.Scope, got.Scope, obs); d != "" {
		return []finding{findingf("scope", "scope differs (-expected +got):\n%s", d)}
	}
	return nil
}

// record writes the observed value of each listed key; a pattern stays as
// written, and a value equal to the checker's own address becomes its
// placeholder.
func (scopeCheck) record(e, got *Expect, obs *Observation) {
	scope := make(map[string]any, len(e.Scope))
	for k, v := range e.Scope {
		scope[k] = v
		if _, ok := scopePattern(v); ok {
			continue // a kind of value, not a value: kept as written
		}
		scope[k] = asBytes(got.Scope[k])
		for placeholder, addr := range map[string][]any{ClientPlaceholder: obs.Client, ServerPlaceholder: obs.Server} {
			if cmp.Equal(normalizeNumbers(got.Scope[k]), normalizeNumbers(addr)) && addr != nil {
				scope[k] = placeholder
			}
		}
	}
	e.Scope = scope
}

// eventsCheck is expect.events: the receive() events, runs of http.request
// merged (a server may split a body anywhere).
type eventsCheck struct{}

func (eventsCheck) field() string      { return "events" }
func (eventsCheck) has(e *Expect) bool { return e.Events != nil }
func (eventsCheck) fromReport() bool   { return true }

func (eventsCheck) observe(got *Expect, obs *Observation) {
	got.Events = mergeRuns(obs.Report.Events)
}

func (eventsCheck) compare(want, got *Expect, _ *Observation) []finding {
	if d := cmp.Diff(want.Events, got.Events); d != "" {
		return []finding{findingf("events", "receive() events differ (-expected +got; http.request runs merged):\n%s", d)}
	}
	return nil
}

func (eventsCheck) record(e, got *Expect, _ *Observation) { e.Events = got.Events }

// mergeRuns merges runs of http.request events into one (bodies
// concatenated, more_body of the last, the problems of each). A fresh slice: the events are left
// as they are.
func mergeRuns(evs []Event) []Event {
	var out []Event
	for _, ev := range evs {
		if n := len(out); n > 0 && ev.Type == "http.request" && out[n-1].Type == "http.request" && out[n-1].MoreBody {
			out[n-1].Body += ev.Body
			out[n-1].MoreBody = ev.MoreBody
			out[n-1].Problems = append(out[n-1].Problems, ev.Problems...)
			continue
		}
		ev.Problems = append([]string(nil), ev.Problems...)
		out = append(out, ev)
	}
	return out
}

// bodyCheck is expect.body: the length and Adler-32 of every request body
// byte the app received.
type bodyCheck struct{}

func (bodyCheck) field() string      { return "body" }
func (bodyCheck) has(e *Expect) bool { return e.Body != nil }
func (bodyCheck) fromReport() bool   { return true }

func (bodyCheck) observe(got *Expect, obs *Observation) { got.Body = obs.Report.Body }

func (bodyCheck) compare(want, got *Expect, _ *Observation) []finding {
	if got.Body == nil || *want.Body != *got.Body {
		return []finding{findingf("body", "request body seen by the app: expected %+v, got %+v", want.Body, got.Body)}
	}
	return nil
}

func (bodyCheck) record(e, got *Expect, _ *Observation) { e.Body = got.Body }

// coroutineCheck is expect.coroutine: the app runs in a coroutine of its
// own.
type coroutineCheck struct{}

func (coroutineCheck) field() string      { return "coroutine" }
func (coroutineCheck) has(e *Expect) bool { return e.Coroutine != nil }
func (coroutineCheck) fromReport() bool   { return true }

func (coroutineCheck) observe(got *Expect, obs *Observation) { got.Coroutine = obs.Report.Coroutine }

func (coroutineCheck) compare(want, got *Expect, _ *Observation) []finding {
	if got.Coroutine == nil || *got.Coroutine != *want.Coroutine {
		return []finding{findingf("coroutine", "the app must run in a coroutine of its own, but coroutine.running() says it does not")}
	}
	return nil
}

func (coroutineCheck) record(e, got *Expect, _ *Observation) { e.Coroutine = got.Coroutine }

// sendsCheck is expect.sends: what each probe send() came to, an error by
// the rule it named. Its part sends.rule is which rule an error named: a
// case whose events break several rules keeps it apart, since which one a
// server reports first is a SHOULD (core.send.check-order).
type sendsCheck struct{}

func (sendsCheck) field() string      { return "sends" }
func (sendsCheck) has(e *Expect) bool { return e.Sends != nil }
func (sendsCheck) fromReport() bool   { return true }

func (sendsCheck) subFields() []string { return []string{fieldSendsRule} }
func (sendsCheck) hasSub(e *Expect, _ string) bool {
	for _, s := range e.Sends {
		if s.Error != "" {
			return true
		}
	}
	return false
}

func (sendsCheck) observe(got *Expect, obs *Observation) {
	for _, s := range obs.Report.Sends {
		got.Sends = append(got.Sends, sendOutcome(s))
	}
}

// compare: a send that raised an error naming a rule, where another rule
// was expected, concerns sends.rule (sendsOnlyRuleDiffers); any other
// difference (no error, a malformed one, a missing send) concerns sends.
func (sendsCheck) compare(want, got *Expect, _ *Observation) []finding {
	d := cmp.Diff(want.Sends, got.Sends)
	if d == "" {
		return nil
	}
	field := "sends"
	if sendsOnlyRuleDiffers(want.Sends, got.Sends) {
		field = fieldSendsRule
	}
	return []finding{findingf(field, "send() outcomes differ (-expected +got; error is the rule ID the error named):\n%s", d)}
}

func (sendsCheck) record(e, got *Expect, _ *Observation) { e.Sends = got.Sends }

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

// ruleID matches a rule ID as a send error named it.
var ruleID = regexp.MustCompile(`^[a-z0-9]+(?:\.[a-z0-9-]+)+$`)

// ruleInError finds the rule a LASGI error value names.
var ruleInError = regexp.MustCompile(`lasgi: ([a-z0-9]+(?:\.[a-z0-9-]+)+|disconnected): `)
