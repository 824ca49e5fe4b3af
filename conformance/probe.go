package conformance

import (
	"fmt"
	"strconv"
	"strings"
)

// ProbePlaceholder marks where in a fixture's raw request the probe header
// line goes; the checker replaces it with "lasgi-probe: <script>\r\n".
const ProbePlaceholder = "{probe}"

// ProbeHeader is the request header that carries the probe's script, and
// ReportHeader the response header the probe's report comes back in.
const (
	ProbeHeader  = "lasgi-probe"
	ReportHeader = "lasgi-probe-report"
)

// A probeVerb is a word of the probe's script language (fixtures/PROBE.md):
// how many arguments it takes and, when their form is fixed, how they are
// checked. Each protocol brings its own verbs (protocol.verbs).
type probeVerb struct {
	name     string
	min, max int
	check    func(args []string) error // nil: any percent-encoded text
}

// oneOf checks that the verb's arguments are among allowed.
func oneOf(what string, allowed ...string) func([]string) error {
	return func(args []string) error {
		for _, a := range args {
			if !contains(allowed, a) {
				return fmt.Errorf("takes %s (%s), got %q", what, strings.Join(allowed, ", "), a)
			}
		}
		return nil
	}
}

// digits checks a number argument of at most most digits.
func digits(what string, most int) func([]string) error {
	return func(args []string) error {
		if !allDigits(args[0], most) {
			return fmt.Errorf("takes %s, got %q", what, args[0])
		}
		return nil
	}
}

// coreVerbs are the verbs of every scope type: the report's token, the
// event tables the probe checks, raising and returning.
var coreVerbs = []probeVerb{
	{name: "token", min: 1, max: 1}, {name: "recv"}, {name: "noreport"},
	{name: "bad", min: 1, max: 1, check: func(args []string) error {
		if !isBadKind(args[0]) {
			return fmt.Errorf("unknown invalid event %q (see fixtures/PROBE.md)", args[0])
		}
		return nil
	}},
	{name: "raise", min: 1, max: 1}, {name: "throw", min: 1, max: 1, check: oneOf("an error value", "table", "nil", "number", "boolean")},
	{name: "return"}, {name: "report", min: 1, max: 1},
	{name: "watch"}, {name: "verify", max: 3, check: oneOf("a rule", "core.scope.fresh", "core.receive.fresh", "core.send.unmodified")},
	{name: "extra"}, {name: "cocall", min: 1, max: 1, check: oneOf("a call", "recv", "send")},
}

// httpVerbs act out an http scope: read the body, build the response head,
// body and trailers, echo the request.
var httpVerbs = []probeVerb{
	{name: "drain"}, {name: "hdr", min: 2, max: 2}, {name: "trailers"},
	{name: "start", min: 1, max: 1, check: digits("a status number", 9)},
	{name: "body", min: 1, max: 1}, {name: "end", max: 1},
	{name: "fill", min: 1, max: 1, check: digits("a byte count", 15)},
	{name: "echo"}, {name: "trailer", min: 2, max: 2}, {name: "sendtrailers"},
}

// verb returns the verb named name, from every protocol's.
func verb(name string) (probeVerb, bool) {
	for _, p := range protocols {
		for _, v := range p.verbs {
			if v.name == name {
				return v, true
			}
		}
	}
	return probeVerb{}, false
}

// BadKind is an invalid event the probe can send (bad:KIND) and the rule a
// server must name when it refuses it before the response starts ("" when
// the rule depends on the response so far; fixtures/PROBE.md).
type BadKind struct {
	Kind, Rule string
}

// Scope is the scope type the kind is meant for: "websocket" for the ws-
// kinds, "http" for the others (the core ones are invalid in any scope).
func (b BadKind) Scope() string {
	if strings.HasPrefix(b.Kind, "ws-") {
		return "websocket"
	}
	return "http"
}

// BadKinds is the probe's catalogue of invalid events.
var BadKinds = []BadKind{
	{"not-table", "core.send.event-table"}, {"no-type", "core.send.type"}, {"unknown-type", "core.send.type"},
	{"status-string", "http.start.status-type"}, {"status-float", "http.start.status-type"},
	{"status-missing", "http.start.status-type"}, {"status-1xx", "http.start.status-range"},
	{"status-600", "http.start.status-range"}, {"headers-map", "http.start.headers-type"},
	{"header-single", "http.start.headers-type"}, {"header-number", "http.start.headers-type"},
	{"header-upper", ""}, {"header-crlf", "http.headers.valid-bytes"},
	{"header-space", "http.headers.valid-bytes"}, {"header-empty-name", "http.headers.valid-bytes"},
	{"trailers-number", "http.start.trailers-type"}, {"content-length-bad", "http.body.content-length"},
	{"body-before-start", "http.start.first"}, {"trailers-unasked", "http.start.first"},
	{"body-number", "http.body.body-type"}, {"more-body-string", "http.body.more-body-type"},
	{"more-trailers-string", "http.trailers.more-trailers-type"},
	{"start-again", ""}, {"body-nonempty", ""}, {"after-complete", ""},
	// websocket scopes
	{"ws-send-both", "websocket.send.one-of"}, {"ws-send-neither", "websocket.send.one-of"},
	{"ws-text-number", "websocket.send.text-type"}, {"ws-text-invalid", "websocket.send.text-type"},
	{"ws-bytes-number", "websocket.send.bytes-type"}, {"ws-close-code-1005", "websocket.close.code"},
	{"ws-close-code-string", "websocket.close.code"}, {"ws-close-reason-long", "websocket.close.reason"},
	{"ws-subprotocol-unknown", "websocket.accept.subprotocol"}, {"ws-protocol-header", "websocket.accept.no-protocol-header"},
	{"ws-accept-headers-map", "websocket.accept.headers-type"},
	{"ws-send", ""}, {"ws-accept", ""},
}

func isBadKind(kind string) bool {
	for _, b := range BadKinds {
		if b.Kind == kind {
			return true
		}
	}
	return false
}

// CheckScript checks a probe script's syntax: known verbs, the right number
// of arguments, well-formed percent escapes.
func CheckScript(script string) error {
	if script == "" {
		return nil
	}
	actions := strings.Split(script, " ")
	for i, action := range actions {
		parts := strings.Split(action, ":")
		v, ok := verb(parts[0])
		if !ok {
			return fmt.Errorf("action %d: unknown verb %q", i+1, parts[0])
		}
		if n := len(parts) - 1; n < v.min || n > v.max {
			return fmt.Errorf("action %d (%s): takes %d to %d arguments, got %d", i+1, parts[0], v.min, v.max, n)
		}
		for _, arg := range parts[1:] {
			if _, err := percentDecode(arg); err != nil {
				return fmt.Errorf("action %d (%s): %v", i+1, parts[0], err)
			}
		}
		if v.check != nil {
			if err := v.check(parts[1:]); err != nil {
				return fmt.Errorf("action %d: %s %v", i+1, v.name, err)
			}
		}
		if v.name == "report" && len(actions) > 1 {
			return fmt.Errorf("report:T stands alone")
		}
	}
	return nil
}

func allDigits(s string, most int) bool {
	if s == "" || len(s) > most {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// PercentEncode encodes a probe argument.
func PercentEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c > 0x20 && c < 0x7f && c != '%' && c != ':' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func percentDecode(s string) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", fmt.Errorf("truncated escape in %q", s)
		}
		n, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
		if err != nil {
			return "", fmt.Errorf("bad escape %q in %q", s[i:i+3], s)
		}
		b.WriteByte(byte(n))
		i += 2
	}
	return b.String(), nil
}

// probeLine is the header line that replaces the placeholder.
func probeLine(script, token string) string {
	if token != "" {
		if script == "" {
			script = "drain start:200 end:ok"
		}
		script += " token:" + token
	}
	if script == "" {
		return ""
	}
	return ProbeHeader + ": " + script + "\r\n"
}
