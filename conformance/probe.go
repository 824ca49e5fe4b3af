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

// verbArity is the probe's vocabulary (fixtures/PROBE.md): each verb and how
// many arguments it takes (min, max).
var verbArity = map[string][2]int{
	"token": {1, 1}, "recv": {0, 0}, "drain": {0, 0}, "hdr": {2, 2}, "trailers": {0, 0},
	"noreport": {0, 0}, "start": {1, 1}, "body": {1, 1}, "end": {0, 1}, "fill": {1, 1},
	"echo": {0, 0}, "trailer": {2, 2}, "sendtrailers": {0, 0}, "bad": {1, 1},
	"raise": {1, 1}, "throw": {1, 1}, "return": {0, 0}, "report": {1, 1},
	// table checks
	"watch": {0, 0}, "verify": {0, 3}, "extra": {0, 0}, "cocall": {1, 1},
}

// BadKind is an invalid event the probe can send (bad:KIND) and the rule a
// server must name when it refuses it before the response starts ("" when
// the rule depends on the response so far; fixtures/PROBE.md).
type BadKind struct {
	Kind, Rule string
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
		arity, ok := verbArity[parts[0]]
		if !ok {
			return fmt.Errorf("action %d: unknown verb %q", i+1, parts[0])
		}
		if n := len(parts) - 1; n < arity[0] || n > arity[1] {
			return fmt.Errorf("action %d (%s): takes %d to %d arguments, got %d", i+1, parts[0], arity[0], arity[1], n)
		}
		for _, arg := range parts[1:] {
			if _, err := percentDecode(arg); err != nil {
				return fmt.Errorf("action %d (%s): %v", i+1, parts[0], err)
			}
		}
		switch parts[0] {
		case "start":
			if !allDigits(parts[1], 9) {
				return fmt.Errorf("action %d: start takes a status number, got %q", i+1, parts[1])
			}
		case "fill":
			if !allDigits(parts[1], 15) {
				return fmt.Errorf("action %d: fill takes a byte count, got %q", i+1, parts[1])
			}
		case "bad":
			if !isBadKind(parts[1]) {
				return fmt.Errorf("action %d: unknown invalid event %q (see fixtures/PROBE.md)", i+1, parts[1])
			}
		case "throw":
			if !contains([]string{"table", "nil", "number", "boolean"}, parts[1]) {
				return fmt.Errorf("action %d: throw takes table, nil, number or boolean, got %q", i+1, parts[1])
			}
		case "verify":
			for _, r := range parts[1:] {
				if !contains([]string{"core.scope.fresh", "core.receive.fresh", "core.send.unmodified"}, r) {
					return fmt.Errorf("action %d: verify takes core.scope.fresh, core.receive.fresh or core.send.unmodified, got %q", i+1, r)
				}
			}
		case "cocall":
			if parts[1] != "recv" && parts[1] != "send" {
				return fmt.Errorf("action %d: cocall takes recv or send, got %q", i+1, parts[1])
			}
		case "report":
			if len(actions) > 1 {
				return fmt.Errorf("report:T stands alone")
			}
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
