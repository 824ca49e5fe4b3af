package server_test

import (
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

	It("end an app that spins on receive() after http.disconnect, naming http.disconnect.app-return, and cost no more CPU", func() {
		s := serve(`
return function(scope, receive, send)
  send({type = "http.response.start", status = 200})
  send({type = "http.response.body", body = "done"})
  while true do pcall(receive) end -- catching errors does not keep it going
end`, 1, server.Config{AppTimeout: 10 * time.Second})
		Expect(s.get("/").Body).To(Equal("done"))
		Eventually(s.log.String, 2*time.Second).Should(ContainSubstring(
			"lasgi: http.disconnect.app-return: the app called receive() 1001 times after http.disconnect without returning"))
		before := cpuTime()
		time.Sleep(500 * time.Millisecond)
		used := cpuTime() - before
		AddReportEntry("CPU in half a second after a receive() spin was ended", used.String())
		Expect(used).To(BeNumerically("<", 150*time.Millisecond), "before, the spin held a core until --app-timeout")
		Expect(s.get("/").Body).To(Equal("done"), "the worker serves the next request")
	})
})
