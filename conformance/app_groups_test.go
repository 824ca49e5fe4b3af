package conformance_test

import (
	"context"
	"fmt"
	"time"

	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/conformance"
	"github.com/lasgi/lasgi/reference/app"
	"github.com/lasgi/lasgi/reference/server/bridge"
	"github.com/lasgi/lasgi/reference/server/gopherlua"
	"github.com/lasgi/lasgi/spec/event"
)

// Apps on lasgi.groups (spec/groups.md) against lasgi-check app's
// checkers: the embedded engine, whose groups are the reference server's
// (a hub for each case), and the harness under each interpreter, which
// plays them inside the case's one call. Each call is the only member of
// its groups, so what it sends to a group it joined comes back to it.

const (
	// queueApp sends 300 messages to a group it joined without receiving
	// any: 256 are queued (groups.queue), the first it receives says the
	// other 44 were dropped (groups.dropped), and they come in the order
	// sent; then nothing more is queued.
	queueApp = `return function(scope, receive, send)
  if scope.type ~= "http" then error("http only", 0) end
  repeat local ev = receive() until ev.type ~= "http.request" or not ev.more_body
  local limits = scope.extensions["lasgi.groups"]
  assert(limits.queue == 256 and limits.max_message_bytes == 65536 and limits.max_groups == 64, "the limits offered")
  send({type = "lasgi.group.join", group = "q"})
  for i = 1, 300 do
    send({type = "lasgi.group.send", group = "q", data = {i = i}})
  end
  for i = 1, 256 do
    local ev = receive({timeout = 0})
    assert(ev.type == "lasgi.group.message", "message " .. i .. ": " .. ev.type)
    assert(ev.data.i == i, "message " .. i .. " came as " .. tostring(ev.data.i))
    assert(ev.dropped == (i == 1 and 44 or nil), "message " .. i .. " dropped " .. tostring(ev.dropped))
  end
  assert(receive({timeout = 0}).type == "lasgi.timeout", "the queue is empty")
  send({type = "http.response.start", status = 200})
  send({type = "http.response.body", body = "ok"})
end`
	// midBody sends a message to its group for each piece of the body it
	// takes: they come between the pieces, or after them, all of them, and
	// the body is whole.
	midBody = `return function(scope, receive, send)
  if scope.type ~= "http" then error("http only", 0) end
  send({type = "lasgi.group.join", group = "pieces"})
  local body, sent, got, done = {}, 0, 0, false
  while not done or got < sent do
    local ev = receive()
    if ev.type == "http.disconnect" then return end
    if ev.type == "http.request" then
      body[#body + 1] = ev.body
      sent = sent + 1
      send({type = "lasgi.group.send", group = "pieces", data = {n = sent}})
      done = not ev.more_body
    else
      got = got + 1
      assert(ev.type == "lasgi.group.message" and ev.data.n == got, ev.type)
    end
  end
  send({type = "http.response.start", status = 200})
  send({type = "http.response.body", body = table.concat(body)})
end`
	// wsEcho passes each text message of the client on to its group (but
	// those too large for it) and each message of the group back to the
	// client, the room's name from the path.
	wsEcho = `return function(scope, receive, send)
  if scope.type ~= "websocket" then error("websocket only", 0) end
  local room = "room." .. (scope.path:match("^/room/([%w._-]+)$") or "none")
  assert(receive().type == "websocket.connect")
  send({type = "lasgi.group.join", group = room})
  send({type = "websocket.accept"})
  while true do
    local ev = receive()
    if ev.type == "websocket.disconnect" then return end
    if ev.type == "lasgi.group.message" then
      send({type = "websocket.send", text = ev.data.text})
    elseif ev.text and #ev.text > 60000 then
      send({type = "websocket.send", text = "too large for the room"})
    elseif ev.text then
      send({type = "lasgi.group.send", group = room, data = {text = ev.text}})
    end
  end
end`
)

var _ = Describe("lasgi-check app with lasgi.groups", func() {
	lint, err := app.Source("lint.lua")
	if err != nil {
		panic(err)
	}

	It("offers lasgi.groups in the scopes of the http and websocket cases, and not in lifespan's", func() {
		expectOfferedButInLifespan(event.ExtensionGroups)
	})

	DescribeTable("plays what goes to a group and back the same way on the engine and under the harness",
		func(src string, cases func() []*conformance.AppCase) {
			played := cases()
			embedded := runEmbedded(src, 2*time.Second, played)
			for _, r := range embedded {
				Expect(r.Status).To(Equal(conformance.Passed), "%s on the engine:\n%s", r.Case.ID, r.Message)
			}
			for _, interp := range timersInterpreters {
				for _, l := range [][]byte{identityLint, lint} {
					got := runHarness(interp, l, src, 2*time.Second, played)
					Expect(cmp.Diff(verdicts(embedded), verdicts(got))).To(BeEmpty(), "the engine (-) and %s (+), the lint %v:\n%s",
						interp, len(l) > len(identityLint), messages(got))
				}
			}
		},
		Entry("a queue of 256, the rest dropped and counted", queueApp, func() []*conformance.AppCase {
			return pickCases("app.http/get", "app.http/post-many-pieces")
		}),
		Entry("a message for each piece of the body", midBody, func() []*conformance.AppCase {
			return pickCases("app.http/post-one-piece", "app.http/post-many-pieces", "app.http/post-empty-pieces")
		}),
		Entry("a WebSocket room", wsEcho, casesOf("websocket")),
	)

	It("raises, from the harness as from the engine, the rule a group event breaks", func() {
		cases := pickCases("app.http/get", "app.lifespan/startup-and-shutdown")
		for _, tc := range []struct{ event, lifespanEvent, rule, lifespanRule string }{
			{`{type = "lasgi.group.join", group = "room 1"}`, ``, event.RuleGroupsName, ""},
			{`{type = "lasgi.group.leave", group = 7}`, ``, event.RuleGroupsName, ""},
			{`{type = "lasgi.group.send", group = string.rep("g", 100), data = {}}`, ``, event.RuleGroupsName, ""},
			{`{type = "lasgi.group.send", group = "g"}`, ``, event.RuleGroupsData, ""},
			{`{type = "lasgi.group.send", group = "g", data = {f = print}}`, ``, event.RuleGroupsData, ""},
			{`{type = "lasgi.group.send", group = "g", data = {[true] = 1}}`, ``, event.RuleGroupsData, ""},
			{`{type = "lasgi.group.send", group = "g", data = nest(33)}`, ``, event.RuleGroupsData, ""},
			{`{type = "lasgi.group.send", group = "g", data = nest(32)}`, ``, "", ""},
			{`{type = "lasgi.group.send", group = "g", data = {s = string.rep("x", 65521)}}`, ``, event.RuleGroupsDataSize, ""},
			{`{type = "lasgi.group.send", group = "g", data = {s = string.rep("x", 65520)}}`, ``, "", ""},
			{`{type = "lasgi.group.join", group = "g.1"}`, `{type = "lasgi.group.join", group = "app"}`, "", event.RuleGroupsLifespanSend},
			{`{type = "lasgi.group.leave", group = "g.1"}`, `{type = "lasgi.group.leave", group = "app"}`, "", event.RuleGroupsLifespanSend},
			{`{type = "lasgi.group.send", group = "g.1", data = {}}`, `{type = "lasgi.group.send", group = "app", data = {}}`, "", event.RuleOfferedOnly},
		} {
			src := fmt.Sprintf(`local function nest(n)
  local t = {}
  for _ = 2, n do t = {t} end
  return t
end
return function(scope, receive, send)
  if scope.type == "lifespan" then
    receive()
    local ev = %s
    if ev then send(ev) end
    send({type = "lifespan.startup.complete"})
    receive()
    send({type = "lifespan.shutdown.complete"})
    return
  end
  receive()
  for i = 1, 64 do send({type = "lasgi.group.join", group = "g." .. i}) end
  send(%s)
  send({type = "http.response.start", status = 200})
  send({type = "http.response.body", body = "ok"})
end`, orNil(tc.lifespanEvent), tc.event)
			want := []string{"app.http/get: passed []", "app.lifespan/startup-and-shutdown: passed []"}
			if tc.rule != "" {
				want[0] = fmt.Sprintf("app.http/get: failed [%s]", tc.rule)
			}
			if tc.lifespanRule != "" {
				want[1] = fmt.Sprintf("app.lifespan/startup-and-shutdown: failed [%s]", tc.lifespanRule)
			}
			what := fmt.Sprintf("%s after 64 joins in http, %s in lifespan", tc.event, orNil(tc.lifespanEvent))
			embedded := runEmbedded(src, 2*time.Second, cases)
			Expect(cmp.Diff(want, verdicts(embedded))).To(BeEmpty(), "%s on the engine:\n%s", what, messages(embedded))
			for _, interp := range timersInterpreters {
				for _, l := range [][]byte{identityLint, lint} {
					got := runHarness(interp, l, src, 2*time.Second, cases)
					Expect(cmp.Diff(want, verdicts(got))).To(BeEmpty(), "%s under %s (the lint: %v):\n%s", what, interp, len(l) > len(identityLint), messages(got))
				}
			}
		}
	})

	It("raises groups.max-groups at the join past max_groups, not at a join of a group the call is in", func() {
		src := `return function(scope, receive, send)
  if scope.type ~= "http" then error("http only", 0) end
  receive()
  for i = 1, 64 do send({type = "lasgi.group.join", group = "g." .. i}) end
  send({type = "lasgi.group.join", group = "g.1"})
  send({type = "lasgi.group.leave", group = "g.64"})
  send({type = "lasgi.group.join", group = "g.65"})
  send({type = "lasgi.group.join", group = "g.66"})
end`
		want := []string{"app.http/get: failed [groups.max-groups]"}
		embedded := runEmbedded(src, 2*time.Second, pickCases("app.http/get"))
		Expect(cmp.Diff(want, verdicts(embedded))).To(BeEmpty(), messages(embedded))
		Expect(embedded[0].Message).To(ContainSubstring(`"g.66"`))
		for _, interp := range timersInterpreters {
			got := runHarness(interp, identityLint, src, 2*time.Second, pickCases("app.http/get"))
			Expect(cmp.Diff(want, verdicts(got))).To(BeEmpty(), "under %s:\n%s", interp, messages(got))
			Expect(got[0].Message).To(ContainSubstring(`"g.66"`), interp)
		}
	})

	It("offers no groups on an engine that cannot carry them, as lasgi-serve does not", func() {
		src := `return function(scope, receive, send)
  if scope.type == "lifespan" then error("no lifespan", 0) end
  if scope.extensions["lasgi.groups"] then error("groups offered", 0) end
  if scope.type == "websocket" then
    receive()
    send({type = "websocket.close"})
    return
  end
  send({type = "http.response.start", status = 200})
  send({type = "http.response.body", body = "ok"})
end`
		opts := gopherlua.Options{Workers: 1, BusyTimeout: 4 * time.Second, Async: true}
		checker := &conformance.AppChecker{Timeout: 2 * time.Second, Load: func() (bridge.Engine, error) {
			eng, err := gopherlua.Load("plain.lua", []byte(src), opts)
			if err != nil {
				return nil, err
			}
			return withoutGroups{eng}, nil
		}}
		defer checker.Close()
		for _, r := range checker.RunAll(context.Background(), pickCases("app.http/get", "app.websocket/text-messages"), nil) {
			Expect(r.Status).To(Equal(conformance.Passed), "%s:\n%s", r.Case.ID, r.Message)
		}
	})
})

// withoutGroups is an engine without bridge.GroupsEngine's method.
type withoutGroups struct{ bridge.Engine }

// orNil is a Lua expression: src, or nil when it is empty.
func orNil(src string) string {
	if src == "" {
		return "nil"
	}
	return src
}
