package conformance

import (
	"fmt"
	"strings"
)

// A fieldCheck is one observable of a case: an expect field, what a run
// observed for it, how the two compare, and what `record` writes back. Each
// lives in one place with its three sides, and a protocol lists its checks
// (protocol.go): one that observes something new adds a check, not a case to
// every switch.
type fieldCheck interface {
	// field is the expect field's name, as fixtures and field_rules spell it.
	field() string
	// has reports whether e checks the field.
	has(e *Expect) bool
	// fromReport reports whether the field is compared against the probe's
	// report (which then must come), rather than the wire.
	fromReport() bool
	// observe sets the field of got to what obs shows.
	observe(got *Expect, obs *Observation)
	// compare checks the field of want, which has it, against got, as
	// findings about the field.
	compare(want, got *Expect, obs *Observation) []finding
	// record replaces the field of pinned, which checks it, with got's.
	record(pinned, got *Expect, obs *Observation)
}

// subFields is the optional ability of a check whose findings may concern a
// part of its field that field_rules can name apart (sends.rule).
type subFields interface {
	subFields() []string
	hasSub(e *Expect, sub string) bool
}

// expectFields are the fields of expect, as field_rules keys name them
// (made in init, after fieldChecks).
var expectFields []string

func fieldNames() []string {
	var out []string
	for _, fc := range fieldChecks {
		out = append(out, fc.field())
		if sf, ok := fc.(subFields); ok {
			out = append(out, sf.subFields()...)
		}
	}
	return append(out, fieldOneOf)
}

// has reports whether the expectation checks field.
func (e *Expect) has(field string) bool {
	if field == fieldOneOf {
		return len(e.OneOf) > 0
	}
	for _, fc := range fieldChecks {
		if fc.field() == field {
			return fc.has(e)
		}
		if sf, ok := fc.(subFields); ok && contains(sf.subFields(), field) {
			return sf.hasSub(e, field)
		}
	}
	return false
}

// reportFields are the fields that need the probe's report, in the order
// they are compared.
func (e *Expect) reportFields() []string {
	var out []string
	for _, fc := range fieldChecks {
		if fc.fromReport() && fc.has(e) {
			out = append(out, fc.field())
		}
	}
	return out
}

func (e *Expect) needsReport() bool { return len(e.reportFields()) > 0 }

// observed turns an observation into the Expect shape, with every field
// filled in: what `record` writes and what `compare` compares.
func observed(obs *Observation) Expect {
	var e Expect
	for _, fc := range fieldChecks {
		if !fc.fromReport() || obs.Report != nil {
			fc.observe(&e, obs)
		}
	}
	return e
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
			fs = append(fs, findingf("responses", "response %d has neither content-length nor chunked framing and the connection stayed open: a client cannot tell where its body ends", i+1))
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

// compareExpect checks the fields present in want against got. When the
// probe's report could not be had, the fields that need it are not
// compared: why is said once, against the first of them.
func compareExpect(want, got *Expect, obs *Observation) []finding {
	var fs []finding
	for _, fc := range fieldChecks {
		if !fc.has(want) {
			continue
		}
		if fc.fromReport() && obs.reportErr != nil {
			return append(fs, finding{fc.field(), obs.reportErr.Error()})
		}
		fs = append(fs, fc.compare(want, got, obs)...)
	}
	return fs
}

// Record returns c's Expect with every present field replaced by what obs
// shows: how `lasgi-check record` pins a case to the reference server.
func Record(c *Case, obs *Observation) Expect {
	got := observed(obs)
	e := c.Expect
	for _, fc := range fieldChecks {
		if fc.has(&e) {
			fc.record(&e, &got, obs)
		}
	}
	return e
}

// findingf makes a finding about field.
func findingf(field, format string, args ...any) finding {
	return finding{field, fmt.Sprintf(format, args...)}
}
