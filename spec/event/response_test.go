package event_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lasgi/lasgi/spec"
	"github.com/lasgi/lasgi/spec/event"
)

// SHOULD-level slips are accepted, put right and recorded; MUST-level ones
// are refused.
func TestResponseFindings(t *testing.T) {
	var r event.Response
	start := &event.Event{Type: event.HTTPResponseStart, Status: 204,
		Headers: []event.Header{{Name: "X-A", Value: "1"}, {Name: "Content-Length", Value: "0"}}}
	if err := r.Send(start); err != nil {
		t.Fatalf("start with uppercase names: %v", err)
	}
	if diff := cmp.Diff([]event.Header{{Name: "x-a", Value: "1"}, {Name: "content-length", Value: "0"}}, start.Headers); diff != "" {
		t.Errorf("names not lowercased (-want +got):\n%s", diff)
	}
	if err := r.Send(&event.Event{Type: event.HTTPResponseBody, Body: "xyz"}); err != nil {
		t.Fatalf("body on a 204: %v", err)
	}
	if !r.Complete || r.BodyBytes() != 0 {
		t.Errorf("Complete %v, BodyBytes %d; want true, 0 (discarded bytes do not count)", r.Complete, r.BodyBytes())
	}
	var rules []string
	for _, f := range r.Findings() {
		rules = append(rules, f.Rule)
		if rule, ok := spec.Lookup(f.Rule); !ok || (rule.Level != spec.Should && rule.Level != spec.ShouldNot) {
			t.Errorf("finding %v: the catalog level of %s is %q, not SHOULD", f, f.Rule, rule.Level)
		}
	}
	want := []string{event.RuleHeaderLowercase, event.RuleHeaderLowercase, event.RuleNoBodyStatus}
	if diff := cmp.Diff(want, rules); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

func TestHeaderValueControlCharacters(t *testing.T) {
	for c := 0; c < 256; c++ {
		err := event.CheckHeader(event.Header{Name: "x", Value: "a" + string([]byte{byte(c)}) + "b"}, 1)
		bad := (c < 0x20 && c != '\t') || c == 0x7f
		if bad != (err != nil) {
			t.Errorf("byte 0x%02x: error %v, want refused = %v", c, err, bad)
		}
		if v, ok := err.(*event.Violation); bad && (!ok || v.Rule != event.RuleHeaderBytes) {
			t.Errorf("byte 0x%02x: %v does not name %s", c, err, event.RuleHeaderBytes)
		}
	}
}
