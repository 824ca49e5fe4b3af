package server_test

import (
	"bufio"
	"io"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/reference/server"
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
