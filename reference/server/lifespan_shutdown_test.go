package server_test

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/reference/server"
	"github.com/lasgi/lasgi/reference/server/gopherlua"
	"github.com/lasgi/lasgi/reference/server/servertest"
)

// startLifespan serves src with opts, what the app prints going to the
// buffer returned; the test stops the server itself.
func startLifespan(src string, opts gopherlua.Options) (*servertest.Server, *servertest.SyncBuffer) {
	GinkgoHelper()
	out := &servertest.SyncBuffer{}
	opts.Output = out
	s, err := servertest.Start("app.lua", []byte(src), opts, server.Config{}, GinkgoWriter)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { _ = s.Stop() }) // a test may have stopped it already
	return s, out
}

// stopWithin stops s and returns its error, failing when that takes longer
// than limit.
func stopWithin(s *servertest.Server, limit time.Duration) error {
	GinkgoHelper()
	start := time.Now()
	err := s.Stop()
	Expect(time.Since(start)).To(BeNumerically("<", limit), "Stop took too long")
	return err
}

var _ = Describe("lifespan shutdown", func() {
	It("sends lifespan.shutdown once the request in flight has finished, and nothing after it runs again", func() {
		s, out := startLifespan(`
local inflight, ticks = 0, 0
return function(scope, receive, send)
  if scope.type == "lifespan" then
    receive()
    send({type = "lifespan.startup.complete"})
    local ev = receive()
    local seen = ticks
    for _ = 1, 12 do coroutine.yield() end -- the other calls had their turns
    print(ev.type .. " with " .. inflight .. " in flight; the looping call " .. (ticks == seen and "was cancelled" or "still runs"))
    send({type = "lifespan.shutdown.complete"})
    return
  end
  send({type = "http.response.start", status = 200})
  if scope.path == "/loop" then
    send({type = "http.response.body", body = "looping"})
    while true do ticks = ticks + 1; coroutine.yield() end
  end
  inflight = inflight + 1
  local body = ""
  repeat local ev = receive(); body = body .. ev.body until not ev.more_body
  inflight = inflight - 1
  print("request done: " .. body)
  send({type = "http.response.body", body = body})
end`, lifespanOpts(1))
		srv := &testServer{addr: s.Addr}
		Expect(srv.get("/loop").Body).To(Equal("looping"))
		c := srv.dial()
		_, err := io.WriteString(c, "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n01234")
		Expect(err).NotTo(HaveOccurred())
		time.Sleep(100 * time.Millisecond) // the app waits for the rest of the body
		stopped := make(chan error, 1)
		go func() { stopped <- s.Stop() }()
		time.Sleep(300 * time.Millisecond)
		Expect(out.String()).To(BeEmpty(), "no shutdown while the request is in flight")
		_, err = io.WriteString(c, "56789")
		Expect(err).NotTo(HaveOccurred())
		Expect(readResponse(bufio.NewReader(c), false).Body).To(Equal("0123456789"))
		Eventually(stopped, 5*time.Second).Should(Receive(BeNil()))
		Expect(out.String()).To(Equal("request done: 0123456789\nlifespan.shutdown with 0 in flight; the looping call was cancelled\n"))
	})

	DescribeTable("says why a shutdown failed, and stops all the same",
		func(shutdown, want string) {
			opts := lifespanOpts(2)
			opts.LifespanTimeout = 300 * time.Millisecond
			s, _ := startLifespan(`
return function(scope, receive, send)
  if scope.type == "lifespan" then
    receive()
    send({type = "lifespan.startup.complete"})
    receive()
    `+shutdown+`
  end
end`, opts)
			err := stopWithin(s, 3*time.Second)
			Expect(err).To(MatchError(ContainSubstring("worker 0: lifespan shutdown failed: " + want)))
			Expect(err).To(MatchError(ContainSubstring("worker 1: lifespan shutdown failed: " + want)))
		},
		Entry("lifespan.shutdown.failed", `send({type = "lifespan.shutdown.failed", message = "pool would not close"})`,
			"the app sent lifespan.shutdown.failed: pool would not close"),
		Entry("an error", `error("close failed", 0)`, "the app raised an error: close failed"),
		Entry("a return without a reply", `return`,
			"lasgi: lifespan.shutdown.reply: the lifespan call returned without replying to lifespan.shutdown"),
		Entry("no reply", `receive()`,
			"no reply to lifespan.shutdown within --lifespan-timeout 300ms; its Lua state is closed (lifespan.shutdown.timeout)"),
		Entry("a loop that never yields", `while true do end`,
			"no reply to lifespan.shutdown within --lifespan-timeout 300ms"),
	)

	It("serves on after the lifespan call raised past its startup, logging it, and sends it no lifespan.shutdown", func() {
		s, _ := startLifespan(lifespanApp(`
    scope.state.pool = "open"
    send({type = "lifespan.startup.complete"})
    error("the pool's keeper died", 0)`, `reply(send, scope.state.pool)`), lifespanOpts(1))
		srv := &testServer{addr: s.Addr}
		Expect(srv.get("/").Body).To(Equal("open"))
		Expect(s.Log.String()).To(ContainSubstring("worker 0: lifespan call: app error after startup: the pool's keeper died"))
		Expect(stopWithin(s, 2*time.Second)).To(Succeed())
	})
})

var _ = Describe("lifespan in a worker that replaces an abandoned one", func() {
	It("runs in the fresh Lua state before it serves", func() {
		s, _ := startLifespan(lifespanApp(`scope.state.vm = tostring({})`, `
  if scope.path == "/stuck" then `+backtracking+` end
  reply(send, scope.state.vm)`), gopherlua.Options{Workers: 1, BusyTimeout: 200 * time.Millisecond, QueueTimeout: 10 * time.Second, Lifespan: gopherlua.LifespanOn})
		DeferCleanup(waitQuiet)
		srv := &testServer{addr: s.Addr, log: s.Log}
		before := srv.get("/").Body
		Expect(before).To(HavePrefix("table: "))
		go func() {
			defer GinkgoRecover()
			c := srv.dial()
			io.WriteString(c, "GET /stuck HTTP/1.1\r\nHost: t\r\n\r\n")
			io.ReadAll(c)
		}()
		time.Sleep(100 * time.Millisecond) // /stuck holds the only worker
		after := srv.get("/").Body
		Expect(after).To(HavePrefix("table: "), "the fresh state made its startup")
		Expect(after).NotTo(Equal(before))
		Expect(s.Log.String()).To(ContainSubstring("worker 0 abandoned"))
		Expect(stopWithin(s, 3*time.Second)).To(Succeed())
	})

	It("leaves the slot retired, and says so, when that startup fails; the other workers serve on", func() {
		marker := filepath.Join(GinkgoT().TempDir(), "fail-startup")
		s, _ := startLifespan(`
local marker = `+luaString(marker)+`
`+lifespanApp(`
    local f = io.open(marker)
    if f then
      f:close()
      send({type = "lifespan.startup.failed", message = "the marker says no"})
      return
    end`, `
  if scope.path == "/stuck" then `+backtracking+` end
  reply(send, "served")`), gopherlua.Options{Workers: 2, BusyTimeout: 200 * time.Millisecond, QueueTimeout: 10 * time.Second, Lifespan: gopherlua.LifespanOn})
		DeferCleanup(waitQuiet)
		srv := &testServer{addr: s.Addr, log: s.Log}
		Expect(srv.get("/").Body).To(Equal("served"))
		Expect(os.WriteFile(marker, nil, 0o644)).To(Succeed())
		go func() {
			defer GinkgoRecover()
			c := srv.dial()
			io.WriteString(c, "GET /stuck HTTP/1.1\r\nHost: t\r\n\r\n")
			io.ReadAll(c)
		}()
		Eventually(s.Log.String, 5*time.Second).Should(ContainSubstring(
			"lifespan startup failed: the app sent lifespan.startup.failed: the marker says no; the slot stays retired, serving nothing"))
		start := time.Now()
		for range 6 {
			Expect(srv.get("/").Body).To(Equal("served"))
		}
		Expect(time.Since(start)).To(BeNumerically("<", 2*time.Second), "served by the other worker, not kept waiting")
		Expect(strings.Count(s.Log.String(), "abandoned and replaced")).To(Equal(1))
		Expect(stopWithin(s, 3*time.Second)).To(Succeed())
	})
})

// luaString quotes s as a Lua string literal.
func luaString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
