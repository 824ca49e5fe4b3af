package bridge

import (
	"github.com/lasgi/lasgi/spec/event"
)

// GroupsEngine is an Engine that can carry the lasgi.groups extension
// (spec/groups.md): its values implement luatype.GroupData, so it encodes
// the data of lasgi.group.send, and it builds lasgi.group.message events
// into tables of the member's own. The HTTP side offers the extension only
// with such an engine.
type GroupsEngine interface {
	Engine
	// CarriesGroups reports whether this build of the engine can; an
	// engine with builds that cannot says false.
	CarriesGroups() bool
}

// CarriesGroups reports whether e can carry lasgi.groups.
func CarriesGroups(e Engine) bool {
	g, ok := e.(GroupsEngine)
	return ok && g.CarriesGroups()
}

// sendGroup does a group event the app sent, decoded by
// luatype.DecodeFor: join, leave, send through the call's hub. No lock of
// the call is held, since a hub delivers to the members of a group, the
// sender too. The hub's errors (a Redis gone) are the app's to see.
func (c *Call) sendGroup(ev *event.Event) error {
	switch ev.Type {
	case event.GroupSend:
		return c.Groups.Publish(ev.Group, ev.Body)
	case event.GroupJoin:
		c.mu.Lock()
		if c.finished || c.memberOf(ev.Group) >= 0 {
			c.mu.Unlock()
			return nil
		}
		if len(c.joined) >= event.GroupsMaxGroups {
			c.mu.Unlock()
			return event.Violationf(event.RuleGroupsMaxGroups,
				"the call is a member of %d groups already, max_groups; join of %q refused", len(c.joined), ev.Group)
		}
		c.joined = append(c.joined, ev.Group)
		c.mu.Unlock()
		if err := c.Groups.Join(ev.Group, c); err != nil {
			c.forget(ev.Group)
			return err
		}
		c.mu.Lock()
		finished := c.finished
		c.mu.Unlock()
		if finished {
			// Finish ran while the hub was joining: it left what it saw,
			// so this one is left here.
			c.Groups.Leave(ev.Group, c)
		}
	case event.GroupLeave:
		if c.forget(ev.Group) {
			c.Groups.Leave(ev.Group, c)
		}
	}
	return nil
}

// memberOf is the place of group in c.joined, or -1. c.mu is held.
func (c *Call) memberOf(group string) int {
	for i, g := range c.joined {
		if g == group {
			return i
		}
	}
	return -1
}

// forget takes group out of c.joined, reporting whether it was there.
func (c *Call) forget(group string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	i := c.memberOf(group)
	if i < 0 {
		return false
	}
	last := len(c.joined) - 1
	c.joined[i] = c.joined[last]
	c.joined = c.joined[:last]
	return true
}

// leaveAll ends every membership of a call that has finished
// (groups.call-end).
func (c *Call) leaveAll(joined []string) {
	for _, g := range joined {
		c.Groups.Leave(g, c)
	}
}

// Deliver is the call as a groups.Member: it queues a message for the
// app's receive() beside the client's events, in arrival order
// (groups.receive.order). A call that holds event.GroupsQueue messages it
// has not received drops the new one and counts it (groups.queue); the
// count rides on the next message it receives (groups.dropped). A call
// that has ended, or whose client has gone, or whose protocol has nothing
// more to receive, takes no more. The waiting app is woken through the
// clock's wakers (wakeLater), never here: the sender holds its worker's
// lock, which a member on the same worker needs to run.
func (c *Call) Deliver(group, data string) {
	c.mu.Lock()
	if c.finished || c.disconnected || c.conv.Done() {
		c.mu.Unlock()
		return
	}
	if c.groupQueued >= event.GroupsQueue {
		c.groupDropped++
		c.mu.Unlock()
		return
	}
	c.inbox = append(c.inbox, event.Event{Type: event.GroupMessage, Group: group, Body: data})
	c.groupQueued++
	wake := c.recvWake
	c.recvWake = nil
	c.mu.Unlock()
	if wake != nil {
		wakeLater(wake)
	}
}

// tookGroupMessage accounts for a group message leaving the inbox as ev:
// it carries the drop count since the last one (groups.dropped). c.mu is
// held.
func (c *Call) tookGroupMessage(ev *event.Event) {
	c.groupQueued--
	ev.Code = int(c.groupDropped)
	c.groupDropped = 0
}
