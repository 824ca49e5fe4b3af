package conformance

import (
	"fmt"

	"time"
)

// timersProtocol is spec/timers.md, the lasgi.timers extension, as the
// checker knows it: the probe's verbs that wait with a timeout (wait:S,
// receive({timeout = S}); wait alone, receive({})) or pass receive() an
// invalid argument (badwait:KIND), and bounds on how long an exchange took.
// Its cases require the extension, so a server that does not offer it
// skips them.
var timersProtocol = protocol{
	name:   "timers",
	checks: []fieldCheck{elapsedCheck{min: true}, elapsedCheck{}},
	verbs:  timersVerbs,
}

// BadWaitKinds are the invalid arguments of receive() the probe passes
// (badwait:KIND); a server offering timers must refuse each by raising
// timers.receive.options (fixtures/PROBE.md).
var BadWaitKinds = []string{"negative", "string", "not-table", "nan", "infinite"}

var timersVerbs = []probeVerb{
	{name: "wait", max: 1, check: decimalSeconds},
	{name: "badwait", min: 1, max: 1, check: oneOf("an invalid receive argument", BadWaitKinds...)},
}

// decimalSeconds checks a wait's timeout: a decimal number of seconds, as the
// probe parses it.
func decimalSeconds(args []string) error {
	for _, a := range args {
		if len(a) > 12 || !isDecimal(a) {
			return fmt.Errorf("takes a decimal number of seconds (such as 0.25), got %q", a)
		}
	}
	return nil
}

func isDecimal(s string) bool {
	dot := false
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
		case r == '.' && !dot && i > 0:
			dot = true
		default:
			return false
		}
	}
	return s != ""
}

// elapsedCheck is expect.elapsed_min_ms (min) or expect.elapsed_max_ms:
// how long the exchange took against a bound. The two are apart so that a
// case can give them rules of different levels (timers.receive.not-early, a
// MUST NOT, and timers.receive.prompt, a SHOULD).
type elapsedCheck struct{ min bool }

func (c elapsedCheck) field() string {
	if c.min {
		return "elapsed_min_ms"
	}
	return "elapsed_max_ms"
}

func (c elapsedCheck) bound(e *Expect) *int64 {
	if c.min {
		return e.ElapsedMinMS
	}
	return e.ElapsedMaxMS
}

func (c elapsedCheck) has(e *Expect) bool { return c.bound(e) != nil }
func (elapsedCheck) fromReport() bool     { return false }

func (c elapsedCheck) observe(got *Expect, obs *Observation) {
	ms := obs.Elapsed.Milliseconds()
	if c.min {
		got.ElapsedMinMS = &ms
	} else {
		got.ElapsedMaxMS = &ms
	}
}

func (c elapsedCheck) compare(want, got *Expect, obs *Observation) []finding {
	bound, took := *c.bound(want), obs.Elapsed
	limit := time.Duration(bound) * time.Millisecond
	switch {
	case c.min && took < limit:
		return []finding{findingf(c.field(), "the exchange took %v, less than the %v it must take at least", took.Round(time.Millisecond), limit)}
	case !c.min && took > limit:
		return []finding{findingf(c.field(), "the exchange took %v, more than the %v it should take at most", took.Round(time.Millisecond), limit)}
	}
	return nil
}

// record leaves the bound as written: it is a tolerance the spec allows,
// not what one run happened to take.
func (elapsedCheck) record(*Expect, *Expect, *Observation) {}
