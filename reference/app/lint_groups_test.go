package app_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/conformance"
	"github.com/lasgi/lasgi/reference/server/bridge"
	"github.com/lasgi/lasgi/reference/server/gopherlua"
	"github.com/lasgi/lasgi/spec/event"
)

// groupsLintRules are the rules of the lasgi.groups extension the lint checks: each has a
// case in groups_cases.lua that makes the lint name it.
var groupsLintRules = []string{
	// What the app sends (app side).
	event.RuleGroupsName, event.RuleGroupsData, event.RuleGroupsDataSize, event.RuleGroupsMaxGroups,
	event.RuleGroupsLifespanSend, event.RuleOfferedOnly,
	// What the server hands over (server side).
	"groups.offer.limits", "groups.message", "groups.dropped",
}

// talksToItself joins a group, sends it a message of nested data, changes its own tables,
// and must get the message back as it was sent, in tables of its own; then it leaves, and
// what it sends afterwards does not come back (a look with a timeout of 0 finds nothing).
// The lint sees the real events both ways: the group events it checks and passes on, and
// the lasgi.group.message the server builds.
const talksToItself = `return function(scope, receive, send)
  if scope.type ~= "http" then error("http only", 0) end
  repeat local ev = receive() until ev.type ~= "http.request" or not ev.more_body
  local data = {text = "caf\195\169", n = 3, half = 0.5, yes = true, list = {"a", "b", {deep = {er = false}}}}
  send({type = "lasgi.group.join", group = "self.talk"})
  send({type = "lasgi.group.send", group = "self.talk", data = data})
  data.text, data.list[3].deep.er = "changed", true
  local ev = receive({timeout = 0})
  local d = ev.data
  assert(ev.type == "lasgi.group.message" and ev.group == "self.talk" and ev.dropped == nil, ev.type)
  assert(d ~= data and d.text == "caf\195\169" and d.n == 3 and d.half == 0.5 and d.yes == true, "the message as sent")
  assert(d.list[1] == "a" and d.list[2] == "b" and d.list[3].deep.er == false, "its nested tables as sent")
  send({type = "lasgi.group.leave", group = "self.talk"})
  send({type = "lasgi.group.send", group = "self.talk", data = {}})
  assert(receive({timeout = 0}).type == "lasgi.timeout", "no message after the leave")
  send({type = "http.response.start", status = 200})
  send({type = "http.response.body", body = "ok"})
end`

var _ = Describe("lint.lua with lasgi.groups", Ordered, func() {
	find := describeLintFile(lintGRCasesPath, groupsLintRules)

	It("lets the chat room of spec/groups.md pass silently, a websocket.send for each message", func() {
		c := find("groups-chat-room")
		Expect(c.result).To(Equal("ok"))
		Expect(c.warned).To(BeEmpty())
		Expect(cmp.Diff([]string{event.WebSocketAccept, event.GroupJoin, event.GroupSend, event.WebSocketSend},
			sentTypes(c))).To(BeEmpty())
	})

	It("checks a group event before it calls the real send", func() {
		for name, want := range map[string][]string{
			"groups-name-space":            nil,
			"groups-data-function":         nil,
			"groups-data-cyclic":           nil,
			"groups-lifespan-join":         nil,
			"groups-not-offered-ws":        nil,
			"groups-max-groups":            slices.Repeat([]string{event.GroupJoin}, 64),
			"groups-data-size-counts-keys": nil,
		} {
			var got []string
			for _, t := range sentTypes(find(name)) {
				if strings.HasPrefix(t, "lasgi.group.") {
					got = append(got, t)
				}
			}
			Expect(got).To(Equal(want), "%s: the group events the server's send got", name)
		}
	})

	It("passes on what goes to a group and back, on the engine and under lasgi-check's harness", func() {
		lint := lintSource()
		get := conformance.AppCasesOf("http")[:1]
		Expect(get[0].ID).To(Equal("app.http/get"))
		Expect(get[0].Scope.Offers(event.ExtensionGroups)).To(BeTrue())

		opts := gopherlua.Options{Workers: 1, BusyTimeout: 10 * time.Second, Async: true}
		ac := &conformance.AppChecker{Timeout: 3 * time.Second, Load: func() (bridge.Engine, error) {
			return gopherlua.Load("talk.lua", withLint(lint, []byte(talksToItself)), opts)
		}}
		defer ac.Close()
		for _, r := range ac.RunAll(context.Background(), get, nil) {
			Expect(r.Status).To(Equal(conformance.Passed), "on the engine:\n%s", r.Message)
		}

		path := filepath.Join(GinkgoT().TempDir(), "talk.lua")
		Expect(os.WriteFile(path, []byte(talksToItself), 0o644)).To(Succeed())
		for _, interp := range externalInterpreters {
			k := &conformance.InterpreterChecker{Interpreter: interpreterPaths[interp], Lint: []byte(lint), Timeout: 3 * time.Second, Strict: true}
			results, err := k.RunAll(context.Background(), path, get)
			Expect(err).NotTo(HaveOccurred())
			for _, r := range results {
				Expect(r.Status).To(Equal(conformance.Passed), "under %s:\n%s", interp, r.Message)
			}
		}
	})
})
