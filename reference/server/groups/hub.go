package groups

import "sync"

// A Member is where a hub delivers messages: a call's group inbox
// (bridge.Call). Deliver is called on the publisher's goroutine, possibly
// with other members' deliveries under way; it must not block, and must not
// call back into the hub.
type Member interface {
	Deliver(group, data string)
}

// Hub carries group messages. Join and Leave change what the member is
// delivered; Publish delivers data, which is in the encoding of data.go,
// to every member of group at the time, the publisher included when it is
// one, in the order each publisher calls Publish (groups.order). Every
// method returns within a bounded time; an error from Join or Publish says
// why the hub cannot do it now (groups.send.unavailable) and is raised in
// the app. Implementations are safe for use from many goroutines.
type Hub interface {
	Join(group string, m Member) error
	Leave(group string, m Member)
	Publish(group, data string) error
	Close() error
}

// Local is the hub of one process: every worker's calls meet in it. The
// zero value is ready to use.
type Local struct {
	mu     sync.RWMutex
	groups map[string]map[Member]struct{}
}

// NewLocal returns an empty in-process hub.
func NewLocal() *Local { return &Local{} }

// Join makes m a member of group; it never fails.
func (h *Local) Join(group string, m Member) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.groups == nil {
		h.groups = make(map[string]map[Member]struct{})
	}
	g := h.groups[group]
	if g == nil {
		g = make(map[Member]struct{})
		h.groups[group] = g
	}
	g[m] = struct{}{}
	return nil
}

// Leave ends m's membership of group, if it has one; a group left with no
// members goes, so that names used once cost nothing afterwards.
func (h *Local) Leave(group string, m Member) {
	h.mu.Lock()
	defer h.mu.Unlock()
	g := h.groups[group]
	delete(g, m)
	if len(g) == 0 {
		delete(h.groups, group)
	}
}

// Publish delivers data to every member of group; it never fails.
func (h *Local) Publish(group, data string) error {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for m := range h.groups[group] {
		m.Deliver(group, data)
	}
	return nil
}

// Members reports how many members group has (for tests and metrics).
func (h *Local) Members(group string) int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.groups[group])
}

// Close does nothing: a Local hub holds no resources beyond its maps.
func (h *Local) Close() error { return nil }
