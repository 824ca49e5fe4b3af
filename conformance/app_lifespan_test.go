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
	"github.com/lasgi/lasgi/reference/server/bridge"
	"github.com/lasgi/lasgi/reference/server/gopherlua"
)

// lifespanCheckers are where the lifespan cases are played: the embedded
// VM, and the harness under each real interpreter.
var lifespanCheckers = []string{"go", "lua5.1", "lua5.4", "luajit"}

// playLifespan plays the lifespan app cases against src on checker and
// returns each case's verdict: "passed", or the status and the rules broken.
func playLifespan(checker, src string, timeout time.Duration) map[string]string {
	GinkgoHelper()
	cases := conformance.AppCasesOf("lifespan")
	var results []conformance.Result
	if checker == "go" {
		opts := gopherlua.Options{Workers: 1, BusyTimeout: 2 * timeout, Async: true}
		ac := &conformance.AppChecker{Timeout: timeout, Load: func() (bridge.Engine, error) {
			return gopherlua.Load("lifespan_app.lua", []byte(src), opts)
		}}
		defer ac.Close()
		results = ac.RunAll(context.Background(), cases, nil)
	} else {
		path := filepath.Join(GinkgoT().TempDir(), "lifespan_app.lua")
		Expect(os.WriteFile(path, []byte(src), 0o644)).To(Succeed())
		lint, err := app.Source("lint.lua")
		Expect(err).NotTo(HaveOccurred())
		k := &conformance.InterpreterChecker{Interpreter: checker, Lint: lint, Timeout: timeout}
		results, err = k.RunAll(context.Background(), path, cases)
		Expect(err).NotTo(HaveOccurred())
	}
	Expect(results).To(HaveLen(len(cases)))
	out := map[string]string{}
	for _, r := range results {
		v := string(r.Status)
		if len(r.Broken) > 0 {
			v += " " + strings.Join(r.Broken, ",")
		}
		out[r.Case.ID] = v
		GinkgoWriter.Printf("%s %s: %s\n%s\n", checker, r.Case.ID, v, r.Message)
	}
	return out
}

// bothCases gives every lifespan case the same verdict.
func bothCases(v string) map[string]string {
	return map[string]string{"app.lifespan/startup-and-shutdown": v, "app.lifespan/state-in-http": v}
}

// lifespanApp is an app whose lifespan half is body and whose http half
// answers 200.
const lifespanApp = `return function(scope, receive, send)
  if scope.type == "http" then
    send({type = "http.response.start", status = 200})
    send({type = "http.response.body", body = "ok"})
    return
  end
  if scope.type ~= "lifespan" then error("http and lifespan only", 0) end
  %s
end`

func lifespanBody(body string) string { return strings.Replace(lifespanApp, "%s", body, 1) }

var _ = Describe("lasgi-check app's lifespan cases", func() {
	It("are a startup and a shutdown, alone and with a request in between", func() {
		var ids []string
		for _, c := range conformance.AppCasesOf("lifespan") {
			ids = append(ids, c.ID)
			Expect(c.Scope.Type).To(Equal("lifespan"), c.ID)
			Expect(c.Lifespan).NotTo(BeNil(), c.ID)
		}
		Expect(cmp.Diff([]string{"app.lifespan/startup-and-shutdown", "app.lifespan/state-in-http"}, ids)).To(BeEmpty())
	})

	DescribeTable("judge an app the same on the embedded VM and under lua5.1, lua5.4 and luajit",
		func(src string, want map[string]string) {
			for _, checker := range lifespanCheckers {
				Expect(cmp.Diff(want, playLifespan(checker, src, 2*time.Second))).To(BeEmpty(), checker)
			}
		},
		Entry("startup then shutdown, complete and complete", lifespanBody(`
  assert(receive().type == "lifespan.startup")
  send({type = "lifespan.startup.complete"})
  assert(receive().type == "lifespan.shutdown")
  send({type = "lifespan.shutdown.complete"})`), bothCases("passed")),
		Entry("startup.failed with a message: the server stops, the app passes", lifespanBody(`
  receive()
  send({type = "lifespan.startup.failed", message = "no database"})`), bothCases("passed")),
		Entry("shutdown.failed with a message", lifespanBody(`
  receive()
  send({type = "lifespan.startup.complete"})
  receive()
  send({type = "lifespan.shutdown.failed", message = "the pool would not close"})`), bothCases("passed")),
		Entry("an app without lifespan that raises for the scope type (core.app.scope-type)",
			`return function(scope, receive, send) error("http only", 0) end`, bothCases("passed")),
		Entry("an app without lifespan that returns", lifespanBody(`do return end`), bothCases("passed")),
		Entry("complete, then returning before lifespan.shutdown", lifespanBody(`
  receive()
  send({type = "lifespan.startup.complete"})`), bothCases("passed")),
		Entry("startup.failed with a number message", lifespanBody(`
  receive()
  send({type = "lifespan.startup.failed", message = 42})`), bothCases("failed lifespan.startup.message-type")),
		Entry("shutdown.failed with a table message", lifespanBody(`
  receive()
  send({type = "lifespan.startup.complete"})
  receive()
  send({type = "lifespan.shutdown.failed", message = {}})`), bothCases("failed lifespan.shutdown.message-type")),
		Entry("returning without replying to lifespan.shutdown", lifespanBody(`
  receive()
  send({type = "lifespan.startup.complete"})
  receive()`), bothCases("failed lifespan.shutdown.reply")),
		Entry("an http event in a lifespan scope", lifespanBody(`
  receive()
  send({type = "http.response.start", status = 200})`), bothCases("failed core.send.type")),
	)

	It("lets the app run on after its startup reply to its next receive() before the request comes, as the harness does", func() {
		// A rule broken a little after the reply ends the call before any
		// request: a request played meanwhile would add its own rule (a
		// string status) on the embedded VM only.
		src := `return function(scope, receive, send)
  if scope.type == "http" then
    send({type = "http.response.start", status = "200"})
    return
  end
  receive()
  send({type = "lifespan.startup.complete"})
  local t = os.clock()
  while os.clock() - t < 0.1 do end
  send({type = "lifespan.startup.complete"})
end`
		for _, checker := range lifespanCheckers {
			Expect(cmp.Diff(bothCases("failed lifespan.startup.order"), playLifespan(checker, src, 2*time.Second))).To(BeEmpty(), checker)
		}
	})

	It("hands the request a shallow copy of the lifespan state, in the same Lua state", func() {
		// The request changes its own copy's key and the shared pool table;
		// the shutdown sees only the latter. A server that gave no state, the
		// table itself or a deep copy would fail the case.
		src := `return function(scope, receive, send)
  if scope.type == "http" then
    assert(scope.state.x == 1, "x is " .. tostring(scope.state.x))
    scope.state.x = 2
    scope.state.pool.used = scope.state.pool.used + 1
    send({type = "http.response.start", status = 200})
    send({type = "http.response.body", body = "ok"})
    return
  end
  assert(receive().type == "lifespan.startup")
  scope.state.x, scope.state.pool = 1, {used = 0}
  send({type = "lifespan.startup.complete"})
  assert(receive().type == "lifespan.shutdown")
  assert(scope.state.x == 1, "the request changed the lifespan state's own x")
  send({type = "lifespan.shutdown.complete", message = "used " .. scope.state.pool.used})
  if scope.state.pool.used ~= 1 and scope.state.x then error("pool used " .. scope.state.pool.used) end
end`
		for _, checker := range lifespanCheckers {
			got := playLifespan(checker, src, 2*time.Second)
			Expect(got).To(HaveKeyWithValue("app.lifespan/state-in-http", "passed"), checker)
		}
	})

	It("catches every lifespan seeded fault with its rule on the embedded VM and under lua5.1, lua5.4 and luajit", func() {
		files, err := filepath.Glob("../reference/app/testdata/faults/lifespan-*.lua")
		Expect(err).NotTo(HaveOccurred())
		Expect(len(files)).To(BeNumerically(">=", 8))
		var missed []string
		for _, f := range files {
			src, err := os.ReadFile(f)
			Expect(err).NotTo(HaveOccurred())
			first, _, _ := strings.Cut(string(src), "\n")
			rule, ok := strings.CutPrefix(first, "-- fault: ")
			Expect(ok).To(BeTrue(), f)
			var onGo map[string]string
			for _, checker := range lifespanCheckers {
				// Some case fails naming the rule, none names another, and every
				// checker gives each case the embedded VM's verdict.
				caught := false
				verdicts := playLifespan(checker, string(src), time.Second)
				if checker == "go" {
					onGo = verdicts
				} else if d := cmp.Diff(onGo, verdicts); d != "" {
					missed = append(missed, fmt.Sprintf("%s: the embedded VM (-) and %s (+) disagree:\n%s", filepath.Base(f), checker, d))
				}
				for id, v := range verdicts {
					switch {
					case v == "failed "+rule:
						caught = true
					case strings.HasPrefix(v, "failed lifespan.") || strings.HasPrefix(v, "failed core."):
						missed = append(missed, fmt.Sprintf("%s on %s: %s: %s", filepath.Base(f), checker, id, v))
					}
				}
				if !caught {
					missed = append(missed, fmt.Sprintf("%s on %s: no case failed with %s", filepath.Base(f), checker, rule))
				}
			}
		}
		Expect(missed).To(BeEmpty())
	})

	It("passes reference/app/lifespan.lua, whose request answers from the pool its startup put in the state", func() {
		src, err := app.Source("lifespan.lua")
		Expect(err).NotTo(HaveOccurred())
		for _, checker := range lifespanCheckers {
			Expect(cmp.Diff(bothCases("passed"), playLifespan(checker, string(src), 2*time.Second))).To(BeEmpty(), checker)
		}
		// Without the pool its request answers "no pool" and would pass
		// anyway: changed to raise there instead, it still passes, so the
		// request did get the copy of the state.
		strict := strings.Replace(string(src), `body = "no pool: the server ran no lifespan startup\n"`, `error("no pool", 0)`, 1)
		Expect(strict).NotTo(Equal(string(src)))
		for _, checker := range lifespanCheckers {
			Expect(playLifespan(checker, strict, 2*time.Second)).To(HaveKeyWithValue("app.lifespan/state-in-http", "passed"), checker)
		}
	})
})
