package conformance_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/conformance"
	"github.com/lasgi/lasgi/reference/app"
	"github.com/lasgi/lasgi/reference/server/bridge"
	"github.com/lasgi/lasgi/reference/server/gopherlua"
)

// Hostile apps against lasgi-check app's two checkers: the embedded one
// (gopher-lua, in this process) and the harness under lua5.4.

// pickCases returns the app cases with these IDs.
func pickCases(ids ...string) []*conformance.AppCase {
	var out []*conformance.AppCase
	for _, c := range conformance.AppCases() {
		for _, id := range ids {
			if c.ID == id {
				out = append(out, c)
			}
		}
	}
	Expect(out).To(HaveLen(len(ids)))
	return out
}

// runEmbedded plays cases against src on the embedded VM.
func runEmbedded(src string, timeout time.Duration, cases []*conformance.AppCase) []conformance.Result {
	opts := gopherlua.Options{Workers: 1, BusyTimeout: 2 * timeout, Async: true, Sandbox: true, Output: GinkgoWriter}
	checker := &conformance.AppChecker{Timeout: timeout, Load: func() (bridge.Engine, error) {
		return gopherlua.Load("hostile.lua", []byte(src), opts)
	}}
	defer checker.Close()
	return checker.RunAll(context.Background(), cases, nil)
}

// runLua plays cases against src under lua5.4, through the harness and the lint.
func runLua(src string, timeout time.Duration, cases []*conformance.AppCase) []conformance.Result {
	path := filepath.Join(GinkgoT().TempDir(), "hostile.lua")
	Expect(os.WriteFile(path, []byte(src), 0o644)).To(Succeed())
	lint, err := app.Source("lint.lua")
	Expect(err).NotTo(HaveOccurred())
	k := &conformance.InterpreterChecker{Interpreter: "lua5.4", Lint: lint, Timeout: timeout, Sandbox: true}
	results, err := k.RunAll(context.Background(), path, cases)
	Expect(err).NotTo(HaveOccurred())
	return results
}

// peakHeap runs f and returns the largest heap it saw while f ran, sampled
// every 5 ms.
func peakHeap(f func()) uint64 {
	runtime.GC()
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > peak.Load() {
				peak.Store(ms.HeapAlloc)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	f()
	close(stop)
	<-done
	return peak.Load()
}

const (
	// Responds, then spins on receive() for ever.
	spinAfterResponse = `return function(scope, receive, send)
  if scope.type ~= "http" then error("http only", 0) end
  send{type = "http.response.start", status = 200}
  send{type = "http.response.body", body = "x"}
  while true do local e = receive() end
end`
	// Spins on receive() without ever responding (once the client left).
	spinWithoutResponse = `return function(scope, receive, send)
  if scope.type ~= "http" then error("http only", 0) end
  while true do receive() end
end`
	// Responds, then calls receive() twice more after http.disconnect: allowed.
	receiveTwiceMore = `return function(scope, receive, send)
  if scope.type ~= "http" or scope.lasgi.version:sub(1, 2) ~= "1." then error("http 1.x only", 0) end
  repeat local ev = receive() until ev.type ~= "http.request" or not ev.more_body
  send{type = "http.response.start", status = 200}
  send{type = "http.response.body", body = "x"}
  while receive().type ~= "http.disconnect" do end
  receive()
  receive()
end`
	hugeError = `return function(scope, receive, send)
  if scope.type ~= "http" then error("http only", 0) end
  error(string.rep("x", 50 * 2^20), 0)
end`
	endlessBody = `return function(scope, receive, send)
  if scope.type ~= "http" then error("http only", 0) end
  send{type = "http.response.start", status = 200}
  while true do send{type = "http.response.body", body = string.rep("x", 65536), more_body = true} end
end`
)

var _ = Describe("lasgi-check app against hostile apps", func() {
	for _, checker := range []string{"embedded", "lua5.4"} {
		run := runEmbedded
		if checker == "lua5.4" {
			run = runLua
		}

		It("ends a case early when the app spins on receive() after http.disconnect, naming http.disconnect.app-return ("+checker+")", func() {
			const timeout = 20 * time.Second // a case that waits it out fails the time bound below
			for src, ids := range map[string][]string{
				spinAfterResponse:   {"app.http/get", "app.disconnect/after-the-body"},
				spinWithoutResponse: {"app.disconnect/before-the-body", "app.disconnect/in-the-middle-of-the-body", "app.disconnect/after-the-body"},
			} {
				start := time.Now()
				results := run(src, timeout, pickCases(ids...))
				elapsed := time.Since(start)
				Expect(results).To(HaveLen(len(ids)))
				for _, r := range results {
					Expect(r.Status).To(Equal(conformance.Warning), "%s:\n%s", r.Case.ID, r.Message)
					Expect(r.Broken).To(Equal([]string{"http.disconnect.app-return"}), "%s:\n%s", r.Case.ID, r.Message)
					Expect(r.Message).To(ContainSubstring("times after http.disconnect without returning"), r.Case.ID)
				}
				Expect(elapsed).To(BeNumerically("<", timeout/2), "the cases ended early, not by their step timeout")
				AddReportEntry(checker+" spin", elapsed.String())
			}
		})

		It("passes an app that calls receive() a couple of times after http.disconnect ("+checker+")", func() {
			for _, r := range run(receiveTwiceMore, 5*time.Second, conformance.AppCasesOf("http")) {
				Expect(r.Status).To(Equal(conformance.Passed), "%s:\n%s", r.Case.ID, r.Message)
			}
		})

		It("keeps bounded memory and clipped messages against a 50 MB error and an endless body ("+checker+")", func() {
			const heapBound = 256 << 20
			var results []conformance.Result
			peak := peakHeap(func() { results = run(hugeError, 5*time.Second, conformance.AppCasesOf("http")) })
			AddReportEntry(checker+" peak heap, 50 MB error in every case", fmt.Sprintf("%d MiB", peak>>20))
			Expect(results).To(HaveLen(len(conformance.AppCasesOf("http"))))
			for _, r := range results {
				if r.Case.ID == "app.scope/unknown-type" || r.Case.ID == "app.scope/unknown-major-version" {
					continue // raising is right there
				}
				Expect(r.Status).To(Equal(conformance.Failed), r.Case.ID)
				Expect(len(r.Message)).To(BeNumerically("<", 8<<10), "%s: the message is clipped", r.Case.ID)
				Expect(r.Message).To(ContainSubstring("the app raised an error: xxxx"), r.Case.ID)
				Expect(r.Message).To(ContainSubstring("(52428800 bytes"), r.Case.ID)
			}
			Expect(peak).To(BeNumerically("<", uint64(heapBound)), "peak heap")

			cases := pickCases("app.http/get", "app.http/post-many-pieces", "app.disconnect/after-the-body")
			peak = peakHeap(func() { results = run(endlessBody, time.Second, cases) })
			AddReportEntry(checker+" peak heap, endless body", fmt.Sprintf("%d MiB", peak>>20))
			for _, r := range results {
				Expect(r.Status).To(Equal(conformance.Failed), r.Case.ID)
				Expect(r.Message).To(MatchRegexp(`did not (take|return).* within 1s`), r.Case.ID)
				Expect(len(r.Message)).To(BeNumerically("<", 8<<10), r.Case.ID)
			}
			Expect(peak).To(BeNumerically("<", uint64(heapBound)), "peak heap")
		})
	}

	It("says which results were lost when the harness's lines pass their bound, instead of blaming the interpreter", func() {
		path := filepath.Join(GinkgoT().TempDir(), "app.lua")
		Expect(os.WriteFile(path, []byte(receiveTwiceMore), 0o644)).To(Succeed())
		lint, err := app.Source("lint.lua")
		Expect(err).NotTo(HaveOccurred())
		k := &conformance.InterpreterChecker{Interpreter: "lua5.4", Lint: lint, Timeout: 5 * time.Second}
		conformance.SetMaxHarnessOutput(k, 512) // a few result lines
		results, err := k.RunAll(context.Background(), path, conformance.AppCasesOf("http"))
		Expect(err).NotTo(HaveOccurred())
		lost := 0
		for _, r := range results {
			if r.Status == conformance.Passed {
				continue
			}
			Expect(r.Message).To(Equal("the result of this case was lost: the harness wrote more than 512 bytes of result lines, and lasgi-check keeps no more"), r.Case.ID)
			lost++
		}
		Expect(lost).To(BeNumerically(">", 0))
		Expect(lost).To(BeNumerically("<", len(results)))
	})
})
