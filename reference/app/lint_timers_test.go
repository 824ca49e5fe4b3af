package app_test

import (
	"context"
	"os"
	"path/filepath"
	"time"

	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/conformance"
	"github.com/lasgi/lasgi/reference/server/bridge"
	"github.com/lasgi/lasgi/reference/server/gopherlua"
	"github.com/lasgi/lasgi/spec/event"
)

// timersLintRules are the rules of the lasgi.timers extension the lint checks: each has a
// case in timers_cases.lua that makes the lint name it.
var timersLintRules = []string{
	// What the app passes to receive() (app side).
	event.RuleTimersOfferedOnly, event.RuleTimersOptions,
	// What receive() returns (server side).
	"timers.receive.without", "timers.receive.event-first",
}

// lookApp looks with a timeout of 0 once the body is over and must get lasgi.timeout in a
// case whose client stays (app.http/get): the look only reaches the server as a look when
// the lint passes the argument on. A receive() without it would wait, and the client would
// leave (http.disconnect).
const lookApp = `return function(scope, receive, send)
  if scope.type ~= "http" then error("http only", 0) end
  repeat local ev = receive() until ev.type ~= "http.request" or not ev.more_body
  local ev = receive({timeout = 0})
  if ev.type ~= "lasgi.timeout" then error("receive({timeout = 0}) returned " .. ev.type, 0) end
  send({type = "http.response.start", status = 200})
  send({type = "http.response.body", body = "ok"})
end`

var _ = Describe("lint.lua with lasgi.timers", Ordered, func() {
	find := describeLintFile(lintTMCasesPath, timersLintRules)

	It("lets the SSE clock of spec/timers.md pass silently, a tick for each lasgi.timeout", func() {
		c := find("timers-sse-clock")
		Expect(c.result).To(Equal("ok"))
		Expect(c.warned).To(BeEmpty())
		sent := sentTypes(c)
		Expect(cmp.Diff([]string{event.HTTPResponseStart, event.HTTPResponseBody, event.HTTPResponseBody,
			event.HTTPResponseBody}, sent)).To(BeEmpty())
	})

	// (These cases call receive() with the argument first.)
	It("checks the argument before it calls the real receive", func() {
		for _, name := range []string{"timers-offered-only", "timers-options-string", "timers-options-number"} {
			for _, l := range find(name).lines {
				Expect(l).NotTo(HavePrefix("receive "), "%s: the server's receive was called", name)
			}
		}
	})

	It("passes the argument on to the server's receive, on the engine and under lasgi-check's harness", func() {
		lint := lintSource()
		get := conformance.AppCasesOf("http")[:1]
		Expect(get[0].ID).To(Equal("app.http/get"))
		Expect(get[0].DisconnectAfter).To(Equal(-1), "the client stays")

		wrapped := withLint(lint, []byte(lookApp))
		opts := gopherlua.Options{Workers: 1, BusyTimeout: 10 * time.Second, Async: true}
		ac := &conformance.AppChecker{Timeout: 3 * time.Second, Load: func() (bridge.Engine, error) {
			return gopherlua.Load("look.lua", wrapped, opts)
		}}
		defer ac.Close()
		for _, r := range ac.RunAll(context.Background(), get, nil) {
			Expect(r.Status).To(Equal(conformance.Passed), "on the engine:\n%s", r.Message)
		}

		path := filepath.Join(GinkgoT().TempDir(), "look.lua")
		Expect(os.WriteFile(path, []byte(lookApp), 0o644)).To(Succeed())
		for _, interp := range externalInterpreters {
			k := &conformance.InterpreterChecker{Interpreter: interpreterPaths[interp], Lint: []byte(lint), Timeout: 3 * time.Second}
			results, err := k.RunAll(context.Background(), path, get)
			Expect(err).NotTo(HaveOccurred())
			for _, r := range results {
				Expect(r.Status).To(Equal(conformance.Passed), "under %s:\n%s", interp, r.Message)
			}
		}
	})
})
