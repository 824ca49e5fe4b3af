package server_test

import (
	"bufio"
	"crypto/sha256"
	"fmt"
	"io"
	"strings"
	"sync"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/reference/server"
)

var _ = Describe("concurrency on one worker", func() {
	It("lets other requests through while one waits in receive()", func() {
		s := serve(refApp("echo.lua"), 1, server.Config{})
		slow := s.dial()
		_, err := io.WriteString(slow, "POST /slow HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n12345")
		Expect(err).NotTo(HaveOccurred())
		// The slow request's app now waits for the rest of its body.
		for i := 0; i < 5; i++ {
			Expect(s.get(fmt.Sprintf("/fast%d", i)).Body).To(HavePrefix(fmt.Sprintf("GET /fast%d\n", i)))
		}
		_, err = io.WriteString(slow, "67890")
		Expect(err).NotTo(HaveOccurred())
		Expect(readResponse(bufio.NewReader(slow), false).Body).To(HaveSuffix("\n\n1234567890"))
	})

	It("runs many waiting requests at once as coroutines", func() {
		s := serve(refApp("echo.lua"), 1, server.Config{})
		const n = 50
		conns := make([]*bufio.ReadWriter, n)
		for i := range conns {
			c := s.dial()
			conns[i] = bufio.NewReadWriter(bufio.NewReader(c), bufio.NewWriter(c))
			fmt.Fprintf(conns[i], "POST /%d HTTP/1.1\r\nHost: t\r\nContent-Length: 6\r\n\r\nhalf", i)
			Expect(conns[i].Flush()).To(Succeed())
		}
		// All fifty are suspended in receive(); finish them in reverse order.
		for i := n - 1; i >= 0; i-- {
			fmt.Fprintf(conns[i], "%02d", i)
			Expect(conns[i].Flush()).To(Succeed())
			Expect(readResponse(conns[i].Reader, false).Body).To(HaveSuffix(fmt.Sprintf("\n\nhalf%02d", i)))
		}
	})

	It("tells the app http.disconnect when the client goes away", func() {
		s := serve(recording(`
  local ev = receive()              -- the whole (empty) body
  ev = receive()                    -- waits until the client leaves
  seen[#seen + 1] = ev.type
  local ok, err = pcall(send, {type = "http.response.start", status = 200})
  seen[#seen + 1] = tostring(err)`), 1, server.Config{})
		c := s.dial()
		_, err := io.WriteString(c, "GET /wait HTTP/1.1\r\nHost: t\r\n\r\n")
		Expect(err).NotTo(HaveOccurred())
		time.Sleep(50 * time.Millisecond)
		Expect(c.Close()).To(Succeed())
		Eventually(s.seen).Should(
			Equal("http.disconnect,lasgi: disconnected: the client went away"))
	})

	It("raises the disconnected error in send() when the client leaves during a stream of large bodies", func() {
		// Each body is larger than the write buffer, so it goes to the socket
		// directly: a failed write there must reach the app too.
		s := serve(recording(`
  local part = string.rep("x", 1048576)
  send({type = "http.response.start", status = 200})
  for i = 1, 4096 do -- 4 GiB: more than any socket buffer holds
    local ok, err = pcall(send, {type = "http.response.body", body = part, more_body = true})
    if not ok then
      seen[#seen + 1] = tostring(err)
      return
    end
  end
  seen[#seen + 1] = "all sent"`), 1, server.Config{})
		c := s.dial()
		_, err := io.WriteString(c, "GET /stream HTTP/1.1\r\nHost: t\r\n\r\n")
		Expect(err).NotTo(HaveOccurred())
		line, err := bufio.NewReader(c).ReadString('\n')
		Expect(err).NotTo(HaveOccurred())
		Expect(line).To(HavePrefix("HTTP/1.1 200 "))
		Expect(c.Close()).To(Succeed())
		Eventually(s.seen).Should(
			Equal("lasgi: disconnected: the client went away"))
	})

	It("gives up on a client that reads nothing of a large body, after --write-timeout", func() {
		s := serve(recording(`
  send({type = "http.response.start", status = 200})
  -- A part may wait in the server's buffer while send() returns; the next
  -- send() waits for it to be written (back-pressure), so the app sees the
  -- write time out there.
  send({type = "http.response.body", body = string.rep("x", 64 * 1048576), more_body = true})
  local ok = pcall(send, {type = "http.response.body", body = "y", more_body = true})
  seen[#seen + 1] = tostring(ok)`), 1, server.Config{WriteTimeout: 300 * time.Millisecond})
		c := s.dial()
		_, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: t\r\n\r\n")
		Expect(err).NotTo(HaveOccurred())
		// The client reads only once the server has given up: under load the
		// server may start writing late, and a sleep alone would let the
		// client read the whole body before the write blocked.
		Eventually(s.seen, ioDeadline).Should(Equal("false"), "send() failed on the stuck write")
		n, err := io.Copy(io.Discard, c)
		// Closing a socket whose peer has not read everything may end in a
		// reset instead of an end of file; both say the server closed it.
		if err != nil {
			Expect(err).To(MatchError(syscall.ECONNRESET), "the server closed the connection")
		}
		Expect(n).To(BeNumerically("<", 64<<20), "the body was cut off")
	})

	It("tells the app http.disconnect when the client leaves in the middle of the body", func() {
		s := serve(recording(`
  while true do
    local ev = receive()
    seen[#seen + 1] = ev.type
    if ev.type == "http.disconnect" or not ev.more_body then return end
  end`), 1, server.Config{})
		c := s.dial()
		_, err := io.WriteString(c, "POST /wait HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n"+strings.Repeat("x", 70000))
		Expect(err).NotTo(HaveOccurred())
		time.Sleep(50 * time.Millisecond)
		Expect(c.Close()).To(Succeed())
		Eventually(s.seen).Should(
			MatchRegexp(`^(http\.request,)+http\.disconnect$`))
	})
})

var _ = Describe("streaming", func() {
	const size = 20 << 20

	It("passes 20 MB through receive() and send() intact, both ways at once", func() {
		s := serve(refApp("stream.lua"), 1, server.Config{})
		c := s.dial()
		payload := make([]byte, size)
		for i := range payload {
			payload[i] = byte(i*7 + i>>13)
		}
		want := sha256.Sum256(payload)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer GinkgoRecover()
			fmt.Fprintf(c, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n", size)
			_, err := c.Write(payload)
			Expect(err).NotTo(HaveOccurred())
		}()
		res := readResponse(bufio.NewReader(c), false)
		wg.Wait()
		Expect(res.Status).To(Equal(200))
		Expect(res.Chunked).To(BeTrue())
		Expect(len(res.Body)).To(Equal(size))
		Expect(sha256.Sum256([]byte(res.Body))).To(Equal(want))
	})

	It("streams a 20 MB chunked upload to the app in bounded chunks", func() {
		s := serve(`
return function(scope, receive, send)
  local events, total, biggest = 0, 0, 0
  repeat
    local ev = receive()
    events, total = events + 1, total + #ev.body
    if #ev.body > biggest then biggest = #ev.body end
  until not ev.more_body
  send({type = "http.response.start", status = 200})
  send({type = "http.response.body", body = events .. " " .. total .. " " .. biggest})
end`, 1, server.Config{})
		c := s.dial()
		go func() {
			defer GinkgoRecover()
			w := bufio.NewWriter(c)
			fmt.Fprintf(w, "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
			chunk := strings.Repeat("y", 1<<20)
			for i := 0; i < 20; i++ {
				fmt.Fprintf(w, "%x\r\n%s\r\n", len(chunk), chunk)
			}
			fmt.Fprintf(w, "0\r\n\r\n")
			Expect(w.Flush()).To(Succeed())
		}()
		var events, total, biggest int
		_, err := fmt.Sscan(readResponse(bufio.NewReader(c), false).Body, &events, &total, &biggest)
		Expect(err).NotTo(HaveOccurred())
		Expect(total).To(Equal(size))
		// 256 KiB is the server's largest http.request body.
		Expect(events).To(BeNumerically(">=", size/(256<<10)), "the body arrives in many events, not one")
		Expect(biggest).To(BeNumerically("<=", 256<<10))
	})

	It("never cuts off a response the app completed just before returning", func() {
		// Regression: the connection once read the call's state after taking
		// the outbox, so an app that sent its last event and returned in
		// between looked unfinished and its response was cut off.
		s := serve(refApp("stream.lua"), 2, server.Config{})
		payload := strings.Repeat("z", 1<<20)
		for i := 0; i < 40; i++ {
			c := s.dial()
			go func() {
				defer GinkgoRecover()
				_, err := fmt.Fprintf(c, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n%s", len(payload), payload)
				Expect(err).NotTo(HaveOccurred())
			}()
			res := readResponse(bufio.NewReader(c), false)
			Expect(len(res.Body)).To(Equal(len(payload)), "upload %d", i)
		}
		Expect(s.log.String()).NotTo(ContainSubstring("without completing"))
	})

	It("streams a 20 MB download generated by the app", func() {
		s := serve(refApp("stream.lua"), 1, server.Config{})
		res := s.get(fmt.Sprintf("/?size=%d", size))
		Expect(len(res.Body)).To(Equal(size))
		Expect(strings.Count(res.Body, "x")).To(Equal(size))
	})
})
