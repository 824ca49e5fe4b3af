package server_test

import (
	"bufio"
	"fmt"
	"io"
	"runtime"
	"sync/atomic"
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

// waitQuiet waits until the process uses under a tenth of a core, for a
// test that leaves a goroutine running Go code nothing can stop, so that the
// CPU tests measure their own app.
func waitQuiet() {
	Eventually(func() time.Duration {
		before := cpuTime()
		time.Sleep(200 * time.Millisecond)
		return cpuTime() - before
	}, 30*time.Second, 0).Should(BeNumerically("<", 20*time.Millisecond), "the string.find left running ends")
}

// backtracking runs string.find on a pattern that backtracks for seconds
// inside gopher-lua's Go code, where the watchdog's cancellation does not
// reach (about 3 s on an idle machine; longer under load, which only makes
// the tests below surer).
const backtracking = `string.find(string.rep("a", 15), string.rep("a*", 12) .. "b")`

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
		DeferCleanup(waitQuiet)
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
		Expect(time.Since(start)).To(BeNumerically("<", 1500*time.Millisecond), "not kept waiting until the Go code ends")
		Expect(s.log.String()).To(ContainSubstring("worker 0 abandoned"))
		// The stuck request's own client hears at once, though the goroutine
		// that read its request is still inside string.find.
		Eventually(stuck, time.Second).Should(Receive(HavePrefix("HTTP/1.1 500 ")))
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

	It("has its response on the wire at once after a quick one on the same connection", func() {
		// The quick call's kick may still wait in the outside writer's
		// queue when the next request starts: it must not stand in for
		// the next call's.
		s := serveWith(`
return function(scope, receive, send)
  send({type = "http.response.start", status = 200})
  send({type = "http.response.body", body = scope.path})
  if scope.path == "/slow" then `+compute("2")+` end
end`, opts, server.Config{})
		c := s.dial()
		start := time.Now()
		_, err := io.WriteString(c, "GET /fast HTTP/1.1\r\nHost: t\r\n\r\nGET /slow HTTP/1.1\r\nHost: t\r\n\r\n")
		Expect(err).NotTo(HaveOccurred())
		br := bufio.NewReader(c)
		Expect(readResponse(br, false).Body).To(Equal("/fast"))
		Expect(readResponse(br, false).Body).To(Equal("/slow"))
		Expect(time.Since(start)).To(BeNumerically("<", time.Second), "the second response came before the app's 2 s of work were over")
	})
})

// peakHeap samples the heap in use every 5 ms while f runs and returns the
// most it saw.
func peakHeap(f func()) uint64 {
	var peak atomic.Uint64
	done := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	f()
	close(done)
	<-sampled
	return peak.Load()
}

var _ = Describe("an app's memory", func() {
	DescribeTable("a string past the worker's budget is refused before it is made, and the server goes on",
		func(expr, message string) {
			s := serve(`
return function(scope, receive, send)
  if scope.path == "/big" then local s = `+expr+` end
  send({type = "http.response.start", status = 200})
  send({type = "http.response.body", body = "fine"})
end`, 1, server.Config{})
			Expect(s.get("/big").Status).To(Equal(500))
			Expect(s.log.String()).To(ContainSubstring(message))
			Expect(s.get("/").Body).To(Equal("fine"))
		},
		Entry("string.rep of a terabyte", `string.rep("z", 2^40)`, "string.rep would make a string of 1099511627776 bytes, past the worker's memory budget (--max-vm-bytes 1073741824)"),
		Entry("table.concat of 128 references to one 16 MiB string", `(function() local t, s = {}, string.rep("x", 2^24); for i = 1, 128 do t[i] = s end; return table.concat(t) end)()`, "table.concat would make a string of 1090519040 bytes, past"),
		Entry("string.format with a width of a billion", `string.format("%999999999d", 1)`, "invalid conversion '%999999999d' to 'format'"),
	)

	It("stops the call that keeps allocating past --max-vm-bytes, and the server goes on", func() {
		s := serveWith(`
return function(scope, receive, send)
  if scope.path == "/hoard" then
    local kept = {}
    while true do kept[#kept + 1] = string.rep("z", 2^26) .. #kept end
  end
  send({type = "http.response.start", status = 200})
  send({type = "http.response.body", body = "fine"})
end`, gopherlua.Options{Workers: 1, BusyTimeout: 30 * time.Second, MaxVMBytes: 64 << 20}, server.Config{})
		var status int
		peak := peakHeap(func() { status = s.get("/hoard").Status })
		AddReportEntry("peak heap while an app hoarded 64 MiB strings", fmt.Sprintf("%d MiB", peak>>20))
		Expect(status).To(Equal(500))
		// The call ends with the budget's error; under the race detector on a
		// loaded machine its last string.rep may outlast the grace after the
		// stop, and then its worker is abandoned and replaced instead: the
		// server goes on either way.
		Expect(s.log.String()).To(Or(ContainSubstring("passed --max-vm-bytes 67108864 per worker"),
			ContainSubstring("worker 0 abandoned and replaced by a fresh one")))
		DeferCleanup(waitQuiet) // an abandoned worker's last string.rep ends before the next spec measures
		Expect(peak).To(BeNumerically("<", 1<<30), "the heap stayed within a few budgets")
		Expect(s.get("/").Body).To(Equal("fine"))
	})

	It("does not gather millions of empty body parts: send waits for the socket after a bounded number of events", func() {
		s := serveWith(`
return function(scope, receive, send)
  send({type = "http.response.start", status = 200})
  for i = 1, 250000 do send({type = "http.response.body", body = "", more_body = true}) end
  send({type = "http.response.body", body = "end"})
end`, gopherlua.Options{Workers: 1, BusyTimeout: 30 * time.Second}, server.Config{})
		waitQuiet() // nothing an earlier spec left running allocates meanwhile
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		var body string
		peak := peakHeap(func() { body = s.get("/").Body })
		AddReportEntry("heap growth while an app sent a quarter of a million empty body parts", fmt.Sprintf("%d MiB", (peak-min(peak, ms.HeapInuse))>>20))
		Expect(body).To(Equal("end"))
		// Queued at once, a quarter of a million events take about 20 MiB,
		// twice that while the queue grows. Bounded, the growth is 4-9 MiB
		// on a quiet machine and was 17 MiB once under .ci/run, where the
		// collector lags behind: 28 MiB keeps both apart.
		Expect(peak-min(peak, ms.HeapInuse)).To(BeNumerically("<", 28<<20), "a quarter of a million events queued at once take about 20 MiB, twice that while the queue grows")
	})
})
