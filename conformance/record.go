package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/google/go-cmp/cmp"
)

// RecordFile re-runs every case of a fixture file against k's server and
// rewrites the file with each case's present expect fields set to what was
// observed. It returns how many cases it recorded.
func RecordFile(ctx context.Context, k *Checker, file string) (int, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return 0, err
	}
	cases, err := ParseFile(file, data)
	if err != nil {
		return 0, err
	}
	var f fixtureFile
	if err := json.Unmarshal(data, &f); err != nil {
		return 0, err
	}
	for i, c := range cases {
		obs, err := k.Observe(ctx, c)
		if err != nil && !errors.Is(err, errSkip) {
			return 0, fmt.Errorf("%s: case %s: %w", file, c.ID, err)
		}
		f.Cases[i].Expect = Record(c, obs)
		// one_of is not rewritten (which outcome a server gives is its
		// choice), but the recording server must give one of them.
		for _, fd := range compare(c, obs) {
			if fd.field == fieldOneOf {
				return 0, fmt.Errorf("%s: case %s: %s", file, c.ID, fd.text)
			}
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(f); err != nil {
		return 0, err
	}
	// The result must load again before it replaces the file.
	if _, err := ParseFile(file, buf.Bytes()); err != nil {
		return 0, fmt.Errorf("recorded file does not load: %w", err)
	}
	return len(cases), os.WriteFile(file, buf.Bytes(), 0o644)
}

// Record returns c's Expect with every present field replaced by what obs
// shows: how `lasgi-check record` pins a case to the reference server.
func Record(c *Case, obs *Observation) Expect {
	got := observed(obs)
	e := c.Expect
	for i := range e.Responses {
		if i >= len(got.Responses) {
			break
		}
		w, g := &e.Responses[i], got.Responses[i]
		if w.Status != nil {
			w.Status = g.Status
		}
		if w.Framing != "" {
			w.Framing = g.Framing
		}
		if w.Headers != nil {
			w.Headers = recordHeaders(w.Headers, g.Headers)
		}
		if w.Body != nil {
			w.Body = g.Body
			if g.Body == nil {
				w.BodySum = g.BodySum
			}
		}
		if w.BodySum != nil {
			w.BodySum = g.BodySum
		}
		if w.Trailers != nil {
			w.Trailers = recordHeaders(w.Trailers, g.Trailers)
		}
		if w.Truncated != nil {
			w.Truncated = g.Truncated
		}
	}
	if e.Scope != nil {
		for k, v := range e.Scope {
			if _, ok := scopePattern(v); ok {
				continue // a kind of value, not a value: kept as written
			}
			e.Scope[k] = asBytes(got.Scope[k])
			for placeholder, addr := range map[string][]any{ClientPlaceholder: obs.Client, ServerPlaceholder: obs.Server} {
				if cmp.Equal(normalizeNumbers(got.Scope[k]), normalizeNumbers(addr)) && addr != nil {
					e.Scope[k] = placeholder
				}
			}
		}
	}
	if e.Events != nil {
		e.Events = got.Events
	}
	if e.Body != nil {
		e.Body = got.Body
	}
	if e.Sends != nil {
		e.Sends = got.Sends
	}
	if e.Coroutine != nil {
		e.Coroutine = got.Coroutine
	}
	return e
}

// AnyValue as an expected header value matches any value: the header must
// be there, whatever it says (a date, say).
const AnyValue = "{any}"

// recordHeaders keeps the pinned header names, with the values observed (the
// first unused field of each name, in order); a pinned AnyValue stays.
func recordHeaders(pinned, got [][2]Bytes) [][2]Bytes {
	used := make([]bool, len(got))
	var out [][2]Bytes
	for _, p := range pinned {
		for j, g := range got {
			if !used[j] && strings.EqualFold(string(g[0]), string(p[0])) {
				used[j] = true
				if p[1] == AnyValue {
					g[1] = AnyValue
				}
				out = append(out, g)
				break
			}
		}
	}
	return out
}

// asBytes wraps every string of a decoded report value in Bytes, so that it
// is written back with the fixture's byte-string convention.
func asBytes(v any) any {
	return mapLeaves(v, func(x any) any {
		if s, ok := x.(string); ok {
			return Bytes(s)
		}
		return x
	})
}
