package conformance

// A protocol is one of LASGI's protocols as the checker knows it: the
// fixture steps its cases take on the wire, what those cases observe (each
// expect field a fieldCheck), the probe verbs their scripts use, and the
// cases that check an app's side of it. Every list the checker, the loader,
// the replay and the app checker go through is the union over protocols, in
// this order, so a protocol is added by writing its unit in files of its own
// and listing it here.
type protocol struct {
	name     string // its scope type; "core" for what every scope type shares, or an extension's area ("timers")
	steps    []stepKind
	checks   []fieldCheck
	verbs    []probeVerb
	appCases func() []*AppCase
	// readRest reads, after the steps, what the server still owes on the
	// first connection (responses, frames); then the checker waits for the
	// close when the case wants one.
	readRest func(x *exchange)
	// begin runs before the steps, end after readRest, and cleanup when
	// the case is over, whatever happened (each nil when not needed); an
	// error from begin or end ends the observation (errSkip: a skip).
	begin, end func(x *exchange) error
	cleanup    func(x *exchange)
}

var protocols = []*protocol{&coreProtocol, &httpProtocol, &websocketProtocol, &lifespanProtocol, &timersProtocol, &groupsProtocol}

// coreProtocol is what every scope type shares (spec/core.md): pauses
// between steps, the scope as a whole, the coroutine the app runs in, and
// what send() raised.
var coreProtocol = protocol{
	name:   "core",
	steps:  []stepKind{pauseStep},
	checks: []fieldCheck{scopeCheck{}, coroutineCheck{}, sendsCheck{}},
	verbs:  coreVerbs,
}

// httpProtocol is spec/http.md: raw HTTP/1.1 bytes and responses read off
// the wire, the receive() events and body the app got, the probe's response
// verbs, and the app cases of the http scope.
var httpProtocol = protocol{
	name:     "http",
	steps:    httpSteps,
	checks:   []fieldCheck{responsesCheck{}, connectionCheck{}, appNotCalledCheck{}, eventsCheck{}, bodyCheck{}},
	verbs:    httpVerbs,
	appCases: httpAppCases,
	readRest: (*exchange).readResponses,
}

// stepKinds are every protocol's step kinds, and fieldChecks every
// protocol's checks in the order they are compared: what came on the wire
// before what the probe reported, since a report that could not be had ends
// the comparison. They are made in init, not by initializers: the units'
// functions go through them, which Go would take for an initialization
// cycle.
var (
	stepKinds   []stepKind
	fieldChecks []fieldCheck
)

func init() {
	var report []fieldCheck
	for _, p := range protocols {
		stepKinds = append(stepKinds, p.steps...)
		for _, fc := range p.checks {
			if fc.fromReport() {
				report = append(report, fc)
			} else {
				fieldChecks = append(fieldChecks, fc)
			}
		}
	}
	fieldChecks = append(fieldChecks, report...)
	expectFields = fieldNames()
}

// AppCases are the exchanges lasgi-check app plays against an app, every
// protocol's.
func AppCases() []*AppCase {
	var out []*AppCase
	for _, p := range protocols {
		if p.appCases != nil {
			out = append(out, p.appCases()...)
		}
	}
	return out
}

// AppCasesOf are the app cases of one protocol ("http", "websocket"); none
// for a name no protocol has.
func AppCasesOf(name string) []*AppCase {
	for _, p := range protocols {
		if p.name == name && p.appCases != nil {
			return p.appCases()
		}
	}
	return nil
}
