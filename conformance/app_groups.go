package conformance

import (
	"fmt"
	"regexp"

	"github.com/lasgi/lasgi/reference/server/bridge"
	"github.com/lasgi/lasgi/reference/server/groups"
	"github.com/lasgi/lasgi/spec/event"
)

// The lasgi.groups extension (spec/groups.md) in lasgi-check app's cases.
// The http and websocket scopes offer it, as lasgi-serve's do, and the
// lifespan scopes do not (a server may: groups.lifespan), so that a
// lifespan call that sends group events without looking is seen to break
// core.extensions.offered-only, as timers' lifespan scopes show
// timers.offered-only. The engine does what a server does with the group
// events an app sends (it raises the rules they break, lasgi: groups.*:),
// and the harness the same under a real interpreter (harness/groups.lua);
// each call is the only member its groups can have, so what it sends to a
// group it joined comes back to it.

// groupsSendRules are the app-side rules of lasgi.groups that every case of
// a scope offering the extension watches.
var groupsSendRules = []string{event.RuleGroupsName, event.RuleGroupsData, event.RuleGroupsDataSize, event.RuleGroupsMaxGroups}

// offerGroups gives a call of scope the hub that carries its groups: one of
// its own, so that no case's memberships meet another's. An engine that
// cannot carry group data (bridge.CarriesGroups) gets none, and scope
// loses the extension, as lasgi-serve offers it only with such an engine.
func offerGroups(eng bridge.Engine, scope *event.Scope) groups.Hub {
	if !scope.Offers(event.ExtensionGroups) {
		return nil
	}
	if !bridge.CarriesGroups(eng) {
		scope.Extensions = without(scope.Extensions, event.ExtensionGroups)
		return nil
	}
	return groups.NewLocal()
}

// groupEventRefused finds what a server raises for a group event in a
// scope that does not offer groups: core.send.type, an event of an unknown
// type (spec/groups.md, "Offering groups").
var groupEventRefused = regexp.MustCompile(`lasgi: core\.send\.type: "(lasgi\.group\.(?:join|leave|send))" is not an event an app sends in an? ([a-z]+) scope`)

// groupsNotOffered names the rule an app broke that the server raised
// core.send.type for, when the event was one of the groups extension: the
// app sent it where the extension is not offered
// (core.extensions.offered-only), or joined or left a group in a lifespan
// scope, which no server allows (groups.lifespan.send-only). The lint names
// the same rules (reference/app/lint.lua). ok is false for any other error.
func groupsNotOffered(errText string) (problem string, ok bool) {
	m := groupEventRefused.FindStringSubmatch(errText)
	if m == nil {
		return "", false
	}
	if m[2] == event.ScopeLifespan && m[1] != event.GroupSend {
		return fmt.Sprintf("lasgi: %s: %s sent in a lifespan scope, which may send to groups but not join or leave them; the server raised: %s",
			event.RuleGroupsLifespanSend, m[1], errText), true
	}
	return fmt.Sprintf("lasgi: %s: %s sent in a %s scope, which does not offer the %s extension; the server raised: %s",
		event.RuleOfferedOnly, m[1], m[2], event.ExtensionGroups, errText), true
}

// groupsEntryLua is the lasgi.groups entry of a scope the harness hands
// over, with the limits the reference engine offers (groups.offer.limits).
func groupsEntryLua() string {
	return fmt.Sprintf("{max_message_bytes = %d, queue = %d, max_groups = %d}",
		event.GroupsMaxMessageBytes, event.GroupsQueue, event.GroupsMaxGroups)
}
