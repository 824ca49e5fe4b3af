//go:build lua54 || luajit

package clua

import (
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/reference/server/bridge"
	"github.com/lasgi/lasgi/reference/server/engine"
	"github.com/lasgi/lasgi/spec/event"
)

// The bodies a call lends (loans.go) against the contract of bridge's
// lend.go, driven as the HTTP side drives a call: the bytes stay intact
// while the collector runs and other calls churn, until the HTTP side has
// written them or released the call, and then their memory goes back.
const lendingApp = `
local function respond(send, body)
  send({type = "http.response.start", status = 200, headers = {}})
  send({type = "http.response.body", body = body})
end
return function(scope, receive, send)
  if scope.path == "/lend" then
    send({type = "http.response.start", status = 200, headers = {}})
    for i = 1, 8 do
      -- a fresh string each time, unreachable from Lua once sent
      send({type = "http.response.body", body = string.rep(string.char(64 + i), 8192) .. i, more_body = true})
      collectgarbage("collect")
    end
    send({type = "http.response.body", body = ""})
  elseif scope.path == "/churn" then
    local t = {}
    for i = 1, 400 do t[i % 16 + 1] = string.rep(string.char(48 + i % 10), 8200) end
    t = nil
    collectgarbage("collect")
    respond(send, "churned")
  elseif scope.path == "/collect" then
    collectgarbage("collect")
    collectgarbage("collect")
    respond(send, "collected")
  else
    respond(send, "ok")
  end
end`

// lentBodies are the bodies /lend sends, in order.
func lentBodies() []string {
	var want []string
	for i := 1; i <= 8; i++ {
		want = append(want, strings.Repeat(string(rune(64+i)), 8192)+string(rune('0'+i)))
	}
	return want
}

// changed names the bodies of got that are not /lend's, briefly: a body
// whose memory was freed and reused reads as other bytes.
func changed(got []string) []string {
	want := lentBodies()
	if len(got) != len(want) {
		return []string{fmt.Sprintf("%d bodies, want %d", len(got), len(want))}
	}
	var out []string
	for i := range want {
		if got[i] != want[i] {
			out = append(out, fmt.Sprintf("body %d: %d bytes starting %q, want %d starting %q", i+1, len(got[i]), got[i][:min(8, len(got[i]))], len(want[i]), want[i][:8]))
		}
	}
	return out
}

var _ = Describe("a "+Name+" call that lends its bodies", func() {
	var e *Engine

	BeforeEach(func() {
		var err error
		e, err = Load("lend.lua", []byte(lendingApp), engine.Options{Workers: 1})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { e.Close() })
	})

	// run makes a finished call of path and returns it with what it sent.
	run := func(path string, lend bool) (*bridge.Call, []event.Event) {
		scope := &event.Scope{Type: event.ScopeHTTP, HTTPVersion: "1.1", Method: "GET", Scheme: "http", Path: path, RawPath: path}
		call := bridge.NewCall(scope, time.Now().Add(10*time.Second))
		call.Lend = lend
		call.Push(event.Event{Type: event.HTTPRequest})
		e.Start(call)
		st := call.State()
		Expect(st.Finished).To(BeTrue())
		Expect(st.Err).NotTo(HaveOccurred())
		return call, append([]event.Event(nil), call.Take()...)
	}
	bodies := func(evs []event.Event) []string {
		var out []string
		for _, ev := range evs {
			if ev.Type == event.HTTPResponseBody && ev.Body != "" {
				out = append(out, ev.Body)
			}
		}
		return out
	}
	w := func() *worker { return e.workers[0] }
	owedLoans := func() int {
		w().vm.Lock()
		defer w().vm.Unlock()
		n := 0
		for _, o := range w().owed {
			n += len(o.loans)
		}
		return n
	}
	// collected is the state's bytes after a full collection.
	collected := func() int {
		run("/collect", true)
		w().vm.Lock()
		defer w().vm.Unlock()
		return int(w().c.used)
	}

	It("keeps the bytes where they are until written, through collections and other calls, then frees them", func() {
		call, evs := run("/lend", true)
		got := bodies(evs)
		Expect(changed(got)).To(BeEmpty(), "the app collected garbage after each send")
		Expect(owedLoans()).To(Equal(8), "each body of 8 KiB is lent, not copied")
		held := collected()
		for range 5 {
			_, churn := run("/churn", true)
			Expect(bodies(churn)).To(Equal([]string{"churned"}))
			Expect(changed(got)).To(BeEmpty(), "a lent body changed before it was written")
		}
		total := 0
		for _, b := range got {
			total += len(b)
		}
		call.Written(total - len(got[7])) // all but the last
		run("/", true)                    // the worker's next turn pays back what was written
		Expect(owedLoans()).To(Equal(1))
		Expect(got[7] == lentBodies()[7]).To(BeTrue(), "the body not yet written changed")
		call.Written(len(got[7]))
		run("/", true)
		Expect(owedLoans()).To(BeZero())
		Expect(collected()).To(BeNumerically("<", held-8*8192), "the bodies' memory is freed once written")
	})

	It("returns every loan at Release, written or not", func() {
		call, _ := run("/lend", true)
		Expect(owedLoans()).To(Equal(8))
		call.Release()
		run("/", true)
		Expect(owedLoans()).To(BeZero())
	})

	It("copies the bodies of a call that does not lend", func() {
		_, evs := run("/lend", false)
		Expect(owedLoans()).To(BeZero())
		got := bodies(evs)
		run("/churn", false)
		Expect(changed(got)).To(BeEmpty())
	})

	It("does not close the state while a body is still lent: Close waits for the HTTP side, and says so past its grace", func() {
		call, _ := run("/lend", true)
		go func() {
			time.Sleep(100 * time.Millisecond)
			call.Release()
		}()
		Expect(e.Close()).To(Succeed())

		other, err := Load("lend.lua", []byte(lendingApp), engine.Options{Workers: 1})
		Expect(err).NotTo(HaveOccurred())
		e = other
		run("/lend", true) // never written nor released
		err = e.Close()
		Expect(err).To(MatchError(ContainSubstring("response bodies or WebSocket messages it lent still being written")))
		Expect(w().c).NotTo(BeNil(), "the state is left as it was")
	})
})
