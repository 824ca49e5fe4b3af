package bridge_test

import (
	"strings"
	"testing"
	"time"

	"github.com/lasgi/lasgi/reference/server/bridge"
	"github.com/lasgi/lasgi/spec/event"
)

// A loan's position counts the bytes queued before the first loan, so that
// it is returned exactly when the HTTP side has written through its body,
// and every loan is returned at Release.
func TestLendPositions(t *testing.T) {
	c := bridge.NewCall(&event.Scope{Type: "http"}, time.Time{})
	c.Lend = true
	send := func(body string) {
		t.Helper()
		if _, err := c.Send(&event.Event{Type: event.HTTPResponseBody, Body: body, MoreBody: true}, noWake{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Send(&event.Event{Type: event.HTTPResponseStart, Status: 200}, noWake{}); err != nil {
		t.Fatal(err)
	}
	send(strings.Repeat("a", 10)) // copied, not lent
	send(strings.Repeat("b", 100))
	first := c.Mark()
	send(strings.Repeat("c", 50))
	second := c.Mark()
	if second-first != 50 {
		t.Fatalf("marks %d then %d: want 50 apart", first, second)
	}
	for _, step := range []struct {
		written       int
		first, second bool
	}{
		{0, false, false},
		{10, false, false},
		{99, false, false}, // one byte of the first loan's body is still to go
		{1, true, false},
		{49, true, false},
		{1, true, true},
	} {
		c.Written(step.written)
		if got := c.Returned(first); got != step.first {
			t.Fatalf("after %d more written: first loan returned %v, want %v", step.written, got, step.first)
		}
		if got := c.Returned(second); got != step.second {
			t.Fatalf("after %d more written: second loan returned %v, want %v", step.written, got, step.second)
		}
	}

	// Unwritten, or never to be written: returned at Release.
	send(strings.Repeat("d", 70))
	third := c.Mark()
	if c.Returned(third) {
		t.Fatal("a loan not written is returned")
	}
	c.Release()
	if !c.Returned(third) {
		t.Fatal("a loan is not returned at Release")
	}
}
