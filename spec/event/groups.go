package event

// The groups extension (spec/groups.md): calls join named groups and send
// them messages through send; members receive the messages as events of
// type GroupMessage. In an Event of these types, Group is the group's
// name, Body the message's data in the groups data encoding (see
// reference/server/groups), and Code, in a GroupMessage, the dropped count.
const (
	ExtensionGroups = "lasgi.groups"
	GroupJoin       = "lasgi.group.join"
	GroupLeave      = "lasgi.group.leave"
	GroupSend       = "lasgi.group.send"
	GroupMessage    = "lasgi.group.message"
)

// The limits a server offers in scope.extensions["lasgi.groups"]
// (groups.offer.limits), and the least each may be.
const (
	GroupsMaxMessageBytes = 64 << 10
	GroupsQueue           = 256
	GroupsMaxGroups       = 64

	GroupsMinMessageBytes = 1024
	GroupsMinQueue        = 16
	GroupsMinMaxGroups    = 16
)

// MaxGroupDepth is how deep data may nest, data itself being 1
// (groups.data).
const MaxGroupDepth = 32

// MaxGroupName is the longest group name (groups.name).
const MaxGroupName = 99

// Rule IDs of the groups extension that Go code checks.
const (
	RuleGroupsName         = "groups.name"
	RuleGroupsData         = "groups.data"
	RuleGroupsDataSize     = "groups.data.size"
	RuleGroupsMaxGroups    = "groups.max-groups"
	RuleGroupsLifespanSend = "groups.lifespan.send-only"
	RuleGroupsUnavailable  = "groups.send.unavailable"
)

// IsGroupEvent reports whether typ is one of the events an app sends to
// the groups extension.
func IsGroupEvent(typ string) bool {
	return typ == GroupJoin || typ == GroupLeave || typ == GroupSend
}

// CheckGroupName returns the groups.name violation of name, or nil.
func CheckGroupName(name string) error {
	if len(name) == 0 || len(name) > MaxGroupName {
		return Violationf(RuleGroupsName, "a group name is 1 to %d characters, got %d", MaxGroupName, len(name))
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return Violationf(RuleGroupsName, "group name %q has %q at byte %d: only ASCII letters, digits, '.', '_' and '-'", name, c, i+1)
		}
	}
	return nil
}
