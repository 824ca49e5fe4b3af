package bridge_test

import (
	"strings"
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

// An app that calls receive() again and again after http.disconnect is ended
// with http.disconnect.app-return once it passes MaxDisconnectReceives; one
// that calls it a few times is not.
func TestCallDisconnectSpin(t *testing.T) {
	for _, complete := range []bool{true, false} {
		c := bridge.NewCall(&event.Scope{Type: "http"}, time.Time{})
		if complete {
			for _, ev := range []*event.Event{{Type: event.HTTPResponseStart, Status: 200}, {Type: event.HTTPResponseBody, Body: "x"}} {
				if _, err := c.Send(ev, noWake{}); err != nil {
					t.Fatal(err)
				}
			}
		} else {
			c.Disconnect()
		}
		for i := 1; i <= bridge.MaxDisconnectReceives; i++ {
			ev, ok := c.Receive(noWake{})
			if !ok || ev.Type != event.HTTPDisconnect {
				t.Fatalf("complete=%v: receive %d = %q, %v; want http.disconnect", complete, i, ev.Type, ok)
			}
			if c.State().Finished {
				t.Fatalf("complete=%v: the call ended after %d receives", complete, i)
			}
		}
		if _, ok := c.Receive(noWake{}); ok {
			t.Fatalf("complete=%v: receive %d returned an event; want the call ended", complete, bridge.MaxDisconnectReceives+1)
		}
		st := c.State()
		if !st.Finished || st.Err == nil || !strings.HasPrefix(st.Err.Error(), "lasgi: http.disconnect.app-return: ") {
			t.Fatalf("complete=%v: state %+v; want finished with http.disconnect.app-return", complete, st)
		}
	}
}

// A scope type no protocol has is held to the http checks, as every call was
// before protocols were told apart: the app checker's unknown-type case
// judges an app by whether it raises, not by what it sends.
func TestCallUnknownTypeGetsHTTPChecks(t *testing.T) {
	c := bridge.NewCall(&event.Scope{Type: "x-unknown"}, time.Time{})
	if _, err := c.Send(&event.Event{Type: event.HTTPResponseStart, Status: 200, Trailers: true}, noWake{}); err == nil || !strings.HasPrefix(err.Error(), "lasgi: "+event.RuleTrailersOffered+": ") {
		t.Errorf("start with trailers not offered: %v; want %s", err, event.RuleTrailersOffered)
	}
	for _, ev := range []*event.Event{{Type: event.HTTPResponseStart, Status: 201}, {Type: event.HTTPResponseBody, Body: "x"}} {
		if _, err := c.Send(ev, noWake{}); err != nil {
			t.Fatalf("Send(%s): %v", ev.Type, err)
		}
	}
	if st, resp := c.State(), c.Response(); !st.Started || !st.Complete || resp.Status != 201 {
		t.Errorf("state %+v, response status %d; want started, complete, 201", st, resp.Status)
	}
}

// After an app closed its WebSocket, receive() drops the messages still
// queued and waits for websocket.disconnect, which DisconnectWith delivers
// with send() raising the disconnected error from the same moment.
func TestWebSocketCloseThenDisconnect(t *testing.T) {
	c := bridge.NewCall(&event.Scope{Type: event.ScopeWebSocket}, time.Time{})
	for _, ev := range []*event.Event{{Type: event.WebSocketAccept}, {Type: event.WebSocketClose}} {
		if _, err := c.Send(ev, noWake{}); err != nil {
			t.Fatalf("Send(%s): %v", ev.Type, err)
		}
	}
	c.Push(event.Event{Type: event.WebSocketReceive, Message: "late"})
	woken := 0
	if ev, ok := c.Receive(countWake{&woken}); ok {
		t.Fatalf("receive() after the close returned %+v; want it to wait for websocket.disconnect", ev)
	}
	c.DisconnectWith(event.Event{Type: event.WebSocketDisconnect, Code: 1000})
	if woken != 1 {
		t.Fatalf("the waiting receive() was woken %d times, want 1", woken)
	}
	for i := 0; i < 2; i++ {
		ev, ok := c.Receive(noWake{})
		if want := (event.Event{Type: event.WebSocketDisconnect, Code: 1000}); !ok || !cmp.Equal(ev, want) {
			t.Fatalf("receive() %d: %+v, %v; want %+v", i+1, ev, ok, want)
		}
	}
}

// DisconnectWith marks the call disconnected as it delivers the event: a
// send made on hearing of it raises the disconnected error.
func TestDisconnectWithRaisesInSend(t *testing.T) {
	c := bridge.NewCall(&event.Scope{Type: event.ScopeWebSocket}, time.Time{})
	if _, err := c.Send(&event.Event{Type: event.WebSocketAccept}, noWake{}); err != nil {
		t.Fatal(err)
	}
	c.DisconnectWith(event.Event{Type: event.WebSocketDisconnect, Code: 4001})
	if ev, ok := c.Receive(noWake{}); !ok || ev.Code != 4001 {
		t.Fatalf("receive(): %+v, %v", ev, ok)
	}
	if _, err := c.Send(&event.Event{Type: event.WebSocketSend, Message: "x"}, noWake{}); err != bridge.ErrDisconnected {
		t.Fatalf("send after the disconnect: %v, want %v", err, bridge.ErrDisconnected)
	}
}
