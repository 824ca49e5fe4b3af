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

type countWake struct{ n *int }

func (w countWake) Wake() { *w.n++ }

// Back-pressure counts events, not only bytes: empty body parts the socket
// has not taken make send wait too, and Written lets the app go on.
func TestSendWaitsOnQueuedEvents(t *testing.T) {
	c := bridge.NewCall(&event.Scope{Type: "http"}, time.Time{})
	woken := 0
	wake := countWake{&woken}
	if _, err := c.Send(&event.Event{Type: event.HTTPResponseStart, Status: 200}, wake); err != nil {
		t.Fatal(err)
	}
	sent := 1
	for ; sent < 100000; sent++ {
		wait, err := c.Send(&event.Event{Type: event.HTTPResponseBody, MoreBody: true}, wake)
		if err != nil {
			t.Fatal(err)
		}
		if wait {
			break
		}
	}
	if sent >= 100000 {
		t.Fatalf("send never waited with %d empty body parts queued", sent)
	}
	if sent > 2000 {
		t.Errorf("send waited only after %d queued events", sent)
	}
	c.Take() // the connection takes them for the socket
	c.Written(0)
	if woken != 1 {
		t.Errorf("Written after the events were taken woke the app %d times, want 1", woken)
	}
}
