package conformance

import (
	"encoding/json"
	"fmt"
	"net"
	"strconv"

	"github.com/google/go-cmp/cmp"
)

// The scope side of compare: expected scope keys against the probe's
// report, with value patterns and the checker's own addresses.

// compareScope compares the listed keys of the scope, a value pattern
// ("{table}", ScopePatterns) standing for any value it describes.
func compareScope(want, got map[string]any, obs *Observation) string {
	want = substituteAddrs(want, obs)
	sub := map[string]any{}
	exp := map[string]any{}
	for k, w := range want {
		v, ok := got[k]
		if !ok {
			v = "(absent)"
		}
		if match, known := scopePattern(w); known && ok {
			if problem := match(v); problem == "" {
				v = w // a match: compare equal
			} else {
				v = fmt.Sprintf("%v (%s)", v, problem)
			}
		}
		sub[k], exp[k] = v, w
	}
	return cmp.Diff(normalizeNumbers(exp), normalizeNumbers(sub))
}

// scopePattern returns the match function of w when w is a pattern.
func scopePattern(w any) (func(any) string, bool) {
	var p string
	switch x := w.(type) {
	case string:
		p = x
	case Bytes:
		p = string(x)
	default:
		return nil, false
	}
	match, known := ScopePatterns[p]
	return match, known
}

// ScopePatterns are the values an expected scope key may have that stand for
// a kind of value rather than one value: what a match function returns is ""
// for a match, or what is wrong.
var ScopePatterns = map[string]func(v any) string{
	// A Lua table: the probe reports one as a JSON object, or as [] when empty.
	"{table}": func(v any) string { return tableProblem(v, nil) },
	// A table whose every value is a table, as scope.extensions.
	"{table of tables}": func(v any) string {
		return tableProblem(v, func(x any) string { return tableProblem(x, nil) })
	},
	// scope.extensions of an HTTP/1.0 request: whatever is offered, but not
	// trailers (spec rule http.trailers.http10).
	"{table of tables without http.response.trailers}": func(v any) string {
		if p := tableProblem(v, func(x any) string { return tableProblem(x, nil) }); p != "" {
			return p
		}
		if m, ok := v.(map[string]any); ok && m["http.response.trailers"] != nil {
			return "offers http.response.trailers"
		}
		return ""
	},
}

func tableProblem(v any, each func(any) string) string {
	switch t := v.(type) {
	case []any:
		if len(t) == 0 {
			return ""
		}
		if each != nil {
			for _, x := range t {
				if p := each(x); p != "" {
					return "an entry is not a table: " + p
				}
			}
		}
		return ""
	case map[string]any:
		if each != nil {
			for k, x := range t {
				if p := each(x); p != "" {
					return fmt.Sprintf("entry %q is not a table: %s", k, p)
				}
			}
		}
		return ""
	}
	return "not a table"
}

// normalizeNumbers turns JSON numbers into float64 so values decoded from a
// fixture and from a report compare equal.
func normalizeNumbers(v any) any {
	return mapLeaves(v, func(x any) any {
		switch n := x.(type) {
		case json.Number:
			f, _ := n.Float64()
			return f
		case int:
			return float64(n)
		}
		return x
	})
}

// mapLeaves copies a decoded JSON value, lists and objects as new ones,
// with leaf applied to every other value.
func mapLeaves(v any, leaf func(any) any) any {
	switch v := v.(type) {
	case []any:
		out := make([]any, len(v))
		for i := range v {
			out[i] = mapLeaves(v[i], leaf)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = mapLeaves(x, leaf)
		}
		return out
	}
	return leaf(v)
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
