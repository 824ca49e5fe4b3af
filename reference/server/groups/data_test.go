package groups_test

import (
	"errors"
	"math"
	"strings"

	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/reference/server/groups"
	"github.com/lasgi/lasgi/spec/event"
)

// encode writes v, in the shapes Decode gives back, as an engine walks a
// table.
func encode(e *groups.Encoder, v any) error {
	switch v := v.(type) {
	case map[any]any:
		mark, err := e.Open()
		if err != nil {
			return err
		}
		for k, val := range v {
			if err := encode(e, k); err != nil {
				return err
			}
			if err := encode(e, val); err != nil {
				return err
			}
		}
		e.Close(mark, len(v))
		return nil
	case string:
		return e.String(v)
	case int64:
		return e.Integer(v)
	case float64:
		return e.Float(v)
	case bool:
		return e.Bool(v)
	}
	panic("encode: no such value")
}

// specSize is the size groups.data.size counts, written from the spec's
// sentence rather than from the encoding.
func specSize(v any) int {
	switch v := v.(type) {
	case map[any]any:
		n := 5
		for k, val := range v {
			n += specSize(k) + specSize(val)
		}
		return n
	case string:
		return 5 + len(v)
	case int64, float64:
		return 9
	case bool:
		return 1
	}
	panic("specSize: no such value")
}

func nested(depth int) any {
	v := any(map[any]any{})
	for range depth - 1 {
		v = map[any]any{"in": v}
	}
	return v
}

func ruleOf(err error) string {
	var v *event.Violation
	if errors.As(err, &v) {
		return v.Rule
	}
	return ""
}

var _ = Describe("data encoding", func() {
	values := []any{
		map[any]any{"text": "hi"},
		map[any]any{},
		map[any]any{int64(1): "a", int64(2): "b", int64(-7): true, 2.5: false},
		map[any]any{"n": int64(math.MaxInt64), "m": int64(math.MinInt64), "f": 0.1, "big": 1e300, "inf": math.Inf(-1)},
		map[any]any{"bytes": "\x00\xff\r\n", "empty": "", "t": map[any]any{"u": map[any]any{"v": "deep"}}},
		map[any]any{strings.Repeat("k", 1000): strings.Repeat("v", 5000)},
		nested(event.MaxGroupDepth),
	}

	It("decodes what it encodes, and its length is the size the spec counts", func() {
		for _, v := range values {
			e := groups.NewEncoder(event.GroupsMaxMessageBytes)
			Expect(encode(e, v)).To(Succeed())
			data := e.Data()
			Expect(data).To(HaveLen(specSize(v)))
			got, err := groups.Decode(data)
			Expect(err).NotTo(HaveOccurred())
			Expect(cmp.Diff(v, got)).To(BeEmpty())
		}
	})

	It("makes {text = \"hi\"} 21 bytes, as groups.md counts it", func() {
		e := groups.NewEncoder(event.GroupsMaxMessageBytes)
		Expect(encode(e, map[any]any{"text": "hi"})).To(Succeed())
		Expect(e.Data()).To(Equal("T\x01\x00\x00\x00S\x04\x00\x00\x00textS\x02\x00\x00\x00hi"))
		Expect(e.Data()).To(HaveLen(21))
	})

	It("writes a whole number of an engine without integers as an integer", func() {
		e := groups.NewEncoder(1024)
		mark, _ := e.Open()
		for _, f := range []float64{3, -1 << 63, 2.5, 1 << 63, math.Inf(1), math.Inf(-1), math.NaN()} {
			Expect(e.String("k")).To(Succeed())
			Expect(e.Number(f)).To(Succeed())
		}
		e.Close(mark, 7)
		r := groups.NewReader(e.Data())
		var tags []byte
		for v, ok := r.Next(); ok; v, ok = r.Next() {
			if v.Tag != groups.TagString {
				tags = append(tags, v.Tag)
			}
		}
		Expect(r.Err()).NotTo(HaveOccurred())
		Expect(string(tags)).To(Equal("TIIFFFFF"))
	})

	It("refuses tables nested more than 32 deep with groups.data", func() {
		e := groups.NewEncoder(event.GroupsMaxMessageBytes)
		Expect(encode(e, nested(event.MaxGroupDepth))).To(Succeed())
		e.Reset(event.GroupsMaxMessageBytes)
		err := encode(e, nested(event.MaxGroupDepth+1))
		Expect(ruleOf(err)).To(Equal(event.RuleGroupsData))
		Expect(err).To(MatchError(ContainSubstring("32 deep")))
	})

	It("refuses data past max_message_bytes with groups.data.size, and takes data of exactly that size", func() {
		v := map[any]any{"text": "hi"}
		Expect(encode(groups.NewEncoder(21), v)).To(Succeed())
		err := encode(groups.NewEncoder(20), v)
		Expect(ruleOf(err)).To(Equal(event.RuleGroupsDataSize))
		Expect(err).To(MatchError(ContainSubstring("20 bytes")))
		for _, max := range []int{0, 4} {
			_, err := groups.NewEncoder(max).Open()
			Expect(ruleOf(err)).To(Equal(event.RuleGroupsDataSize))
		}
		e := groups.NewEncoder(5 + 9 + 1)
		mark, _ := e.Open()
		Expect(e.Integer(1)).To(Succeed())
		Expect(e.Bool(true)).To(Succeed())
		Expect(ruleOf(e.Bool(true))).To(Equal(event.RuleGroupsDataSize))
		e.Close(mark, 1)
	})

	It("keeps what Data returned when reused", func() {
		e := groups.NewEncoder(64)
		Expect(encode(e, map[any]any{"a": "b"})).To(Succeed())
		first := e.Data()
		e.Reset(64)
		Expect(encode(e, map[any]any{"c": "d"})).To(Succeed())
		Expect(groups.Decode(first)).To(Equal(map[any]any{"a": "b"}))
		Expect(groups.Decode(e.Data())).To(Equal(map[any]any{"c": "d"}))
	})

	It("reports corrupt bytes as ErrCorrupt, never a panic", func() {
		deep := strings.Repeat("T\x01\x00\x00\x00S\x00\x00\x00\x00", event.MaxGroupDepth) + "T\x00\x00\x00\x00"
		for _, data := range []string{
			"",                           // nothing
			"X",                          // no such tag
			"T",                          // a table's count cut
			"T\x01\x00\x00\x00",          // a pair missing
			"T\x01\x00\x00\x00S\x01\x00", // a string's length cut
			"S\x05\x00\x00\x00ab",        // a string cut
			"I\x01\x02",                  // an integer cut
			"F",                          // a float cut
			"T\x00\x00\x00\x00t",         // bytes after the data
			deep,                         // nested past the bound
			"T\xff\xff\xff\xff",          // four billion pairs claimed: refused before any map is sized
		} {
			_, err := groups.Decode(data)
			Expect(err).To(MatchError(groups.ErrCorrupt), "%q", data)
		}
	})
})
