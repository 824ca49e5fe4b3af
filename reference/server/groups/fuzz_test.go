package groups_test

import (
	"errors"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/lasgi/lasgi/reference/server/groups"
)

// FuzzDecode: bytes that reach an engine's decoder can come from anything
// that publishes on the Redis a hub uses, so decoding never panics, fails
// only with ErrCorrupt, and what it decodes, encoded again, decodes to the
// same value, no longer than the bytes it came from.
func FuzzDecode(f *testing.F) {
	for _, build := range []func(e *groups.Encoder) error{
		func(e *groups.Encoder) error { m, _ := e.Open(); e.Close(m, 0); return nil },
		func(e *groups.Encoder) error {
			m, _ := e.Open()
			_ = e.String("text")
			_ = e.String("caf\xc3\xa9\x00")
			_ = e.Integer(-1 << 63)
			_ = e.Float(math.Inf(-1))
			_ = e.Float(0.5)
			_ = e.Bool(true)
			inner, _ := e.Open()
			_ = e.Integer(1)
			_ = e.Bool(false)
			e.Close(inner, 1)
			e.Close(m, 3)
			return nil
		},
	} {
		e := groups.NewEncoder(1 << 16)
		if err := build(e); err != nil {
			f.Fatal(err)
		}
		f.Add([]byte(e.Data()))
	}
	f.Add([]byte("T\xff\xff\xff\xff"))
	f.Add([]byte("S\x05\x00\x00\x00ab"))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := groups.Decode(string(data))
		if err != nil {
			if !errors.Is(err, groups.ErrCorrupt) {
				t.Fatalf("Decode(%q) failed with %v, not ErrCorrupt", data, err)
			}
			return
		}
		e := groups.NewEncoder(len(data))
		reencode(t, e, v)
		again, err := groups.Decode(e.Data())
		if err != nil {
			t.Fatalf("Decode of the re-encoding of %q: %v", data, err)
		}
		if diff := cmp.Diff(v, again, cmpopts.EquateNaNs()); diff != "" {
			t.Fatalf("%q decoded, encoded and decoded again differs (-first +again):\n%s", data, diff)
		}
	})
}

// reencode writes v as Decode gave it.
func reencode(t *testing.T, e *groups.Encoder, v any) {
	t.Helper()
	var err error
	switch v := v.(type) {
	case map[any]any:
		var mark int
		if mark, err = e.Open(); err != nil {
			t.Fatalf("re-encoding: %v", err)
		}
		for k, val := range v {
			reencode(t, e, k)
			reencode(t, e, val)
		}
		e.Close(mark, len(v))
	case string:
		err = e.String(v)
	case int64:
		err = e.Integer(v)
	case float64:
		err = e.Float(v)
	case bool:
		err = e.Bool(v)
	default:
		t.Fatalf("Decode gave a %T", v)
	}
	if err != nil {
		t.Fatalf("re-encoding, no longer than the bytes decoded: %v", err)
	}
}
