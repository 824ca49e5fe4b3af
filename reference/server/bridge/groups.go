package bridge

import (
	"github.com/lasgi/lasgi/reference/server/internal/mutant"
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

// membership is a call's part in the groups: what it joined and what its
// inbox holds of them. Its methods take a nil membership as a call that
// never joined.
type membership struct {
	joined  []string // the groups the call is a member of
	queued  int32    // group messages in the inbox
	dropped int32    // group messages dropped since the last one received
}

// pending is how many group messages the inbox holds.
func (m *membership) pending() int {
	if m == nil {
		return 0
	}
	return int(m.queued)
}

// memberOf is the place of group in m.joined, or -1.
func (m *membership) memberOf(group string) int {
	if m == nil {
		return -1
	}
	for i, g := range m.joined {
		if g == group {
			return i
		}
	}
	return -1
}

// leaveAll forgets every membership, returning them for the hub to end.
func (m *membership) leaveAll() []string {
	if m == nil {
		return nil
	}
	joined := m.joined
	m.joined = nil
	return joined
}

// sendGroup does a group event the app sent, decoded by
// luatype.DecodeFor: join, leave, send through the call's hub. No lock of
// the call is held, since a hub delivers to the members of a group, the
// sender too. The hub's errors (a Redis gone) are the app's to see.
func (c *Call) sendGroup(ev *event.Event) error {
	switch ev.Type {
	case event.GroupSend:
		if c.Fault.ID() != 0 {
			return c.faultPublish(ev)
		}
		return c.Groups.Publish(ev.Group, ev.Body)
	case event.GroupJoin:
		c.mu.Lock()
		if c.finished || c.groups.memberOf(ev.Group) >= 0 {
			c.mu.Unlock()
			if c.Fault.Is(mutant.GroupsJoinTwice) && !c.finished {
				return c.Groups.Join(ev.Group, twin{c})
			}
			return nil
		}
		if c.groups == nil {
			c.groups = &membership{}
		}
		if n := len(c.groups.joined); n >= event.GroupsMaxGroups && !c.Fault.Is(mutant.GroupsMaxGroupsUnchecked) {
			c.mu.Unlock()
			return event.Violationf(event.RuleGroupsMaxGroups,
				"the call is a member of %d groups already, max_groups; join of %q refused", n, ev.Group)
		}
		c.groups.joined = append(c.groups.joined, ev.Group)
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
		if c.Fault.ID() != 0 {
			return c.faultLeave(ev)
		}
		if c.forget(ev.Group) {
			c.Groups.Leave(ev.Group, c)
		}
	}
	return nil
}

// forget takes group out of the call's memberships, reporting whether it
// was there.
func (c *Call) forget(group string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	i := c.groups.memberOf(group)
	if i < 0 {
		return false
	}
	m := c.groups
	last := len(m.joined) - 1
	m.joined[i] = m.joined[last]
	m.joined = m.joined[:last]
	return true
}

// leave ends the memberships of a call that has finished
// (groups.call-end).
func (c *Call) leave(joined []string) {
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
	m := c.groups
	if m == nil || c.finished || c.disconnected || c.conv.Done() {
		c.mu.Unlock()
		return
	}
	if c.Fault.ID() != 0 && c.faultDeliver(m, group, data) {
		return
	}
	if m.queued >= event.GroupsQueue {
		m.dropped++
		c.mu.Unlock()
		return
	}
	c.inbox = append(c.inbox, event.Event{Type: event.GroupMessage, Group: group, Body: data})
	m.queued++
	wake := c.recvWake
	c.recvWake = nil
	c.mu.Unlock()
	if wake != nil && !c.Fault.Is(mutant.GroupsWakeLost) {
		wakeLater(wake)
	}
}

// tookGroupMessage accounts for a group message leaving the inbox as ev:
// it carries the drop count since the last one (groups.dropped). c.mu is
// held.
func (c *Call) tookGroupMessage(ev *event.Event) {
	m := c.groups
	m.queued--
	if !c.Fault.Is(mutant.GroupsDroppedMissing) {
		ev.Code = int(m.dropped)
	}
	if !c.Fault.Is(mutant.GroupsDroppedNotReset) {
		m.dropped = 0
	}
}
