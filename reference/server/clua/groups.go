//go:build lua54 || luajit

package clua

// #include "lasgi.h"
import "C"

import (
	"github.com/lasgi/lasgi/reference/server/bridge"
	"github.com/lasgi/lasgi/reference/server/groups"
	"github.com/lasgi/lasgi/reference/server/luatype"
	"github.com/lasgi/lasgi/spec/event"
)

// The groups extension (spec/groups.md) on this engine: groups.c encodes
// the data an app sends and builds the data a member receives; here the
// violations are made from what C found, so that both engines say the
// same, and the received event is written as ops.

// fieldData is the data key's place among the root node's children.
const fieldData = kData

// What C and Go must agree on; a difference fails the build (a negative
// constant cannot be a uint).
const (
	_ = uint(nFields - C.LASGI_NFIELDS)
	_ = uint(C.LASGI_NFIELDS - nFields)
	_ = uint(fieldData - C.LASGI_FIELD_DATA)
	_ = uint(C.LASGI_FIELD_DATA - fieldData)
	_ = uint(event.GroupsMaxMessageBytes - C.LASGI_GROUP_MAX)
	_ = uint(C.LASGI_GROUP_MAX - event.GroupsMaxMessageBytes)
	_ = uint(event.MaxGroupDepth - C.LASGI_GROUP_DEPTH)
	_ = uint(C.LASGI_GROUP_DEPTH - event.MaxGroupDepth)
)

var _ bridge.GroupsEngine = (*Engine)(nil)

// CarriesGroups implements bridge.GroupsEngine: both builds (Lua 5.4 and
// LuaJIT) encode and build group data.
func (e *Engine) CarriesGroups() bool { return true }

var _ luatype.GroupData = cval{}

// GroupData implements luatype.GroupData for the data key of the event
// sent, which lasgi.c had groups.c encode (lasgi.h says how its node holds
// the outcome): the bytes, copied out of C once, or the violation C
// stopped at. C encodes within event.GroupsMaxMessageBytes, which is the
// max luatype asks for.
func (v cval) GroupData(max int) (string, error) {
	if v.i < 0 || v.i != int(v.nodes[0].first)+fieldData {
		// Only send's data is encoded; nothing else asks (a bug if seen).
		return "", event.Violationf(event.RuleGroupsData, "this engine cannot carry group data here")
	}
	n := v.node()
	switch n.n {
	case C.GE_OK:
		if int(n.len) > max {
			return "", groups.TooLarge(max)
		}
		return C.GoStringN(n.s, C.int(n.len)), nil
	case C.GE_KEY:
		return "", groups.BadKey(luatype.Describe(v.at(int(n.bad))))
	case C.GE_VALUE:
		return "", groups.BadValue(luatype.Describe(v.at(int(n.bad))))
	case C.GE_SIZE:
		return "", groups.TooLarge(max)
	case C.GE_DEPTH:
		return "", groups.TooDeep()
	}
	return "", event.Violationf(event.RuleGroupsData, "internal error: group data encoding ended with code %d", n.n)
}

// groupMessage is a lasgi.group.message for the app (groups.message,
// groups.dropped): its data built in C from the encoding, so that every
// member gets tables of its own (groups.copy).
func (o *ops) groupMessage(ev *event.Event) {
	o.table(0, 4)
	o.setStr(kType, ev.Type)
	o.setStr(kGroup, ev.Group)
	o.groupData(ev.Body)
	o.set(kData)
	if ev.Code > 0 {
		// Not a common string: it shared a bucket with four (strings.go),
		// and a message that follows drops is rare.
		o.integer(int64(ev.Code))
		o.setName("dropped")
	}
}

// groupData pushes the table data encodes: inline when short, else named
// by its address, pinned, as str does a long string.
func (o *ops) groupData(data string) { o.bytes(data, 'G', 'Q') }

// groupsOffer is scope.extensions["lasgi.groups"]: the limits the bridge
// keeps (groups.offer.limits).
func (o *ops) groupsOffer() {
	o.table(0, 3)
	o.integer(event.GroupsMaxMessageBytes)
	o.set(kMaxMessageBytes)
	o.integer(event.GroupsQueue)
	o.set(kQueue)
	o.integer(event.GroupsMaxGroups)
	o.set(kMaxGroups)
}
