package conformance_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/conformance"
	"github.com/lasgi/lasgi/reference/app"
	"github.com/lasgi/lasgi/spec/event"
)

// Apps that wait with lasgi.timers (spec/timers.md) against lasgi-check
// app's checkers: the embedded engine, whose timeouts are real, and the
// harness under each interpreter, whose time is virtual. The two must end
// each case the same way: the client leaves once the app, the body all
// taken, waits for more.

// timersInterpreters are the interpreters the harness runs under.
var timersInterpreters = []string{"lua5.1", "lua5.4", "luajit"}

// identityLint stands in for the lint, to see what the harness itself checks.
var identityLint = []byte("return function(app) return app end\n")

// runHarness plays cases against src under interp, through the harness and
// lint (the lint module's source).
func runHarness(interp string, lint []byte, src string, timeout time.Duration, cases []*conformance.AppCase) []conformance.Result {
	GinkgoHelper()
	path := filepath.Join(GinkgoT().TempDir(), "timers.lua")
	Expect(os.WriteFile(path, []byte(src), 0o644)).To(Succeed())
	k := &conformance.InterpreterChecker{Interpreter: interp, Lint: lint, Timeout: timeout}
	results, err := k.RunAll(context.Background(), path, cases)
	Expect(err).NotTo(HaveOccurred())
	return results
}

// verdicts are the results as "<case>: <status> [<rules broken>]".
func verdicts(results []conformance.Result) []string {
	var out []string
	for _, r := range results {
		out = append(out, fmt.Sprintf("%s: %s %v", r.Case.ID, r.Status, r.Broken))
	}
	return out
}

// messages are the messages of the results that did not pass, for a failure's text.
func messages(results []conformance.Result) string {
	var out []string
	for _, r := range results {
		if r.Status != conformance.Passed {
			out = append(out, r.Case.ID+": "+r.Message)
		}
	}
	return strings.Join(out, "\n")
}

const (
	// sseClock is spec/timers.md's app: a tick a second until the client leaves.
	sseClock = `return function(scope, receive, send)
  if scope.type ~= "http" or scope.lasgi.version:sub(1, 2) ~= "1." then error("http 1.x only", 0) end
  if not (scope.extensions and scope.extensions["lasgi.timers"]) then
    error("this app needs a server offering lasgi.timers", 0)
  end
  repeat local ev = receive() until ev.type ~= "http.request" or not ev.more_body
  send({type = "http.response.start", status = 200, headers = {{"content-type", "text/event-stream"}}})
  while true do
    local event = receive({timeout = 1})
    if event.type == "http.disconnect" then
      return
    elseif event.type == "lasgi.timeout" then
      send({type = "http.response.body", body = "data: tick\n\n", more_body = true})
    end
  end
end`
	// longPoll reads the body through waits with a timeout (the timeouts
	// must take no piece: it counts the bytes against content-length), then
	// waits up to 30 seconds for news that cannot come, and answers 204.
	longPoll = `return function(scope, receive, send)
  if scope.type ~= "http" or scope.lasgi.version:sub(1, 2) ~= "1." then error("http 1.x only", 0) end
  local n, want = 0, 0
  for _, h in ipairs(scope.headers) do
    if h[1] == "content-length" then want = tonumber(h[2]) end
  end
  while true do
    local ev = receive({timeout = 0.5})
    if ev.type == "http.disconnect" then return end
    if ev.type == "http.request" then
      n = n + #ev.body
      if not ev.more_body then break end
    end
  end
  if n ~= want then error("got " .. n .. " body bytes of " .. want, 0) end
  local ev = receive({timeout = 30})
  if ev.type == "http.disconnect" then return end
  send({type = "http.response.start", status = 204})
  send({type = "http.response.body"})
end`
	// lookAfterResponse responds, then looks with a timeout of 0 until
	// http.disconnect comes: due at once, since the response is complete.
	lookAfterResponse = `return function(scope, receive, send)
  if scope.type ~= "http" or scope.lasgi.version:sub(1, 2) ~= "1." then error("http 1.x only", 0) end
  repeat local ev = receive() until ev.type ~= "http.request" or not ev.more_body
  send({type = "http.response.start", status = 200})
  send({type = "http.response.body", body = "ok"})
  for i = 1, 100000 do
    if receive({timeout = 0}).type == "http.disconnect" then return end
  end
  error("receive({timeout = 0}) never returned http.disconnect after the response", 0)
end`
	// lookAfterBody looks with a timeout of 0 once the body is over: the
	// client that stays has nothing more to send, so lasgi.timeout, and the
	// app responds; http.disconnect comes only where the client left, and
	// the app then spins on receive(), a slip the checkers name.
	lookAfterBody = `return function(scope, receive, send)
  if scope.type ~= "http" or scope.lasgi.version:sub(1, 2) ~= "1." then error("http 1.x only", 0) end
  repeat local ev = receive() until ev.type ~= "http.request" or not ev.more_body
  if receive({timeout = 0}).type == "http.disconnect" then
    while true do receive() end
  end
  send({type = "http.response.start", status = 200})
  send({type = "http.response.body", body = "ok"})
end`
	// wsClock waits up to three times 10 ms before it accepts (each wait must
	// end in lasgi.timeout, or in the client's going), then ticks on every
	// timeout and echoes every message until the client leaves.
	wsClock = `return function(scope, receive, send)
  if scope.type ~= "websocket" then error("websocket only", 0) end
  assert(receive().type == "websocket.connect")
  for i = 1, 3 do
    local ev = receive({timeout = 0.01})
    if ev.type == "websocket.disconnect" then return end
    if ev.type ~= "lasgi.timeout" then error("before the accept, receive({timeout}) returned " .. ev.type, 0) end
  end
  send({type = "websocket.accept", subprotocol = scope.subprotocols[1]})
  while true do
    local ev = receive({timeout = 0.05})
    if ev.type == "websocket.disconnect" then
      return
    elseif ev.type == "lasgi.timeout" then
      send({type = "websocket.send", text = "tick"})
    elseif ev.text then
      send({type = "websocket.send", text = ev.text})
    else
      send({type = "websocket.send", bytes = ev.bytes})
    end
  end
end`
	// wsSlowAccept waits three times 150 ms before it accepts: longer than a
	// step of 300 ms, on the engine in real time as in the harness's virtual
	// time, so the client that waits for the answer gives up.
	wsSlowAccept = `return function(scope, receive, send)
  if scope.type ~= "websocket" then error("websocket only", 0) end
  assert(receive().type == "websocket.connect")
  for i = 1, 3 do
    if receive({timeout = 0.15}).type == "websocket.disconnect" then return end
  end
  send({type = "websocket.accept"})
  while receive().type ~= "websocket.disconnect" do end
end`
	// wsNeverAnswers waits a second at a time for ever instead of answering
	// the handshake: a hang, named by no rule.
	wsNeverAnswers = `return function(scope, receive, send)
  if scope.type ~= "websocket" then error("websocket only", 0) end
  receive()
  while true do
    if receive({timeout = 1}).type == "websocket.disconnect" then return end
  end
end`
)

var _ = Describe("lasgi-check app with lasgi.timers", func() {
	It("offers lasgi.timers in the scopes of the http and websocket cases, and not in lifespan's", func() {
		expectOfferedButInLifespan(event.ExtensionTimers)
	})

	lint, err := app.Source("lint.lua")
	if err != nil {
		panic(err)
	}

	// Each app, in the cases given, passes on the engine and under every
	// interpreter, no case waiting out its step timeout; or, with want,
	// ends each case c as want(c) says. The verdicts are the same everywhere.
	DescribeTable("ends every case the same way on the engine and under the harness",
		func(src string, cases func() []*conformance.AppCase, timeout time.Duration, want func(*conformance.AppCase) string) {
			played := cases()
			start := time.Now()
			embedded := runEmbedded(src, timeout, played)
			elapsed := time.Since(start)
			if want == nil {
				for _, r := range embedded {
					Expect(r.Status).To(Equal(conformance.Passed), "%s on the engine:\n%s", r.Case.ID, r.Message)
				}
				Expect(elapsed).To(BeNumerically("<", timeout), "no case waited out its step timeout")
			} else {
				var wanted []string
				for _, c := range played {
					wanted = append(wanted, c.ID+": "+want(c))
				}
				Expect(cmp.Diff(wanted, verdicts(embedded))).To(BeEmpty(), "on the engine:\n%s", messages(embedded))
			}
			for _, interp := range timersInterpreters {
				start := time.Now()
				got := runHarness(interp, lint, src, timeout, played)
				elapsed := time.Since(start)
				Expect(cmp.Diff(verdicts(embedded), verdicts(got))).To(BeEmpty(), "the engine (-) and %s (+):\n%s", interp, messages(got))
				if want == nil {
					Expect(elapsed).To(BeNumerically("<", timeout), "no case waited out its step timeout under %s", interp)
				}
			}
		},
		Entry("the SSE clock of spec/timers.md", sseClock, casesOf("http", "websocket", "lifespan"), 2*time.Second, nil),
		Entry("a long poll, reading its body through waits", longPoll, casesOf("http"), 2*time.Second, nil),
		Entry("looks with a timeout of 0 after the response", lookAfterResponse, casesOf("http"), 2*time.Second, nil),
		// A look is no wait: the client stays where the case has it stay, and
		// has left where the case has it leave (the app then spins). Not
		// app.disconnect/after-the-body: the engine's client leaves once the
		// app has taken the last piece, the harness's at the app's next
		// receive(), so a look at once after the last piece races the
		// engine's client there.
		Entry("looks with a timeout of 0 after the body", lookAfterBody, httpCasesNotLeavingAtTheEnd, 2*time.Second,
			func(c *conformance.AppCase) string {
				if c.DisconnectAfter >= 0 {
					return "warning [http.disconnect.app-return]"
				}
				return "passed []"
			}),
		Entry("a WebSocket clock that waits before it accepts", wsClock, casesOf("websocket"), 2*time.Second, nil),
		// The client that waits for the answer gives up, the one that left
		// first is told at once.
		Entry("a WebSocket app that waits longer than a step before it accepts", wsSlowAccept, wsHangCases, 300*time.Millisecond, wsHangVerdict),
		Entry("a WebSocket app that waits for ever instead of answering", wsNeverAnswers, wsHangCases, 300*time.Millisecond, wsHangVerdict),
	)

	It("raises, from the harness as from the engine, the rule a wrong argument of receive() breaks", func() {
		cases := pickCases("app.http/get", "app.lifespan/startup-and-shutdown")
		for _, tc := range []struct{ arg, lifespanArg, rule string }{
			{`{timeout = -1}`, `{timeout = 1}`, event.RuleTimersOptions},
			{`"1"`, `{}`, event.RuleTimersOptions},
			{`1`, `"1"`, event.RuleTimersOptions},
			{`true`, `{timeout = 1}`, event.RuleTimersOptions},
			{`{timeout = "1"}`, `{timeout = 1}`, event.RuleTimersOptions},
			{`{timeout = false}`, `{timeout = 1}`, event.RuleTimersOptions},
			{`{timeout = 0/0}`, `{timeout = 1}`, event.RuleTimersOptions},
			{`{timeout = 1/0}`, `{timeout = 1}`, event.RuleTimersOptions},
			{`{timeout = -1/0}`, `{timeout = 1}`, event.RuleTimersOptions},
			{`{}`, `{timeout = 0}`, ""},
			{`{timeout = 0}`, `{}`, ""},
			{`nil`, `nil`, ""},
		} {
			src := fmt.Sprintf(`return function(scope, receive, send)
  if scope.type == "lifespan" then
    receive(%s)
    send({type = "lifespan.startup.complete"})
    receive()
    send({type = "lifespan.shutdown.complete"})
    return
  end
  receive(%s)
  send({type = "http.response.start", status = 200})
  send({type = "http.response.body", body = "ok"})
end`, tc.lifespanArg, tc.arg)
			want := []string{"app.http/get: passed []", "app.lifespan/startup-and-shutdown: passed []"}
			if tc.rule != "" {
				want[0] = fmt.Sprintf("app.http/get: failed [%s]", tc.rule)
			}
			if tc.lifespanArg != "nil" {
				want[1] = fmt.Sprintf("app.lifespan/startup-and-shutdown: failed [%s]", event.RuleTimersOfferedOnly)
			}
			what := fmt.Sprintf("receive(%s) in http, receive(%s) in lifespan", tc.arg, tc.lifespanArg)
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
})

// expectOfferedButInLifespan requires the scope of every app case to offer
// the extension but a lifespan case's (the unknown scope types are http
// scopes with another type).
func expectOfferedButInLifespan(extension string) {
	GinkgoHelper()
	var wrong []string
	check := func(c *conformance.AppCase) {
		if want := c.Scope.Type != event.ScopeLifespan; c.Scope.Offers(extension) != want {
			wrong = append(wrong, fmt.Sprintf("%s (%s): offers %s %v", c.ID, c.Scope.Type, extension, !want))
		}
	}
	for _, c := range conformance.AppCases() {
		check(c)
		if c.Lifespan != nil && c.Lifespan.HTTP != nil {
			check(c.Lifespan.HTTP)
		}
	}
	Expect(wrong).To(BeEmpty())
}

// casesOf returns the app cases of the protocols.
func casesOf(protocols ...string) func() []*conformance.AppCase {
	return func() []*conformance.AppCase {
		var out []*conformance.AppCase
		for _, p := range protocols {
			out = append(out, conformance.AppCasesOf(p)...)
		}
		return out
	}
}

// httpCasesNotLeavingAtTheEnd are the http cases but those whose client
// leaves right after the body.
func httpCasesNotLeavingAtTheEnd() []*conformance.AppCase {
	var out []*conformance.AppCase
	for _, c := range conformance.AppCasesOf("http") {
		if c.DisconnectAfter < len(c.Body) {
			out = append(out, c)
		}
	}
	return out
}

// wsHangCases are the WebSocket cases of an app that hangs before it
// answers: one whose client waits for the answer, one whose client left
// before it.
func wsHangCases() []*conformance.AppCase {
	return pickCases("app.websocket/text-messages", "app.websocket.close/before-accept")
}

// wsHangVerdict: the client that waits gives up, and the case fails naming
// no rule; the app hears at once of the client that left, and returns.
func wsHangVerdict(c *conformance.AppCase) string {
	if c.WS.Eager {
		return "passed []"
	}
	return "failed []"
}
