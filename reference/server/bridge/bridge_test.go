package bridge_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lasgi/lasgi/reference/server/bridge"
	"github.com/lasgi/lasgi/spec/event"
)

type noWake struct{}

func (noWake) Wake() {}

// A SHOULD slip is queued as put right and reported by Findings, not raised.
func TestCallFindings(t *testing.T) {
	c := bridge.NewCall(&event.Scope{Type: "http"}, time.Time{})
	for _, ev := range []*event.Event{
		{Type: event.HTTPResponseStart, Status: 205, Headers: []event.Header{{Name: "X-A", Value: "1"}}},
		{Type: event.HTTPResponseBody, Body: "x"},
	} {
		if _, err := c.Send(ev, noWake{}); err != nil {
			t.Fatalf("Send(%s): %v", ev.Type, err)
		}
	}
	var got []string
	for _, f := range c.Findings() {
		got = append(got, f.Rule)
	}
	if diff := cmp.Diff([]string{event.RuleHeaderLowercase, event.RuleNoBodyStatus}, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	out := c.Take()
	if len(out) != 2 || out[0].Headers[0].Name != "x-a" {
		t.Errorf("queued events %+v: want the start with x-a lowercased, then the body", out)
	}
	// After completion, receive() is http.disconnect even with a request queued.
	c.Push(event.Event{Type: event.HTTPRequest, Body: "unread"})
	if ev, ok := c.Receive(noWake{}); !ok || ev.Type != event.HTTPDisconnect {
		t.Errorf("Receive after completion = %v, %v; want http.disconnect", ev.Type, ok)
	}
}
