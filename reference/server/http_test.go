package server_test

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/reference/app"
	"github.com/lasgi/lasgi/reference/server"
)

func refApp(name string) string {
	GinkgoHelper()
	src, err := app.Source(name)
	Expect(err).NotTo(HaveOccurred())
	return string(src)
}

var _ = Describe("HTTP/1.x", func() {
	It("answers hello.lua with a content-length response", func() {
		s := serve(refApp("hello.lua"), 1, server.Config{})
		res := s.get("/")
		Expect(res.Status).To(Equal(200))
		Expect(res.Body).To(Equal("Hello World!"))
		Expect(res.Length).To(Equal(int64(12)))
		Expect(res.Header.Get("Date")).NotTo(BeEmpty())
	})

	It("keeps a connection alive and answers pipelined requests in order", func() {
		s := serve(refApp("echo.lua"), 1, server.Config{})
		c := s.dial()
		var raw strings.Builder
		for i := 1; i <= 3; i++ {
			fmt.Fprintf(&raw, "POST /p%d HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nb%d", i, i)
		}
		_, err := io.WriteString(c, raw.String())
		Expect(err).NotTo(HaveOccurred())
		br := bufio.NewReader(c)
		for i := 1; i <= 3; i++ {
			res := readResponse(br, false)
			Expect(res.Body).To(HavePrefix(fmt.Sprintf("POST /p%d\n", i)))
			Expect(res.Body).To(HaveSuffix(fmt.Sprintf("\n\nb%d", i)))
			Expect(res.Close).To(BeFalse())
		}
		// And again on the same connection after the pipeline drained.
		_, err = io.WriteString(c, "GET /again HTTP/1.1\r\nHost: t\r\n\r\n")
		Expect(err).NotTo(HaveOccurred())
		Expect(readResponse(br, false).Body).To(HavePrefix("GET /again\n"))
	})

	It("serves HTTP/1.0, closing unless asked to keep alive", func() {
		s := serve(refApp("hello.lua"), 1, server.Config{})
		c := s.dial()
		_, err := io.WriteString(c, "GET / HTTP/1.0\r\n\r\n")
		Expect(err).NotTo(HaveOccurred())
		br := bufio.NewReader(c)
		res := readResponse(br, false)
		Expect(res.Body).To(Equal("Hello World!"))
		Expect(res.Close).To(BeTrue())
		_, err = br.ReadByte()
		Expect(err).To(MatchError(io.EOF))

		c = s.dial()
		_, err = io.WriteString(c, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET / HTTP/1.0\r\n\r\n")
		Expect(err).NotTo(HaveOccurred())
		br = bufio.NewReader(c)
		Expect(readResponse(br, false).Close).To(BeFalse())
		Expect(readResponse(br, false).Body).To(Equal("Hello World!"))
	})

	It("ends an HTTP/1.0 streamed response by closing the connection", func() {
		s := serve(refApp("stream.lua"), 1, server.Config{})
		res := s.roundTrip("GET /?parts=3 HTTP/1.0\r\n\r\n", false)
		Expect(res.Body).To(Equal("part 1\npart 2\npart 3\n"))
		Expect(res.Chunked).To(BeFalse())
		Expect(res.Close).To(BeTrue())
	})

	It("sends no body for HEAD but keeps the length", func() {
		s := serve(refApp("hello.lua"), 1, server.Config{})
		c := s.dial()
		_, err := io.WriteString(c, "HEAD / HTTP/1.1\r\nHost: t\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n")
		Expect(err).NotTo(HaveOccurred())
		br := bufio.NewReader(c)
		head := readResponse(br, true)
		Expect(head.Length).To(Equal(int64(12)))
		Expect(head.Body).To(BeEmpty())
		// The next response starts right after the head: no stray body bytes.
		Expect(readResponse(br, false).Body).To(Equal("Hello World!"))
	})

	It("reads chunked request bodies, with extensions and trailers", func() {
		s := serve(refApp("echo.lua"), 1, server.Config{})
		res := s.roundTrip("POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"+
			"3;ext=1\r\nabc\r\n1\r\n\x00\r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n", false)
		Expect(res.Status).To(Equal(200))
		Expect(res.Body).To(HaveSuffix("\n\nabc\x000123456789"))
	})

	It("streams response parts to the wire as the app sends them", func() {
		// The first request sends one part, then waits (yielding) until a
		// second request releases it: the client must see part one before.
		s := serve(`
local released = false
return function(scope, receive, send)
  if scope.path == "/release" then
    released = true
    send({type = "http.response.start", status = 204})
    send({type = "http.response.body"})
    return
  end
  send({type = "http.response.start", status = 200})
  send({type = "http.response.body", body = "one;", more_body = true})
  while not released do coroutine.yield() end
  send({type = "http.response.body", body = "two"})
end`, 1, server.Config{})
		c := s.dial()
		_, err := io.WriteString(c, "GET /stream HTTP/1.1\r\nHost: t\r\n\r\n")
		Expect(err).NotTo(HaveOccurred())
		br := bufio.NewReader(c)
		head, err := br.ReadString('\n')
		Expect(err).NotTo(HaveOccurred())
		Expect(head).To(Equal("HTTP/1.1 200 OK\r\n"))
		var sawChunked bool
		for {
			line, err := br.ReadString('\n')
			Expect(err).NotTo(HaveOccurred())
			if line == "\r\n" {
				break
			}
			sawChunked = sawChunked || strings.EqualFold(line, "transfer-encoding: chunked\r\n")
		}
		Expect(sawChunked).To(BeTrue())
		Expect(br.ReadString('\n')).To(Equal("4\r\n"))
		Expect(br.ReadString('\n')).To(Equal("one;\r\n"))
		Expect(s.get("/release").Status).To(Equal(204))
		rest, err := io.ReadAll(io.LimitReader(br, int64(len("3\r\ntwo\r\n0\r\n\r\n"))))
		Expect(err).NotTo(HaveOccurred())
		Expect(string(rest)).To(Equal("3\r\ntwo\r\n0\r\n\r\n"))
	})

	It("sends trailers after a chunked body when the app asks for them", func() {
		s := serve(`
return function(scope, receive, send)
  assert(scope.extensions["http.response.trailers"], "trailers extension offered")
  send({type = "http.response.start", status = 200, trailers = true,
        headers = {{"trailer", "x-checksum"}}})
  send({type = "http.response.body", body = "data", more_body = true})
  send({type = "http.response.body", body = "more"})
  send({type = "http.response.trailers", headers = {{"x-checksum", "abc"}}, more_trailers = true})
  send({type = "http.response.trailers", headers = {{"x-other", "def"}}})
end`, 1, server.Config{})
		res := s.get("/")
		Expect(res.Chunked).To(BeTrue())
		Expect(res.Body).To(Equal("datamore"))
		Expect(res.Trailer.Get("X-Checksum")).To(Equal("abc"))
		Expect(res.Trailer.Get("X-Other")).To(Equal("def"))
	})

	It("sends 204 and 304 without a body or framing", func() {
		s := serve(`
return function(scope, receive, send)
  send({type = "http.response.start", status = tonumber(scope.query_string)})
  send({type = "http.response.body"})
end`, 1, server.Config{})
		for _, status := range []int{204, 304} {
			c := s.dial()
			_, err := fmt.Fprintf(c, "GET /?%d HTTP/1.1\r\nHost: t\r\n\r\nGET /?200 HTTP/1.1\r\nHost: t\r\n\r\n", status)
			Expect(err).NotTo(HaveOccurred())
			br := bufio.NewReader(c)
			res := readResponse(br, false)
			Expect(res.Status).To(Equal(status))
			Expect(res.Header.Get("Content-Length")).To(BeEmpty())
			Expect(res.Chunked).To(BeFalse())
			Expect(readResponse(br, false).Status).To(Equal(200))
		}
	})

	It("honours the app's content-length and closes when the body falls short", func() {
		s := serve(`
return function(scope, receive, send)
  send({type = "http.response.start", status = 200, headers = {{"content-length", "10"}}})
  if scope.path == "/short" then
    send({type = "http.response.body", body = "12345"})
  else
    send({type = "http.response.body", body = "12345", more_body = true})
    send({type = "http.response.body", body = "67890"})
  end
end`, 1, server.Config{})
		res := s.get("/full")
		Expect(res.Length).To(Equal(int64(10)))
		Expect(res.Chunked).To(BeFalse())
		Expect(res.Body).To(Equal("1234567890"))

		c := s.dial()
		_, err := io.WriteString(c, "GET /short HTTP/1.1\r\nHost: t\r\n\r\n")
		Expect(err).NotTo(HaveOccurred())
		all, err := io.ReadAll(c)
		Expect(err).NotTo(HaveOccurred()) // EOF: the server closed
		Expect(string(all)).To(HaveSuffix("\r\n\r\n12345"))
	})

	It("answers Expect: 100-continue before the body is sent", func() {
		s := serve(refApp("echo.lua"), 1, server.Config{})
		c := s.dial()
		_, err := io.WriteString(c, "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
		Expect(err).NotTo(HaveOccurred())
		br := bufio.NewReader(c)
		Expect(br.ReadString('\n')).To(Equal("HTTP/1.1 100 Continue\r\n"))
		Expect(br.ReadString('\n')).To(Equal("\r\n"))
		_, err = io.WriteString(c, "data")
		Expect(err).NotTo(HaveOccurred())
		Expect(readResponse(br, false).Body).To(HaveSuffix("\n\ndata"))
	})
})
