package server_test

import (
	"bufio"
	"io"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/reference/server"
)

// rawHead reads one response head off br, byte for byte as sent.
func rawHead(br *bufio.Reader) string {
	GinkgoHelper()
	var head strings.Builder
	for {
		line, err := br.ReadString('\n')
		Expect(err).NotTo(HaveOccurred(), "reading a response head, got so far %q", head.String())
		head.WriteString(line)
		if line == "\r\n" {
			return head.String()
		}
	}
}

// statusApp answers every request with the status in the path (/204) after
// sending the headers and the body the query names: ?cl=N adds the app's own
// content-length, the body is always "x".
const statusApp = `
return function(scope, receive, send)
  receive()
  local status = tonumber(scope.path:match("^/(%d+)"))
  local headers = {{"x-app", "1"}}
  local cl = scope.query_string:match("cl=(%d+)")
  if cl then headers[#headers + 1] = {"content-length", cl} end
  send({type = "http.response.start", status = status, headers = headers})
  send({type = "http.response.body", body = "x"})
end`

var _ = Describe("responses without content (204, 205, 304)", func() {
	var s *testServer
	BeforeEach(func() { s = serve(statusApp, 1, server.Config{}) })

	// exchange sends two requests on one connection: target, then GET /200.
	// The second answer proves the first left no stray body bytes behind and
	// kept the connection.
	exchange := func(target string) (head string, next *response) {
		GinkgoHelper()
		c := s.dial()
		_, err := io.WriteString(c, "GET "+target+" HTTP/1.1\r\nHost: t\r\n\r\nGET /200 HTTP/1.1\r\nHost: t\r\n\r\n")
		Expect(err).NotTo(HaveOccurred())
		br := bufio.NewReader(c)
		head = rawHead(br)
		next = readResponse(br, false)
		return head, next
	}

	DescribeTable("discard the app's body bytes without raising (http.body.no-body-discard)",
		func(target, status string, present, absent []string) {
			head, next := exchange(target)
			Expect(head).To(HavePrefix("HTTP/1.1 " + status + " "))
			for _, h := range present {
				Expect(head).To(ContainSubstring("\r\n"+h+"\r\n"), "head %q", head)
			}
			for _, h := range absent {
				Expect(strings.ToLower(head)).NotTo(ContainSubstring("\r\n"+h+":"), "head %q", head)
			}
			// The next response starts right after the head: the "x" was not sent.
			Expect(next.Status).To(Equal(200))
			Expect(next.Body).To(Equal("x"))
			Expect(s.log.String()).NotTo(ContainSubstring("app error"))
		},
		Entry("204: no length, no transfer coding", "/204", "204", []string{"x-app: 1"}, []string{"content-length", "transfer-encoding"}),
		Entry("204: the app's content-length is dropped", "/204?cl=1", "204", []string{"x-app: 1"}, []string{"content-length", "transfer-encoding"}),
		Entry("205: content-length: 0", "/205", "205", []string{"x-app: 1", "content-length: 0"}, []string{"transfer-encoding"}),
		Entry("205: the app's content-length becomes 0", "/205?cl=1", "205", []string{"content-length: 0"}, []string{"transfer-encoding"}),
		Entry("304: the app's content-length is kept, the connection too", "/304?cl=10", "304", []string{"content-length: 10"}, []string{"transfer-encoding"}),
		Entry("304 without a length", "/304", "304", []string{"x-app: 1"}, []string{"content-length", "transfer-encoding"}),
	)
})

var _ = Describe("response header names", func() {
	It("are lowercased on the wire, not refused (http.headers.server-lowercase)", func() {
		s := serve(`
return function(scope, receive, send)
  send({type = "http.response.start", status = 200,
        headers = {{"Content-Type", "text/html"}, {"X-Mixed-CASE", "a\tb"}}})
  send({type = "http.response.body", body = "ok"})
end`, 1, server.Config{})
		c := s.dial()
		_, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
		Expect(err).NotTo(HaveOccurred())
		all, err := io.ReadAll(c)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(all)).To(HavePrefix("HTTP/1.1 200 "))
		Expect(string(all)).To(ContainSubstring("\r\ncontent-type: text/html\r\n"))
		Expect(string(all)).To(ContainSubstring("\r\nx-mixed-case: a\tb\r\n"), "HTAB stays allowed in values")
		Expect(string(all)).NotTo(ContainSubstring("Content-Type"))
		Expect(string(all)).To(HaveSuffix("\r\n\r\nok"))
	})
})

var _ = Describe("receive after the response is complete", func() {
	It("returns http.disconnect though body is unread (http.disconnect.after-complete)", func() {
		s := serve(recording(`
  send({type = "http.response.start", status = 200})
  send({type = "http.response.body", body = "done"})
  local ev = receive()
  seen[#seen + 1] = ev.type
  seen[#seen + 1] = receive().type`), 1, server.Config{})
		res := s.roundTrip("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello", false)
		Expect(res.Body).To(Equal("done"))
		Eventually(s.seen, 2*time.Second, 20*time.Millisecond).Should(Equal("http.disconnect,http.disconnect"))
	})
})

var _ = Describe("an HTTP/1.0 request", func() {
	It("gets no trailers extension in its scope (http.trailers.http10), timers and groups still", func() {
		s := serve(refApp("scope.lua"), 1, server.Config{})
		timers := map[string]any{}
		d := decodeDump(s.roundTrip("GET / HTTP/1.0\r\n\r\n", false).Body)
		expectEqual(d.Scope["extensions"], map[string]any{"lasgi.timers": timers, "lasgi.groups": groupsEntry})
		d = decodeDump(s.roundTrip("GET / HTTP/1.1\r\nHost: t\r\n\r\n", false).Body)
		expectEqual(d.Scope["extensions"], map[string]any{"http.response.trailers": map[string]any{}, "lasgi.timers": timers, "lasgi.groups": groupsEntry})
	})
})

var _ = Describe("root_path", func() {
	DescribeTable("is put back in front of a path a proxy stripped (http.scope.root-path-in-path)",
		func(target, path, rawPath string) {
			s := serve(refApp("scope.lua"), 1, server.Config{RootPath: "/api"})
			d := decodeDump(s.get(target).Body)
			expectEqual([]any{d.Scope["root_path"], d.Scope["path"], d.Scope["raw_path"]}, []any{"/api", path, rawPath})
		},
		Entry("stripped", "/x%20y", "/api/x y", "/api/x%20y"),
		Entry("stripped to the root", "/", "/api/", "/api/"),
		Entry("already there", "/api/x", "/api/x", "/api/x"),
		Entry("the prefix alone", "/api", "/api", "/api"),
		Entry("a longer segment is not the prefix", "/apix", "/api/apix", "/api/apix"),
	)
})
