package bridge

import (
	"fmt"
	"slices"

	"github.com/lasgi/lasgi/reference/server/internal/mutant"
	"github.com/lasgi/lasgi/spec/event"
)

// The groups mutants' behaviour that does not fit on the line of its hook
// in groups.go. Only a call with a fault injected reaches these.

// twin is a second member for one call, as a hub that keeps a list of
// members rather than a set makes of a call that joins twice
// (mutant.GroupsJoinTwice): it delivers into the call's own inbox.
type twin struct{ *Call }

// faultPublish is lasgi.group.send under a fault.
func (c *Call) faultPublish(ev *event.Event) error {
	switch {
	case c.Fault.Is(mutant.GroupsNoMembersRaises):
		if h, ok := c.Groups.(interface{ Members(string) int }); ok && h.Members(ev.Group) == 0 {
			return fmt.Errorf("lasgi: no call is a member of group %q", ev.Group)
		}
	case c.Fault.Is(mutant.GroupsSenderSkipped):
		c.mu.Lock()
		member := c.groups.memberOf(ev.Group) >= 0
		c.mu.Unlock()
		if member {
			c.Groups.Leave(ev.Group, c)
			defer c.Groups.Join(ev.Group, c)
		}
	}
	return c.Groups.Publish(ev.Group, ev.Body)
}

// faultLeave is lasgi.group.leave under a fault.
func (c *Call) faultLeave(ev *event.Event) error {
	switch {
	case c.Fault.Is(mutant.GroupsLeaveIgnored):
		return nil
	case !c.forget(ev.Group):
		if c.Fault.Is(mutant.GroupsLeaveUnjoinedRaises) {
			return fmt.Errorf("lasgi: the call is not a member of group %q", ev.Group)
		}
		return nil
	}
	c.Groups.Leave(ev.Group, c)
	return nil
}

// faultDeliver queues a message as the mutant of Deliver does, with c.mu
// held, and reports whether it did; when it did, it has let c.mu go and
// woken the waiting app.
func (c *Call) faultDeliver(m *membership, group, data string) bool {
	msg := event.Event{Type: event.GroupMessage, Group: group, Body: data}
	full := m.queued >= event.GroupsQueue
	switch {
	case c.Fault.Is(mutant.GroupsBusyDrops) && c.recvWake == nil:
		c.mu.Unlock()
		return true
	case c.Fault.Is(mutant.GroupsQueueUnbounded):
		c.inbox = append(c.inbox, msg)
		m.queued++
	case c.Fault.Is(mutant.GroupsDeliveredTwice) && m.queued+1 < event.GroupsQueue:
		c.inbox = append(c.inbox, msg, msg)
		m.queued += 2
	case c.Fault.Is(mutant.GroupsOrderReversed) && !full:
		c.inbox = slices.Insert(c.inbox, c.firstGroupMessage(), msg)
		m.queued++
	case c.Fault.Is(mutant.GroupsDropsOldest) && full:
		i := c.firstGroupMessage()
		c.inbox = append(slices.Delete(c.inbox, i, i+1), msg)
		m.dropped++
	default:
		return false
	}
	wake := c.recvWake
	c.recvWake = nil
	c.mu.Unlock()
	if wake != nil {
		wakeLater(wake)
	}
	return true
}

// firstGroupMessage is the place of the oldest group message in the
// inbox, or its length when it holds none. c.mu is held.
func (c *Call) firstGroupMessage() int {
	if i := slices.IndexFunc(c.inbox, func(ev event.Event) bool { return ev.Type == event.GroupMessage }); i >= 0 {
		return i
	}
	return len(c.inbox)
}
