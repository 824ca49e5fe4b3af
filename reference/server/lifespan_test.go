package server_test

import (
	"errors"
	"strings"
	"time"

	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/reference/server"
	"github.com/lasgi/lasgi/reference/server/gopherlua"
	"github.com/lasgi/lasgi/reference/server/servertest"
)

// lifespanApp is an app whose lifespan scope runs startup (Lua statements
// with scope and send in reach) when lifespan.startup comes, replies
// complete, and replies complete to lifespan.shutdown; its http scopes run
// handler. reply(send, body) answers 200 with body.
func lifespanApp(startup, handler string) string {
	return `
local function reply(send, body)
  send({type = "http.response.start", status = 200})
  send({type = "http.response.body", body = body})
end
return function(scope, receive, send)
  if scope.type == "lifespan" then
    local ev = receive()
    assert(ev.type == "lifespan.startup", "first event " .. tostring(ev.type))
    ` + startup + `
    send({type = "lifespan.startup.complete"})
    ev = receive()
    assert(ev.type == "lifespan.shutdown", "second event " .. tostring(ev.type))
    send({type = "lifespan.shutdown.complete"})
    return
  end
  ` + handler + `
end`
}

// lifespanOpts are engine options with lifespan on and short timeouts.
func lifespanOpts(workers int) gopherlua.Options {
	return gopherlua.Options{Workers: workers, BusyTimeout: 2 * time.Second, Lifespan: gopherlua.LifespanOn, LifespanTimeout: 2 * time.Second}
}

var _ = Describe("lifespan", func() {
	It("runs in every worker before it serves, each with a state of its own that its requests see", func() {
		s := serveWith(`
local seen, startups = {}, 0
`+lifespanApp(`
    startups = startups + 1
    seen[#seen + 1] = scope.type
    local keys, n = {}, 0
    for k in pairs(scope) do keys[#keys + 1] = k end
    table.sort(keys)
    for _ in pairs(scope.state) do n = n + 1 end
    scope.state.vm = tostring(scope.state)
    scope.state.startups = startups
    scope.state.scope = table.concat(keys, ",") .. " asgi " .. scope.asgi.version .. "/" .. scope.asgi.spec_version ..
      " lasgi " .. scope.lasgi.version .. ", state keys " .. n`, `
  seen[#seen + 1] = scope.type
  reply(send, scope.state.vm .. "|" .. scope.state.startups .. "|" .. scope.state.scope .. "|" .. seen[1])`),
			lifespanOpts(2), server.Config{})
		// Each worker's first scope was its lifespan scope, which it saw once.
		vms := map[string]bool{}
		for range 8 {
			parts := strings.Split(s.get("/").Body, "|")
			Expect(parts).To(HaveLen(4))
			vms[parts[0]] = true
			Expect(cmp.Diff([]string{"1", "asgi,lasgi,state,type asgi 3.0/2.0 lasgi 1.2, state keys 0", "lifespan"}, parts[1:])).To(BeEmpty())
		}
		Expect(vms).To(HaveLen(2), "two workers, two lifespan states")
	})

	It("copies the state into each request's scope shallowly: a key set there stays there, a table inside is shared", func() {
		s := serveWith(lifespanApp(`
    scope.state.pool = {queries = 0}
    scope.state.name = "pool"`, `
  local st = scope.state
  local before = tostring(st.mine)
  st.mine = scope.path
  st.pool.queries = st.pool.queries + 1
  st.name = nil
  reply(send, before .. " " .. st.pool.queries .. " " .. (tostring(st):gsub(" ", "")))`), lifespanOpts(1), server.Config{})
		first := strings.Fields(s.get("/a").Body)
		second := strings.Fields(s.get("/b").Body)
		Expect(first[:2]).To(Equal([]string{"nil", "1"}))
		Expect(second[:2]).To(Equal([]string{"nil", "2"}), "/a's key is not in /b's state, the pool table is shared")
		Expect(first[2]).NotTo(Equal(second[2]), "a new table for each request")
		Expect(s.get("/c").Body).To(HavePrefix("nil 3"))
	})

	It("with auto, serves an app that raises for a lifespan scope, with empty state, logging that once", func() {
		s := serveWith(`
return function(scope, receive, send)
  if scope.type ~= "http" then error("http only, not " .. scope.type, 0) end
  local n = 0
  for _ in pairs(scope.state) do n = n + 1 end
  send({type = "http.response.start", status = 200})
  send({type = "http.response.body", body = "state keys " .. n})
end`, gopherlua.Options{Workers: 2, Lifespan: gopherlua.LifespanAuto}, server.Config{})
		Expect(s.get("/").Body).To(Equal("state keys 0"))
		Expect(s.get("/").Body).To(Equal("state keys 0"))
		Expect(strings.Count(s.log.String(), "lifespan: the app does not support it")).To(Equal(1), s.log.String())
		Expect(s.log.String()).To(ContainSubstring("raised an error (http only, not lifespan) before replying to lifespan.startup"))
	})

	It("with off, never calls the app for a lifespan scope", func() {
		s := serveWith(`
local seen = {}
return function(scope, receive, send)
  seen[#seen + 1] = scope.type
  local n = 0
  for _ in pairs(scope.state) do n = n + 1 end
  send({type = "http.response.start", status = 200})
  send({type = "http.response.body", body = table.concat(seen, ",") .. " state keys " .. n})
end`, gopherlua.Options{Workers: 1, Lifespan: gopherlua.LifespanOff}, server.Config{})
		s.get("/")
		Expect(s.get("/").Body).To(Equal("http,http state keys 0"))
	})

	It("raises each lifespan send rule an app breaks, its rule ID in the error, and takes the valid reply after", func() {
		s := serveWith(lifespanApp(`
    local errs = {}
    local function try(ev)
      local ok, err = pcall(send, ev)
      errs[#errs + 1] = ok and "ok" or tostring(err)
    end
    try({type = "lifespan.shutdown.complete"})
    try({type = "lifespan.startup.failed", message = 42})
    try({type = "lifespan.startup.failed", message = "\255"})
    try({type = "http.response.start", status = 200})
    try("lifespan.startup.complete")
    try({type = "lifespan.startup.complete"})
    try({type = "lifespan.startup.failed"})
    scope.state.errs = table.concat(errs, "\n")
    do return end -- the first reply was ok: lifespanApp's own would break the rule too
    `, `reply(send, scope.state.errs)`), lifespanOpts(1), server.Config{})
		lines := strings.Split(s.get("/").Body, "\n")
		var rules []string
		for _, l := range lines {
			if l == "ok" {
				rules = append(rules, l)
				continue
			}
			Expect(l).To(HavePrefix("lasgi: "), "no position prefix (core.send.error-value)")
			rules = append(rules, strings.SplitN(l, ": ", 3)[1])
		}
		Expect(cmp.Diff([]string{
			"lifespan.shutdown.reply", "lifespan.startup.message-type", "lifespan.startup.message-type",
			"core.send.type", "core.send.event-table", "ok", "lifespan.startup.order",
		}, rules)).To(BeEmpty(), strings.Join(lines, "\n"))
		Expect(lines[0]).To(ContainSubstring("before lifespan.shutdown was received"))
		Expect(lines[6]).To(ContainSubstring("after lifespan.startup.complete"))
	})

	It("raises lifespan.startup.order for a reply sent before lifespan.startup was received, in the first resume", func() {
		_, err := gopherlua.Load("app.lua", []byte(`
return function(scope, receive, send)
  local ok, err = pcall(send, {type = "lifespan.startup.complete"})
  receive()
  send({type = "lifespan.startup.failed", message = tostring(err)})
end`), lifespanOpts(1))
		Expect(err).To(MatchError(ContainSubstring(
			"the app sent lifespan.startup.failed: lasgi: lifespan.startup.order: lifespan.startup.complete sent before lifespan.startup was received")))
	})

	DescribeTable("refuse to start, naming the worker and why, when a startup fails",
		func(mode gopherlua.LifespanMode, lifespan, want string) {
			start := time.Now()
			opts := lifespanOpts(2)
			opts.Lifespan, opts.LifespanTimeout = mode, 300*time.Millisecond
			_, err := servertest.Start("app.lua", []byte(`
return function(scope, receive, send)
  if scope.type == "lifespan" then
    `+lifespan+`
  end
  send({type = "http.response.start", status = 200})
  send({type = "http.response.body", body = "served"})
end`), opts, server.Config{}, GinkgoWriter)
			var se *gopherlua.StartupError
			Expect(errors.As(err, &se)).To(BeTrue(), "%v", err)
			Expect(err.Error()).To(ContainSubstring("worker 0: lifespan startup failed: " + want))
			Expect(err.Error()).To(ContainSubstring("worker 1: lifespan startup failed: " + want))
			Expect(time.Since(start)).To(BeNumerically("<", 2*time.Second))
		},
		Entry("lifespan.startup.failed, auto", gopherlua.LifespanAuto,
			`receive() send({type = "lifespan.startup.failed", message = "database unreachable"})`,
			"the app sent lifespan.startup.failed: database unreachable"),
		Entry("lifespan.startup.failed, then an error (lifespan.error.after-failed)", gopherlua.LifespanAuto,
			`receive() send({type = "lifespan.startup.failed"}) error("and then this")`,
			"the app sent lifespan.startup.failed (no message)"),
		Entry("an error before the reply, on", gopherlua.LifespanOn,
			`error("no lifespan here", 0)`,
			"the app raised an error (no lifespan here) before replying to lifespan.startup (--lifespan on)"),
		Entry("a return before the reply, on", gopherlua.LifespanOn,
			`return`,
			"the app returned before replying to lifespan.startup (--lifespan on)"),
		Entry("no reply within the timeout, auto", gopherlua.LifespanAuto,
			`receive() receive()`,
			"the app did not reply to lifespan.startup within --lifespan-timeout 300ms (lifespan.startup.timeout)"),
		Entry("a startup that loops without yielding, on: the timeout, and its state is closed all the same", gopherlua.LifespanOn,
			`while true do end`,
			"the app did not reply to lifespan.startup within --lifespan-timeout 300ms"),
	)
})
