package luatype

import (
	"errors"

	"github.com/lasgi/lasgi/reference/server/groups"
	"github.com/lasgi/lasgi/reference/server/internal/mutant"
	"github.com/lasgi/lasgi/spec/event"
)

// GroupData is what an engine's Value has when the engine can carry the
// data of lasgi.group.send (spec/groups.md): the table encoded as
// groups.Encoder writes it, at most max bytes, or the groups.data or
// groups.data.size violation that stopped it. It is called on the value of
// the event's data key, which is a table.
type GroupData interface {
	GroupData(max int) (string, error)
}

// DecodeFor is Decode for a call of scope: the events of the groups
// extension, when the scope offers it, are read here (their group name,
// and their data through GroupData); every other event as Decode reads it.
// In a scope that does not offer groups their types are unknown, as any
// other (core.send.type).
func DecodeFor[V Value[V]](v V, f mutant.Fault, scope *event.Scope) (event.Event, error) {
	typ, err := eventType(v)
	if err != nil {
		return event.Event{}, err
	}
	if event.IsGroupEvent(typ) && scope.Offers(event.ExtensionGroups) {
		return decodeGroup(v, typ, scope, f)
	}
	return decodeTyped(v, typ, f, scope.Type)
}

// decodeGroup reads lasgi.group.join, leave or send: Group is the name,
// Body the encoded data.
func decodeGroup[V Value[V]](v V, typ string, scope *event.Scope, f mutant.Fault) (event.Event, error) {
	ev := event.Event{Type: typ}
	if scope.Type == event.ScopeLifespan && typ != event.GroupSend {
		return ev, event.Violationf(event.RuleGroupsLifespanSend,
			"%s in a lifespan scope: a lifespan call may send to groups, not join or leave them", typ)
	}
	g := v.Field("group")
	if g.Kind() != String {
		return ev, event.Violationf(event.RuleGroupsName, "group must be a string, got %s", Describe(g))
	}
	ev.Group = g.Str()
	if err := event.CheckGroupName(ev.Group); err != nil && !f.Is(mutant.GroupsNameUnchecked) {
		return ev, err
	}
	if typ != event.GroupSend {
		return ev, nil
	}
	d := v.Field("data")
	if d.Kind() != Table {
		return ev, groups.NotTable(Describe(d))
	}
	gd, ok := any(d).(GroupData)
	if !ok {
		// Not offered by such an engine (bridge.GroupsEngine); a bug if seen.
		return ev, event.Violationf(event.RuleGroupsData, "this engine cannot carry group data")
	}
	max := event.GroupsMaxMessageBytes
	if f.Is(mutant.GroupsSizeUnchecked) {
		max = 1 << 30
	}
	var err error
	ev.Body, err = gd.GroupData(max)
	if err != nil && f.Is(mutant.GroupsDataUnchecked) {
		return faultGroupData(ev, err)
	}
	return ev, err
}

// faultGroupData is mutant.GroupsDataUnchecked: data that breaks
// groups.data is sent as an empty table, what the server cannot carry left
// out. Apart, so that the error's address is taken only under the fault.
func faultGroupData(ev event.Event, err error) (event.Event, error) {
	var broke *event.Violation
	if errors.As(err, &broke) && broke.Rule == event.RuleGroupsData {
		ev.Body = string([]byte{groups.TagTable, 0, 0, 0, 0})
		return ev, nil
	}
	return ev, err
}
