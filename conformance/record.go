package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
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
		if errors.Is(err, errSkip) {
			continue // nothing to record from: the case stays as it is
		}
		if err != nil {
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
