package conformance

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/go-cmp/cmp"

	"github.com/lasgi/lasgi/spec/event"
)

// groupsProtocol is spec/groups.md, the lasgi.groups extension, as the
// checker knows it: the probe's verbs that join, leave and send to groups,
// send invalid group events and receive messages (fixtures/PROBE.md,
// "Groups"); the keys of a reported lasgi.group.message (groupEvent); the
// sum of a flood of messages too many to list as events (group_messages,
// group_dropped); and the scope pattern of the extension's entry. Its cases
// require the extension, and timers too where they wait to see that
// nothing more comes, so a server without them skips them.
var groupsProtocol = protocol{
	name:   "groups",
	checks: []fieldCheck{groupMessagesCheck{}, groupDroppedCheck{}},
	verbs:  groupsVerbs,
}

// GroupBadKinds are the invalid group events the probe sends (gbad:KIND),
// each with the rule a server offering groups must raise for it; "" for the
// ones at the limits, which it must take (fixtures/PROBE.md).
var GroupBadKinds = []BadKind{
	{"name-empty", event.RuleGroupsName}, {"name-long", event.RuleGroupsName},
	{"name-char", event.RuleGroupsName}, {"name-number", event.RuleGroupsName},
	{"data-function", event.RuleGroupsData}, {"data-table-key", event.RuleGroupsData},
	{"data-bool-key", event.RuleGroupsData}, {"data-nan-key", event.RuleGroupsData},
	{"data-cycle", event.RuleGroupsData}, {"data-deep", event.RuleGroupsData},
	{"data-not-table", event.RuleGroupsData}, {"data-size", event.RuleGroupsDataSize},
	{"max-groups", event.RuleGroupsMaxGroups},
	{"ok-deep", ""}, {"ok-size", ""},
}

// GroupDataKinds are the data tables gdata:G:KIND sends.
var GroupDataKinds = []string{"mixed"}

var groupsVerbs = []probeVerb{
	{name: "gjoin", min: 1, max: 1}, {name: "gleave", min: 1, max: 1},
	{name: "gsend", min: 2, max: 2},
	{name: "gdata", min: 2, max: 2, check: second(oneOf("a kind of group data", GroupDataKinds...))},
	{name: "gflood", min: 2, max: 2, check: second(digits("a count of messages past queue", 6))},
	{name: "gbad", min: 1, max: 1, check: oneOf("an invalid group event", kindNames(GroupBadKinds)...)},
	{name: "gdrain", max: 1, check: decimalSeconds},
	{name: "gforward"}, {name: "busy", min: 1, max: 1, check: digits("milliseconds", 4)},
}

// second applies check to a verb's second argument alone.
func second(check func([]string) error) func([]string) error {
	return func(args []string) error { return check(args[1:]) }
}

func kindNames(kinds []BadKind) []string {
	out := make([]string, len(kinds))
	for i, k := range kinds {
		out[i] = k.Kind
	}
	return out
}

// groupEvent reads the keys of a reported lasgi.group.message m into ev:
// group, data (strings as Bytes and numbers as float64, as a fixture's are
// once loaded) and dropped; and, as problems, a group that is not a
// string, data that is not a table, a dropped that is not an integer, and
// a data table the probe found was not the member's own (groups.copy).
func groupEvent(ev *Event, m map[string]any) {
	if ev.Type != event.GroupMessage {
		return
	}
	if g, ok := m["group"].(string); ok {
		b := Bytes(g)
		ev.Group = &b
	} else {
		ev.Problems = append(ev.Problems, fmt.Sprintf("group is %v, not a string", describeJSON(m["group"])))
	}
	switch d := m["data"].(type) {
	case map[string]any, []any:
		ev.Data = groupValue(d)
	default:
		ev.Problems = append(ev.Problems, fmt.Sprintf("data is a %v, not a table", m["data_type"]))
	}
	if d, ok := m["dropped"]; ok && d != nil {
		if n, ok := jsonInteger(d); ok {
			i := int(n)
			ev.Dropped = &i
		} else {
			ev.Problems = append(ev.Problems, fmt.Sprintf("dropped is %v, not an integer", describeJSON(d)))
		}
	}
	if c, ok := m["copy"].(string); ok {
		ev.Problems = append(ev.Problems, "groups.copy: "+c)
	}
}

// groupValue is decoded group data with strings as Bytes and numbers as
// float64: a report's and a fixture's compare equal, and record writes the
// bytes back as they were.
func groupValue(v any) any {
	return mapLeaves(v, func(x any) any {
		switch x := x.(type) {
		case string:
			return Bytes(x)
		case json.Number:
			f, _ := x.Float64()
			return f
		}
		return x
	})
}

// checkGroupEvent makes an expected event's data as groupValue makes a
// reported one's.
func checkGroupEvent(ev *Event) error {
	if ev.Data == nil {
		return nil
	}
	d, err := bytesOf(ev.Data)
	if err != nil {
		return err
	}
	ev.Data = groupValue(d)
	return nil
}

func jsonInteger(v any) (int64, bool) {
	switch n := v.(type) {
	case json.Number:
		i, err := strconv.ParseInt(string(n), 10, 64)
		return i, err == nil
	case float64:
		return int64(n), n == float64(int64(n))
	}
	return 0, false
}

func describeJSON(v any) string {
	if v == nil {
		return "absent"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// groupsEntryPattern stands for scope.extensions offering lasgi.groups
// with the limits groups.offer.limits asks for.
const groupsEntryPattern = "{table of tables offering lasgi.groups with its limits}"

func init() { ScopePatterns[groupsEntryPattern] = groupsEntryProblem }

func groupsEntryProblem(v any) string {
	if p := tableProblem(v, func(x any) string { return tableProblem(x, nil) }); p != "" {
		return p
	}
	exts, _ := v.(map[string]any)
	entry, ok := exts[event.ExtensionGroups].(map[string]any)
	if !ok {
		return "no lasgi.groups entry holding its limits"
	}
	for _, limit := range []struct {
		key   string
		least int64
	}{{"max_message_bytes", event.GroupsMinMessageBytes}, {"queue", event.GroupsMinQueue}, {"max_groups", event.GroupsMinMaxGroups}} {
		n, ok := jsonInteger(entry[limit.key])
		switch {
		case entry[limit.key] == nil:
			return "the lasgi.groups entry has no " + limit.key
		case !ok:
			return fmt.Sprintf("the lasgi.groups entry's %s is %s, not an integer", limit.key, describeJSON(entry[limit.key]))
		case n < limit.least:
			return fmt.Sprintf("the lasgi.groups entry's %s is %d, less than %d", limit.key, n, limit.least)
		}
	}
	return ""
}

// GroupMessages is expect.group_messages: how many lasgi.group.message
// events the probe received, and the seq of each one's data (gflood's) in
// order, as runs: "1-256,?" is 1 to 256 and then one without a seq.
type GroupMessages struct {
	Count int    `json:"count"`
	Seq   string `json:"seq"`
}

// maxRuns and maxDropped bound what a summary lists: a server that
// reorders or counts every message is shown by its first ones.
const (
	maxRuns    = 12
	maxDropped = 10
)

func groupMessages(obs *Observation) []Event {
	var out []Event
	for _, ev := range obs.Report.Events {
		if ev.Type == event.GroupMessage {
			out = append(out, ev)
		}
	}
	return out
}

func seqRuns(msgs []Event) string {
	var runs []string
	start, prev := -1, -1
	flush := func() {
		switch {
		case start < 0:
		case start == prev:
			runs = append(runs, strconv.Itoa(start))
		default:
			runs = append(runs, fmt.Sprintf("%d-%d", start, prev))
		}
		start = -1
	}
	for _, m := range msgs {
		d, _ := m.Data.(map[string]any)
		f, ok := d["seq"].(float64)
		n := int(f)
		switch {
		case ok && float64(n) == f && start >= 0 && n == prev+1:
		case ok && float64(n) == f:
			flush()
			start = n
		default:
			flush()
			runs = append(runs, "?")
		}
		prev = n
	}
	flush()
	if len(runs) > maxRuns {
		runs = append(runs[:maxRuns], "...")
	}
	return strings.Join(runs, ",")
}

// groupMessagesCheck is expect.group_messages (groups.queue).
type groupMessagesCheck struct{}

func (groupMessagesCheck) field() string      { return "group_messages" }
func (groupMessagesCheck) has(e *Expect) bool { return e.GroupMessages != nil }
func (groupMessagesCheck) fromReport() bool   { return true }

func (groupMessagesCheck) observe(got *Expect, obs *Observation) {
	msgs := groupMessages(obs)
	got.GroupMessages = &GroupMessages{Count: len(msgs), Seq: seqRuns(msgs)}
}

func (groupMessagesCheck) compare(want, got *Expect, _ *Observation) []finding {
	if d := cmp.Diff(want.GroupMessages, got.GroupMessages); d != "" {
		return []finding{findingf("group_messages", "the group messages received differ (-expected +got; seq: data.seq of each, as runs):\n%s", d)}
	}
	return nil
}

func (groupMessagesCheck) record(e, got *Expect, _ *Observation) { e.GroupMessages = got.GroupMessages }

// groupDroppedCheck is expect.group_dropped: the place among the group
// messages received of each that carried dropped, and its count, as
// [place, dropped] pairs (groups.dropped); [] when none did.
type groupDroppedCheck struct{}

func (groupDroppedCheck) field() string      { return "group_dropped" }
func (groupDroppedCheck) has(e *Expect) bool { return e.GroupDropped != nil }
func (groupDroppedCheck) fromReport() bool   { return true }

func (groupDroppedCheck) observe(got *Expect, obs *Observation) {
	pairs := [][2]int{}
	for i, m := range groupMessages(obs) {
		if m.Dropped != nil && len(pairs) < maxDropped {
			pairs = append(pairs, [2]int{i + 1, *m.Dropped})
		}
	}
	got.GroupDropped = &pairs
}

func (groupDroppedCheck) compare(want, got *Expect, _ *Observation) []finding {
	if d := cmp.Diff(*want.GroupDropped, *got.GroupDropped); d != "" {
		return []finding{findingf("group_dropped", "the messages that carried dropped differ (-expected +got; [place among the group messages, dropped]):\n%s", d)}
	}
	return nil
}

func (groupDroppedCheck) record(e, got *Expect, _ *Observation) { e.GroupDropped = got.GroupDropped }
