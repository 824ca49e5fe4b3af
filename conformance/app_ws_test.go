package conformance_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/conformance"
	"github.com/lasgi/lasgi/reference/app"
	"github.com/lasgi/lasgi/reference/server/bridge"
	"github.com/lasgi/lasgi/reference/server/gopherlua"
)

// playWS plays the websocket app cases against src on the embedded engine.
func playWS(src string, timeout time.Duration) []conformance.Result {
	GinkgoHelper()
	opts := gopherlua.Options{Workers: 1, BusyTimeout: 2 * timeout, Async: true}
	checker := &conformance.AppChecker{Timeout: timeout, Load: func() (bridge.Engine, error) {
		return gopherlua.Load("ws.lua", []byte(src), opts)
	}}
	defer checker.Close()
	return checker.RunAll(context.Background(), conformance.AppCasesOf("websocket"), nil)
}

// leftFirst says the client of the case goes away before the app accepts.
func leftFirst(id string) bool {
	return id == "app.websocket.close/before-accept" || id == "app.websocket.close/transport-ends-before-accept"
}

const wsAccepting = `return function(scope, receive, send)
  if scope.type ~= "websocket" then error("websocket only", 0) end
  local ev = receive()
  if ev.type ~= "websocket.connect" then return end
  %s
end`

var _ = Describe("lasgi-check app's websocket cases", func() {
	It("keeps the http cases as they were", func() {
		var ids []string
		for _, c := range conformance.AppCasesOf("http") {
			ids = append(ids, c.ID)
			Expect(c.WS).To(BeNil(), c.ID)
		}
		want := []string{"app.http/get", "app.http/head", "app.http/options-asterisk", "app.http/http-1.0", "app.http/path-and-query",
			"app.http/post-one-piece", "app.http/post-many-pieces", "app.http/post-empty-pieces", "app.http/post-binary", "app.http/post-1-mib",
			"app.http/no-trailers-extension", "app.disconnect/before-the-body", "app.disconnect/in-the-middle-of-the-body",
			"app.disconnect/after-the-body", "app.scope/unknown-type", "app.scope/unknown-major-version"}
		Expect(cmp.Diff(want, ids)).To(BeEmpty())
	})

	It("has cases for messages of each kind, 1 MiB ones, each client close and the transport ending", func() {
		cases := conformance.AppCasesOf("websocket")
		Expect(len(cases)).To(BeNumerically(">=", 12))
		var sawBig, saw1006, sawEager bool
		codes := map[int]bool{}
		for _, c := range cases {
			Expect(c.Scope.Type).To(Equal("websocket"), c.ID)
			Expect(c.WS).NotTo(BeNil(), c.ID)
			last := c.WS.Actions[len(c.WS.Actions)-1]
			Expect(last.Close || last.Gone).To(BeTrue(), "%s ends with the client's end", c.ID)
			for _, a := range c.WS.Actions {
				sawBig = sawBig || len(a.Message) >= 1<<20
				saw1006 = saw1006 || a.Gone
				if a.Close {
					codes[a.Code] = true
				}
			}
			sawEager = sawEager || c.WS.Eager
		}
		Expect(sawBig && saw1006 && sawEager).To(BeTrue())
		Expect(codes).To(HaveKey(1000))
		Expect(codes).To(HaveKey(1001))
		Expect(codes).To(HaveKey(4000))
	})

	It("answers an app's close as a client does: the app that closes and then waits for websocket.disconnect passes, on the embedded engine and under lua5.4", func() {
		src := fmt.Sprintf(wsAccepting, `send({type = "websocket.accept"})
  send({type = "websocket.close", code = 4001})
  local ev = receive()
  assert(ev.type == "websocket.disconnect" and ev.code == 4001, ev.type .. " " .. tostring(ev.code))
  ev = receive()
  assert(ev.type == "websocket.disconnect" and ev.code == 4001, "the same disconnect again")`)
		for _, r := range playWS(src, 2*time.Second) {
			Expect(r.Status).To(Equal(conformance.Passed), "%s: %s", r.Case.ID, r.Message)
		}
		lua54, err := exec.LookPath("lua5.4")
		Expect(err).NotTo(HaveOccurred())
		path := filepath.Join(GinkgoT().TempDir(), "closewait.lua")
		Expect(os.WriteFile(path, []byte(src), 0o644)).To(Succeed())
		lint, err := app.Source("lint.lua")
		Expect(err).NotTo(HaveOccurred())
		k := &conformance.InterpreterChecker{Interpreter: lua54, Lint: lint, Timeout: 2 * time.Second}
		results, err := k.RunAll(context.Background(), path, conformance.AppCasesOf("websocket"))
		Expect(err).NotTo(HaveOccurred())
		for _, r := range results {
			Expect(r.Status).To(Equal(conformance.Passed), "lua5.4 %s: %s", r.Case.ID, r.Message)
		}
	})

	It("passes an http-only app that raises for websocket scopes, keeping its error as the message", func() {
		for _, r := range playWS(`return function(scope) error("http only", 0) end`, 2*time.Second) {
			Expect(r.Status).To(Equal(conformance.Passed), r.Case.ID)
			Expect(r.Message).To(ContainSubstring("http only"), r.Case.ID)
		}
	})

	DescribeTable("fails an app that breaks a websocket rule, naming it",
		func(body, rule string) {
			first := map[string]bool{}
			for _, c := range conformance.AppCasesOf("websocket") {
				a := c.WS.Actions[0]
				first[c.ID] = a.Close || a.Gone
			}
			for _, r := range playWS(fmt.Sprintf(wsAccepting, body), 2*time.Second) {
				if leftFirst(r.Case.ID) {
					continue // the disconnected error comes first there
				}
				if first[r.Case.ID] && r.Status == conformance.Passed {
					// The client's end follows the accept at once: the app's next
					// send may meet the disconnected error before its checks.
					continue
				}
				Expect(r.Status).To(Equal(conformance.Failed), "%s:\n%s", r.Case.ID, r.Message)
				Expect(r.Broken).To(Equal([]string{rule}), "%s:\n%s", r.Case.ID, r.Message)
			}
		},
		Entry("send before accept", `send{type = "websocket.send", text = "x"}`, "websocket.send.after-accept"),
		Entry("accept twice", `send{type = "websocket.accept"} send{type = "websocket.accept"}`, "websocket.accept.once"),
		Entry("close code 1005", `send{type = "websocket.accept"} send{type = "websocket.close", code = 1005}`, "websocket.close.code"),
	)

	It("fails, naming no rule, an app that does not return after websocket.disconnect", func() {
		src := fmt.Sprintf(wsAccepting, `send{type = "websocket.accept"}
  while receive().type ~= "websocket.disconnect" do end
  local t = os.clock()
  while os.clock() - t < 2 do end`)
		for _, r := range playWS(src, 300*time.Millisecond) {
			if leftFirst(r.Case.ID) {
				continue // its accept raises the disconnected error
			}
			Expect(r.Status).To(Equal(conformance.Failed), r.Case.ID)
			Expect(r.Broken).To(BeEmpty(), "%s: no app-side rule covers it:\n%s", r.Case.ID, r.Message)
			Expect(r.Message).To(ContainSubstring("did not return within 300ms"), r.Case.ID)
		}
	})

	It("passes an app that gets websocket.disconnect and returns, returns while open, or returns without answering", func() {
		for _, body := range []string{
			`do return end`, // the server answers 500 (websocket.error.before-accept); the lint passes it too
			`send{type = "websocket.accept"} repeat local ev = receive() until ev.type == "websocket.disconnect"`,
			`send{type = "websocket.accept", subprotocol = scope.subprotocols[1]} send{type = "websocket.send", bytes = "hi"}`,
		} {
			for _, r := range playWS(fmt.Sprintf(wsAccepting, body), 2*time.Second) {
				Expect(r.Status).To(Equal(conformance.Passed), "%s:\n%s", r.Case.ID, r.Message)
			}
		}
	})
})
