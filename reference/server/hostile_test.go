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
})
