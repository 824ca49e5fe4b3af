package server_test

import (
	"bufio"
	"io"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/reference/server"
	"github.com/lasgi/lasgi/reference/server/gopherlua"
)

// cpuTime is the CPU time this process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	Expect(syscall.Getrusage(syscall.RUSAGE_SELF, &ru)).To(Succeed())
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

var _ = Describe("hostile apps", func() {
	It("cost next to no CPU while they yield in a loop after responding", func() {
		s := serve(`
return function(scope, receive, send)
  send({type = "http.response.start", status = 200})
  send({type = "http.response.body", body = "done"})
  while true do coroutine.yield() end
end`, 1, server.Config{AppTimeout: 5 * time.Second})
		Expect(s.get("/").Body).To(Equal("done"))
		// A second looks at the loop; before the backoff it took ~95% of a core.
		before := cpuTime()
		time.Sleep(time.Second)
		used := cpuTime() - before
		AddReportEntry("CPU in one second of a yield loop", used.String())
		Expect(used).To(BeNumerically("<", 300*time.Millisecond), "CPU used in one second of the app's yield loop")
	})
})

var _ = Describe("a call's cancellation", func() {
	It("stops only the call that ran too long: another waiting inside pcall on the same worker goes on", func() {
		s := serve(`
return function(scope, receive, send)
  if scope.path == "/loop" then
    while true do end
  end
  local ok, err = pcall(function()
    local e
    repeat e = receive() until not e.more_body
  end)
  send({type = "http.response.start", status = 200})
  send({type = "http.response.body", body = tostring(ok) .. " " .. tostring(err)})
end`, 1, server.Config{})
		waiting := s.dial()
		_, err := io.WriteString(waiting, "POST /wait HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nab")
		Expect(err).NotTo(HaveOccurred())
		time.Sleep(100 * time.Millisecond) // the app waits in receive(), inside pcall
		Expect(s.get("/loop").Status).To(Equal(500), "the busy loop is stopped at --busy-timeout")
		_, err = io.WriteString(waiting, "cd")
		Expect(err).NotTo(HaveOccurred())
		res := readResponse(bufio.NewReader(waiting), false)
		Expect(res.Status).To(Equal(200))
		Expect(res.Body).To(Equal("true nil"))
	})

	It("leaves coroutines the app file made when it loaded usable in every call", func() {
		s := serve(`
local counter = coroutine.wrap(function()
  local i = 0
  while true do i = i + 1; coroutine.yield(i) end
end)
local co = coroutine.create(function()
  while true do coroutine.yield("created") end
end)
return function(scope, receive, send)
  local _, word = coroutine.resume(co)
  send({type = "http.response.start", status = 200})
  send({type = "http.response.body", body = word .. " " .. counter()})
end`, 1, server.Config{})
		Expect(s.get("/")).To(HaveField("Body", "created 1"))
		Expect(s.get("/")).To(HaveField("Body", "created 2"))
	})
})

// backtracking runs string.find on a pattern that backtracks for seconds
// inside gopher-lua's Go code, where the watchdog's cancellation does not
// reach (about 5 s on an idle machine).
const backtracking = `string.find(string.rep("a", 14), string.rep("a*", 14) .. "b")`

var _ = Describe("busy workers", func() {
	It("answer a request that waited for a worker past --queue-timeout with 503 and Retry-After", func() {
		s := serveWith(`
return function(scope, receive, send)
  if scope.path == "/busy" then
    local t = os.clock()
    while os.clock() - t < 1.5 do end
  end
  send({type = "http.response.start", status = 200})
  send({type = "http.response.body", body = "done"})
end`, gopherlua.Options{Workers: 1, BusyTimeout: 5 * time.Second, QueueTimeout: 300 * time.Millisecond}, server.Config{})
		busy := make(chan *response, 1)
		go func() {
			defer GinkgoRecover()
			busy <- s.get("/busy")
		}()
		time.Sleep(200 * time.Millisecond) // /busy holds the only worker
		start := time.Now()
		res := s.get("/")
		waited := time.Since(start)
		Expect(res.Status).To(Equal(503))
		Expect(res.Header.Get("Retry-After")).To(Equal("1"))
		Expect(waited).To(BeNumerically("<", 1200*time.Millisecond), "answered at the queue timeout, not when /busy let go")
		Expect((<-busy).Body).To(Equal("done"))
		Expect(s.log.String()).To(ContainSubstring("--queue-timeout 300ms"))
	})

	It("abandon a worker stuck in Go code past its timeouts, and a fresh one serves the others", func() {
		s := serveWith(`
local calls = 0
return function(scope, receive, send)
  calls = calls + 1
  if scope.path == "/stuck" then `+backtracking+` end
  send({type = "http.response.start", status = 200})
  send({type = "http.response.body", body = "calls " .. calls})
end`, gopherlua.Options{Workers: 1, BusyTimeout: 200 * time.Millisecond, QueueTimeout: 10 * time.Second}, server.Config{})
		Expect(s.get("/").Body).To(Equal("calls 1"))
		stuck := make(chan string, 1)
		go func() {
			defer GinkgoRecover()
			c := s.dial()
			io.WriteString(c, "GET /stuck HTTP/1.1\r\nHost: t\r\n\r\n")
			got, _ := io.ReadAll(c)
			stuck <- string(got)
		}()
		time.Sleep(100 * time.Millisecond) // /stuck holds the only worker
		start := time.Now()
		res := s.get("/")
		Expect(res.Body).To(Equal("calls 1"), "served by a fresh worker, which ran the app file anew")
		Expect(time.Since(start)).To(BeNumerically("<", 3*time.Second), "not kept waiting until the Go code ends")
		Expect(s.log.String()).To(ContainSubstring("worker 0 abandoned"))
		// The stuck request's own client hears at once, though the goroutine
		// that read its request is still inside string.find.
		Eventually(stuck, 2*time.Second).Should(Receive(HavePrefix("HTTP/1.1 500 ")))
	})
})

var _ = Describe("an app that goes on computing after it sent", func() {
	compute := func(seconds string) string {
		return "local t = os.clock(); while os.clock() - t < " + seconds + " do end"
	}
	opts := gopherlua.Options{Workers: 1, BusyTimeout: 10 * time.Second}

	It("has its complete response on the wire at once, not when it returns", func() {
		s := serveWith(`
return function(scope, receive, send)
  send({type = "http.response.start", status = 200})
  send({type = "http.response.body", body = "done"})
  `+compute("2")+`
end`, opts, server.Config{})
		start := time.Now()
		Expect(s.get("/").Body).To(Equal("done"))
		Expect(time.Since(start)).To(BeNumerically("<", time.Second), "the response came before the app's 2 s of work were over")
	})

	It("has each body part on the wire when it is sent", func() {
		s := serveWith(`
return function(scope, receive, send)
  send({type = "http.response.start", status = 200})
  send({type = "http.response.body", body = "first", more_body = true})
  `+compute("1.5")+`
  send({type = "http.response.body", body = "second"})
end`, opts, server.Config{})
		c := s.dial()
		start := time.Now()
		_, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: t\r\n\r\n")
		Expect(err).NotTo(HaveOccurred())
		br := bufio.NewReader(c)
		for {
			line, err := br.ReadString('\n')
			Expect(err).NotTo(HaveOccurred())
			if line == "first\r\n" {
				break
			}
		}
		Expect(time.Since(start)).To(BeNumerically("<", time.Second), "the first part came before the app's 1.5 s of work were over")
	})
})
