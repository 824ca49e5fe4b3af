package conformance

import (
	"fmt"
	"strings"
)

// The checks of a launched server (Case.Launch): how it exited, whether its
// probe served connection scopes, each Lua state's lifespan record, when
// its connection calls ran, and what the state verb reported. Each needs
// the launch, so each observes nothing without one.

// Exits a case may expect: the server exits by itself with a status other
// than 0 (a failed startup), or does so if it exits by itself at all (a
// startup that never replies, which a server may wait for without end).
var exitKinds = []string{"nonzero", "nonzero-if-exited"}

// exitCheck is expect.exit.
type exitCheck struct{}

func (exitCheck) field() string      { return "exit" }
func (exitCheck) has(e *Expect) bool { return e.Exit != "" }
func (exitCheck) fromReport() bool   { return false }

func (exitCheck) observe(got *Expect, obs *Observation) {
	o := obs.launch
	switch {
	case o == nil:
	case o.exitedSelf && o.exitCode != 0:
		got.Exit = "nonzero"
	case o.exitedSelf:
		got.Exit = "zero"
	default:
		got.Exit = "running"
	}
}

func (exitCheck) compare(want, got *Expect, obs *Observation) []finding {
	o := obs.launch
	switch {
	case got.Exit == "nonzero" || want.Exit == "nonzero-if-exited" && got.Exit == "running":
		return nil
	case got.Exit == "zero":
		return []finding{findingf("exit", "the server exited by itself with status 0; it printed:\n%s", ClipText(o.output))}
	default:
		return []finding{findingf("exit", "the server was still running a step deadline after the exchange, and exited (status %d) only when asked to; it printed:\n%s", o.exitCode, ClipText(o.output))}
	}
}

func (exitCheck) record(*Expect, *Expect, *Observation) {}

// servedCheck is expect.served: whether the probe ran for a connection
// scope, by the record's call lines and the responses that carry its
// report.
type servedCheck struct{}

func (servedCheck) field() string      { return "served" }
func (servedCheck) has(e *Expect) bool { return e.Served != nil }
func (servedCheck) fromReport() bool   { return false }

func (servedCheck) observe(got *Expect, obs *Observation) {
	served := false
	for _, r := range obs.Responses {
		_, ok := r.header(ReportHeader)
		served = served || ok
	}
	if o := obs.launch; o != nil {
		for _, line := range o.lines {
			served = served || line["at"] == "call"
		}
	}
	got.Served = &served
}

func (servedCheck) compare(want, got *Expect, _ *Observation) []finding {
	if *want.Served == *got.Served {
		return nil
	}
	if *got.Served {
		return []finding{findingf("served", "the probe served a connection scope")}
	}
	return []finding{findingf("served", "the probe served no connection scope")}
}

func (servedCheck) record(e, got *Expect, _ *Observation) { e.Served = got.Served }

// recordCheck is expect.record: the lines each Lua state's lifespan call
// recorded, in order, each compared by key as a scope is; every Lua state
// that made a lifespan call must show the same.
type recordCheck struct{}

func (recordCheck) field() string      { return "record" }
func (recordCheck) has(e *Expect) bool { return e.Record != nil }
func (recordCheck) fromReport() bool   { return false }

func (recordCheck) observe(got *Expect, obs *Observation) {
	if o := obs.launch; o != nil && len(o.lifespanStates) > 0 {
		got.Record = o.lifespan[o.lifespanStates[0]]
	}
}

func (recordCheck) compare(want, _ *Expect, obs *Observation) []finding {
	o := obs.launch
	var out []finding
	// A Lua state that served without a lifespan call is calls_after_startup's
	// to judge.
	for _, state := range o.lifespanStates {
		if d := compareRecord(want.Record, o.lifespan[state], obs); d != "" {
			out = append(out, findingf("record", "the lifespan call of Lua state %s recorded otherwise (-expected +got):\n%s", state, d))
		}
	}
	return out
}

// record writes, for each pinned line, the observed values of the keys it
// lists; lines of another number are written whole.
func (recordCheck) record(e, got *Expect, _ *Observation) {
	if len(e.Record) != len(got.Record) {
		e.Record = got.Record
		return
	}
	for i, line := range e.Record {
		e.Record[i] = asBytes(onlyListed(line, got.Record[i])).(map[string]any)
	}
}

// compareRecord compares record lines with the expected ones, each by the
// keys it lists, and their number.
func compareRecord(want, got []map[string]any, obs *Observation) string {
	var b strings.Builder
	for i := 0; i < max(len(want), len(got)); i++ {
		switch {
		case i >= len(got):
			fmt.Fprintf(&b, "line %d: missing, want %v\n", i+1, want[i])
		case i >= len(want):
			fmt.Fprintf(&b, "line %d: not expected: %v\n", i+1, got[i])
		default:
			if d := compareScope(want[i], onlyListed(want[i], got[i]), obs); d != "" {
				fmt.Fprintf(&b, "line %d (%v):\n%s\n", i+1, got[i]["at"], d)
			}
		}
	}
	return b.String()
}

// callsAfterStartupCheck is expect.calls_after_startup: each connection
// call the probe recorded ran in a Lua state whose lifespan call had
// replied lifespan.startup.complete, or had turned out to have no
// lifespan (it raised or returned first).
type callsAfterStartupCheck struct{}

func (callsAfterStartupCheck) field() string      { return "calls_after_startup" }
func (callsAfterStartupCheck) has(e *Expect) bool { return e.CallsAfterStartup }
func (callsAfterStartupCheck) fromReport() bool   { return false }
func (callsAfterStartupCheck) observe(got *Expect, _ *Observation) {
	got.CallsAfterStartup = true
}

func (callsAfterStartupCheck) compare(_, _ *Expect, obs *Observation) []finding {
	var out []finding
	for _, line := range obs.launch.lines {
		if line["at"] != "call" {
			continue
		}
		switch line["startup"] {
		case "complete", "raised", "returned":
		case "none":
			out = append(out, findingf("calls_after_startup", "a connection call ran in Lua state %v, which made no lifespan call, while other Lua states did", line["state"]))
		default:
			out = append(out, findingf("calls_after_startup", "a connection call ran in Lua state %v while its lifespan startup was %v", line["state"], line["startup"]))
		}
	}
	return out
}

func (callsAfterStartupCheck) record(*Expect, *Expect, *Observation) {}

// callsBeforeShutdownCheck is expect.calls_before_shutdown: no connection
// call of a Lua state starts or ends after that state's lifespan call
// received lifespan.shutdown (a call cancelled before it has no end line).
type callsBeforeShutdownCheck struct{}

func (callsBeforeShutdownCheck) field() string      { return "calls_before_shutdown" }
func (callsBeforeShutdownCheck) has(e *Expect) bool { return e.CallsBeforeShutdown }
func (callsBeforeShutdownCheck) fromReport() bool   { return false }
func (callsBeforeShutdownCheck) observe(got *Expect, _ *Observation) {
	got.CallsBeforeShutdown = true
}

func (callsBeforeShutdownCheck) compare(_, _ *Expect, obs *Observation) []finding {
	var out []finding
	shut := map[any]bool{}
	for _, line := range obs.launch.lines {
		switch line["at"] {
		case "shutdown":
			shut[line["state"]] = true
		case "call", "call-end":
			if shut[line["state"]] {
				out = append(out, findingf("calls_before_shutdown", "a connection call of Lua state %v %s after its lifespan call received lifespan.shutdown", line["state"], map[any]string{"call": "started", "call-end": "ended"}[line["at"]]))
			}
		}
	}
	return out
}

func (callsBeforeShutdownCheck) record(*Expect, *Expect, *Observation) {}

// lifespanCheck is expect.lifespan: what the probe's state verb reported
// of the call's scope.state, compared by key as the scope is.
type lifespanCheck struct{}

func (lifespanCheck) field() string      { return "lifespan" }
func (lifespanCheck) has(e *Expect) bool { return e.Lifespan != nil }
func (lifespanCheck) fromReport() bool   { return true }
func (lifespanCheck) observe(got *Expect, obs *Observation) {
	got.Lifespan = obs.Report.Lifespan
}

func (lifespanCheck) compare(want, got *Expect, obs *Observation) []finding {
	if got.Lifespan == nil {
		return []finding{findingf("lifespan", "the probe's report has no state report: did the script run the state verb?")}
	}
	if d := compareScope(want.Lifespan, got.Lifespan, obs); d != "" {
		return []finding{findingf("lifespan", "the call's scope.state differs (-expected +got):\n%s", d)}
	}
	return nil
}

func (lifespanCheck) record(e, got *Expect, _ *Observation) {
	e.Lifespan = asBytes(onlyListed(e.Lifespan, got.Lifespan)).(map[string]any)
}

// onlyListed is got cut down to the keys want lists, at every depth where
// want holds an object with keys: a record line's scope is compared by the
// keys a case names, as a report's scope is, and an empty object in want
// (an empty state) still asks for an empty one.
func onlyListed(want, got map[string]any) map[string]any {
	out := make(map[string]any, len(want))
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			continue
		}
		wm, wok := w.(map[string]any)
		gm, gok := g.(map[string]any)
		if wok && gok && len(wm) > 0 {
			g = onlyListed(wm, gm)
		}
		out[k] = g
	}
	return out
}
