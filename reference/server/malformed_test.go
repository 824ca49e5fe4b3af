package server_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/reference/server"
)

// countingApp answers with how many calls it has seen.
const countingApp = `
local calls = 0
return function(scope, receive, send)
  calls = calls + 1
  repeat local ev = receive() until ev.type ~= "http.request" or not ev.more_body
  send({type = "http.response.start", status = 200})
  send({type = "http.response.body", body = tostring(calls)})
end`

var _ = Describe("malformed requests", func() {
	var s *testServer
	BeforeEach(func() {
		s = serve(countingApp, 1, server.Config{MaxHeaderBytes: 4096, MaxBodyBytes: 1000})
	})

	DescribeTable("get the right status and never reach the app",
		func(raw string, status int) {
			c := s.dial()
			_, err := io.WriteString(c, raw)
			Expect(err).NotTo(HaveOccurred())
			res := readResponse(bufio.NewReader(c), false)
			Expect(res.Status).To(Equal(status), res.Body)
			Expect(res.Close).To(BeTrue())
			Expect(s.get("/").Body).To(Equal("1"), "the app saw only this request")
		},
		Entry("garbage", "GARBAGE\r\n\r\n", 400),
		Entry("no HTTP version", "GET /\r\n\r\n", 400),
		Entry("malformed version", "GET / HTTP/1.x\r\n\r\n", 400),
		Entry("lowercase protocol name", "GET / http/1.1\r\n\r\n", 400),
		Entry("HTTP/2.0 on an HTTP/1 connection", "GET / HTTP/2.0\r\n\r\n", 505),
		Entry("HTTP/0.9 style version", "GET / HTTP/0.9\r\n\r\n", 505),
		Entry("space in the target", "GET /a b HTTP/1.1\r\nHost: t\r\n\r\n", 400),
		Entry("target neither path nor URL", "GET example.com HTTP/1.1\r\nHost: t\r\n\r\n", 400),
		Entry("header without a colon", "GET / HTTP/1.1\r\nHost t\r\n\r\n", 400),
		Entry("space before the colon", "GET / HTTP/1.1\r\nHost : t\r\n\r\n", 400),
		Entry("obsolete line folding", "GET / HTTP/1.1\r\nHost: t\r\nX: a\r\n b\r\n\r\n", 400),
		Entry("NUL in a header value", "GET / HTTP/1.1\r\nHost: t\r\nX: a\x00b\r\n\r\n", 400),
		Entry("invalid content-length", "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1x\r\n\r\n", 400),
		Entry("negative content-length", "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n", 400),
		Entry("signed content-length", "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: -0\r\n\r\n", 400),
		Entry("conflicting content-lengths", "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400),
		Entry("content-length and chunked", "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
		Entry("unsupported transfer-coding", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
		Entry("unsupported expectation", "POST / HTTP/1.1\r\nHost: t\r\nExpect: magic\r\nContent-Length: 0\r\n\r\n", 417),
		Entry("header section too large", "GET / HTTP/1.1\r\nHost: t\r\nX-Big: "+strings.Repeat("a", 5000)+"\r\n\r\n", 431),
		Entry("too many headers", "GET / HTTP/1.1\r\n"+strings.Repeat("X-A: 1\r\n", 600)+"\r\n", 431),
		Entry("request line too long", "GET /"+strings.Repeat("a", 5000)+" HTTP/1.1\r\n\r\n", 414),
		Entry("declared body too large", "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1001\r\n\r\n", 413),
		Entry("HTTP/1.1 without host", "GET / HTTP/1.1\r\nX: 1\r\n\r\n", 400),
		Entry("two host header fields", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
		Entry("two host header fields in HTTP/1.0", "GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n", 400),
		Entry("a host with a space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400),
		Entry("a host with a slash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400),
	)

	DescribeTable("in a chunked body get the right status; the app hears http.disconnect",
		func(raw string, status int) {
			c := s.dial()
			_, err := io.WriteString(c, raw)
			Expect(err).NotTo(HaveOccurred())
			res := readResponse(bufio.NewReader(c), false)
			Expect(res.Status).To(Equal(status), res.Body)
			Expect(s.get("/").Body).To(Equal("2"), "the app was called for the broken request and then this one")
		},
		Entry("chunked body too large", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3e8\r\n"+strings.Repeat("a", 1000)+"\r\n1\r\na\r\n0\r\n\r\n", 413),
		Entry("malformed chunk size", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\nzz\r\n", 400),
		Entry("chunk without CRLF", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nabc\r\n", 400),
		Entry("a 100 KB chunk extension", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n1;x="+strings.Repeat("e", 100_000)+"\r\na\r\n0\r\n\r\n", 400),
		Entry("whitespace before the chunk size", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n 1\r\na\r\n0\r\n\r\n", 400),
	)

	It("accepts a host with a port, an IPv6 literal, and an empty host in HTTP/1.1", func() {
		for _, host := range []string{"example.test:8080", "[::1]:80", ""} {
			c := s.dial()
			_, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: "+host+"\r\n\r\n")
			Expect(err).NotTo(HaveOccurred())
			Expect(readResponse(bufio.NewReader(c), false).Status).To(Equal(200), "host %q", host)
			c.Close()
		}
	})

	It("drops a connection that stays silent past --read-timeout", func() {
		s := serve(countingApp, 1, server.Config{ReadTimeout: 200 * time.Millisecond})
		c := s.dial()
		_, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost:")
		Expect(err).NotTo(HaveOccurred())
		start := time.Now()
		_, err = io.ReadAll(c)
		Expect(err).NotTo(HaveOccurred())
		Expect(time.Since(start)).To(BeNumerically("<", 3*time.Second))
	})

	It("closes the connection of a client that trickles a body nobody reads, within the read timeout", func() {
		s := serve(`return function(scope, receive, send)
  send({type = "http.response.start", status = 200})
  send({type = "http.response.body", body = "early"})
end`, 1, server.Config{ReadTimeout: 300 * time.Millisecond})
		c := s.dial()
		_, err := io.WriteString(c, "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
		Expect(err).NotTo(HaveOccurred())
		br := bufio.NewReader(c)
		Expect(readResponse(br, false).Body).To(Equal("early"))
		// One byte of chunk data every 100 ms: each read is well within the
		// timeout, the whole drain is not.
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			io.WriteString(c, "100000\r\n")
			for {
				select {
				case <-stop:
					return
				case <-time.After(100 * time.Millisecond):
					if _, err := io.WriteString(c, "z"); err != nil {
						return
					}
				}
			}
		}()
		start := time.Now()
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err = br.ReadByte()
		Expect(err).To(MatchError(io.EOF), "the server must close the connection")
		Expect(time.Since(start)).To(BeNumerically("<", 3*time.Second))
	})

	It("closes a keep-alive connection after --idle-timeout", func() {
		s := serve(countingApp, 1, server.Config{IdleTimeout: 200 * time.Millisecond})
		c := s.dial()
		_, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: t\r\n\r\n")
		Expect(err).NotTo(HaveOccurred())
		br := bufio.NewReader(c)
		Expect(readResponse(br, false).Close).To(BeFalse())
		_, err = br.ReadByte()
		Expect(err).To(MatchError(io.EOF))
	})
})

var _ = Describe("graceful shutdown", func() {
	It("finishes the request in flight, closes idle connections and refuses new ones", func() {
		s := serve(refApp("echo.lua"), 1, server.Config{})
		idle := s.dial()
		_, err := io.WriteString(idle, "GET /first HTTP/1.1\r\nHost: t\r\n\r\n")
		Expect(err).NotTo(HaveOccurred())
		idleBR := bufio.NewReader(idle)
		readResponse(idleBR, false)

		busy := s.dial()
		_, err = io.WriteString(busy, "POST /busy HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nab")
		Expect(err).NotTo(HaveOccurred())
		time.Sleep(50 * time.Millisecond)

		shut := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			shut <- s.srv.Shutdown(ctx)
		}()
		// The idle connection is closed, new ones are refused...
		_, err = idleBR.ReadByte()
		Expect(err).To(MatchError(io.EOF))
		Eventually(func() error {
			c, err := net.DialTimeout("tcp", s.addr, time.Second)
			if err == nil {
				c.Close()
			}
			return err
		}).Should(HaveOccurred())
		Consistently(shut, 100*time.Millisecond).ShouldNot(Receive())
		// ...and the request in flight still completes, with connection: close.
		_, err = io.WriteString(busy, "cd")
		Expect(err).NotTo(HaveOccurred())
		res := readResponse(bufio.NewReader(busy), false)
		Expect(res.Body).To(HaveSuffix("\n\nabcd"))
		Expect(res.Close).To(BeTrue())
		Eventually(shut).Should(Receive(BeNil()))
		fmt.Fprintln(GinkgoWriter, "shutdown done")
	})
})
