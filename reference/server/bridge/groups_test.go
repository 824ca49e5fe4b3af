package bridge_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lasgi/lasgi/reference/server/bridge"
	"github.com/lasgi/lasgi/reference/server/groups"
	"github.com/lasgi/lasgi/spec/event"
)

// groupCall is a websocket call offering groups on hub, accepted, its
// connect event taken.
func groupCall(t *testing.T, hub groups.Hub) *bridge.Call {
	t.Helper()
	c := bridge.NewCall(&event.Scope{Type: event.ScopeWebSocket, Extensions: []string{event.ExtensionGroups}}, time.Time{})
	c.Groups = hub
	c.Push(event.Event{Type: event.WebSocketConnect})
	if ev, ok := c.Receive(noWake{}); !ok || ev.Type != event.WebSocketConnect {
		t.Fatalf("first receive = %q, %v", ev.Type, ok)
	}
	mustSend(t, c, event.Event{Type: event.WebSocketAccept})
	return c
}

func mustSend(t *testing.T, c *bridge.Call, ev event.Event) {
	t.Helper()
	if _, err := c.Send(&ev, noWake{}); err != nil {
		t.Fatalf("send %s: %v", ev.Type, err)
	}
}

func join(t *testing.T, c *bridge.Call, g string) {
	t.Helper()
	mustSend(t, c, event.Event{Type: event.GroupJoin, Group: g})
}

func publish(t *testing.T, c *bridge.Call, g, data string) {
	t.Helper()
	mustSend(t, c, event.Event{Type: event.GroupSend, Group: g, Body: data})
}

// received takes every event ready, as "type group body dropped" lines.
func received(c *bridge.Call) []string {
	var out []string
	for {
		ev, ok := c.Receive(noWake{})
		if !ok {
			return out
		}
		out = append(out, fmt.Sprintf("%s %s %s %d", ev.Type, ev.Group, ev.Body, ev.Code))
	}
}

// groups.deliver, groups.message, groups.order: the sender, a member, gets
// its messages in order, named by their group.
func TestGroupsDeliverToSelfInOrder(t *testing.T) {
	hub := groups.NewLocal()
	c := groupCall(t, hub)
	join(t, c, "g")
	join(t, c, "g") // groups.join: twice is once
	for i := 0; i < 3; i++ {
		publish(t, c, "g", fmt.Sprint(i))
	}
	publish(t, c, "nobody", "x") // groups.send.no-members
	want := []string{"lasgi.group.message g 0 0", "lasgi.group.message g 1 0", "lasgi.group.message g 2 0"}
	if diff := cmp.Diff(want, received(c)); diff != "" {
		t.Fatalf("received (-want +got):\n%s", diff)
	}
}

// groups.queue, groups.dropped: queue messages are kept, the newest past it
// are dropped and counted on the next message received, once.
func TestGroupsQueueDropsNewestAndCounts(t *testing.T) {
	c := groupCall(t, groups.NewLocal())
	join(t, c, "g")
	for i := 0; i < event.GroupsQueue+5; i++ {
		publish(t, c, "g", fmt.Sprint(i))
	}
	if n := c.Pending(); n != 0 {
		t.Errorf("Pending = %d with only group messages queued; want 0 (they have a bound of their own)", n)
	}
	got := received(c)
	if len(got) != event.GroupsQueue {
		t.Fatalf("received %d messages, want the queue's %d", len(got), event.GroupsQueue)
	}
	if want := "lasgi.group.message g 0 5"; got[0] != want {
		t.Errorf("first message %q, want %q: the five dropped counted on it", got[0], want)
	}
	if want := fmt.Sprintf("lasgi.group.message g %d 0", event.GroupsQueue-1); got[len(got)-1] != want {
		t.Errorf("last message %q, want %q: the oldest kept, no count again", got[len(got)-1], want)
	}
	publish(t, c, "g", "after")
	if diff := cmp.Diff([]string{"lasgi.group.message g after 0"}, received(c)); diff != "" {
		t.Errorf("after the queue emptied (-want +got):\n%s", diff)
	}
}

// groups.receive.order: client events and messages in the order they came.
func TestGroupsReceiveInArrivalOrder(t *testing.T) {
	c := groupCall(t, groups.NewLocal())
	join(t, c, "g")
	c.Push(event.Event{Type: event.WebSocketReceive, Message: "one"})
	publish(t, c, "g", "two")
	c.Push(event.Event{Type: event.WebSocketReceive, Message: "three"})
	want := []string{"websocket.receive   0", "lasgi.group.message g two 0", "websocket.receive   0"}
	if diff := cmp.Diff(want, received(c)); diff != "" {
		t.Fatalf("received (-want +got):\n%s", diff)
	}
}

// groups.leave, groups.call-end: after leave nothing more comes, leaving an
// unjoined group is nothing, and Finish ends every membership.
func TestGroupsLeaveAndFinish(t *testing.T) {
	hub := groups.NewLocal()
	c := groupCall(t, hub)
	join(t, c, "a")
	join(t, c, "b")
	mustSend(t, c, event.Event{Type: event.GroupLeave, Group: "a"})
	mustSend(t, c, event.Event{Type: event.GroupLeave, Group: "never"})
	publish(t, c, "a", "x")
	if got := received(c); len(got) != 0 {
		t.Errorf("after leave received %q", got)
	}
	if n := hub.Members("b"); n != 1 {
		t.Fatalf("b has %d members, want 1", n)
	}
	c.Finish(nil)
	if n := hub.Members("b"); n != 0 {
		t.Errorf("b has %d members after the call finished, want 0", n)
	}
	other := groupCall(t, hub)
	join(t, other, "b")
	publish(t, other, "b", "y") // reaches other alone; c, finished, takes nothing
	if diff := cmp.Diff([]string{"lasgi.group.message b y 0"}, received(other)); diff != "" {
		t.Errorf("other (-want +got):\n%s", diff)
	}
}

// groups.max-groups: max_groups memberships at once, then the rule's error.
func TestGroupsMaxGroups(t *testing.T) {
	c := groupCall(t, groups.NewLocal())
	for i := 0; i < event.GroupsMaxGroups; i++ {
		join(t, c, fmt.Sprint("g", i))
	}
	ev := event.Event{Type: event.GroupJoin, Group: "one-more"}
	_, err := c.Send(&ev, noWake{})
	var v *event.Violation
	if !errors.As(err, &v) || v.Rule != event.RuleGroupsMaxGroups {
		t.Fatalf("join past max_groups: %v; want %s", err, event.RuleGroupsMaxGroups)
	}
	mustSend(t, c, event.Event{Type: event.GroupLeave, Group: "g0"})
	join(t, c, "one-more")
}

// A member waiting in receive is woken by a delivery, from another call's
// send, through the clock's wakers.
func TestGroupsDeliveryWakesAWaitingMember(t *testing.T) {
	hub := groups.NewLocal()
	member, sender := groupCall(t, hub), groupCall(t, hub)
	join(t, member, "g")
	wake := make(chanWake, 1)
	if ev, ok := member.Receive(wake); ok {
		t.Fatalf("receive gave %q with nothing sent", ev.Type)
	}
	publish(t, sender, "g", "hello")
	if !awaitWake(wake, 5*time.Second) {
		t.Fatal("the member was not woken within 5s")
	}
	if diff := cmp.Diff([]string{"lasgi.group.message g hello 0"}, received(member)); diff != "" {
		t.Errorf("member (-want +got):\n%s", diff)
	}
}

// Once an http response is complete receive gives http.disconnect, queued
// messages or not, and messages that come after are not kept.
func TestGroupsAfterTheResponse(t *testing.T) {
	hub := groups.NewLocal()
	c := bridge.NewCall(&event.Scope{Type: event.ScopeHTTP, Extensions: []string{event.ExtensionGroups}}, time.Time{})
	c.Groups = hub
	c.Push(event.Event{Type: event.HTTPRequest})
	join(t, c, "g")
	publish(t, c, "g", "before")
	mustSend(t, c, event.Event{Type: event.HTTPResponseStart, Status: 200})
	mustSend(t, c, event.Event{Type: event.HTTPResponseBody})
	publish(t, c, "g", "after")
	ev, ok := c.Receive(noWake{})
	if !ok || ev.Type != event.HTTPDisconnect {
		t.Fatalf("receive after the response = %q, %v; want http.disconnect", ev.Type, ok)
	}
}

// In a scope that does not offer groups, their events are of an unknown
// type: the conversation refuses them (core.send.type).
func TestGroupsNotOffered(t *testing.T) {
	c := bridge.NewCall(&event.Scope{Type: event.ScopeHTTP}, time.Time{})
	c.Groups = groups.NewLocal()
	ev := event.Event{Type: event.GroupJoin, Group: "g"}
	_, err := c.Send(&ev, noWake{})
	var v *event.Violation
	if !errors.As(err, &v) || v.Rule != event.RuleEventType {
		t.Fatalf("join not offered: %v; want %s", err, event.RuleEventType)
	}
}

// groups.busy: a member paused in send for a slow client keeps its
// membership and queues what comes meanwhile for its next receive.
func TestGroupsMemberPausedInSendKeepsItsQueue(t *testing.T) {
	hub := groups.NewLocal()
	member, sender := groupCall(t, hub), groupCall(t, hub)
	join(t, member, "g")
	big := event.Event{Type: event.WebSocketSend, Message: strings.Repeat("x", 300<<10)}
	wait, err := member.Send(&big, noWake{})
	if err != nil || !wait {
		t.Fatalf("a 300 KiB message unwritten: wait %v, err %v; want a pause", wait, err)
	}
	publish(t, sender, "g", "while paused")
	member.Take()
	member.Written(len(big.Message)) // the client caught up: the app goes on
	if diff := cmp.Diff([]string{"lasgi.group.message g while paused 0"}, received(member)); diff != "" {
		t.Errorf("after the pause (-want +got):\n%s", diff)
	}
}
