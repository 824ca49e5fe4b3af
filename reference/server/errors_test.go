package server_test

import (
	"bufio"
	"io"
	"regexp"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/reference/server"
	"github.com/lasgi/lasgi/reference/server/gopherlua"
)

// sendProbe runs the Lua statements in the request's query (as a chunk that
// receives send) under pcall and answers with the error it raised.
const sendProbe = `
local function unhex(s) return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end)) end
return function(scope, receive, send)
  local chunk = assert(loadstring(unhex(scope.query_string)))
  local ok, err = pcall(chunk, send)
  if scope.path == "/started" then
    -- the chunk started the response itself
    send({type = "http.response.body", body = tostring(err)})
    return
  end
  send({type = "http.response.start", status = 200})
  send({type = "http.response.body", body = ok and "no error" or tostring(err)})
end`

func queryEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
			b.WriteByte(c)
		} else {
			b.WriteString("%" + strings.ToUpper(string("0123456789abcdef"[c>>4])+string("0123456789abcdef"[c&15])))
		}
	}
	return b.String()
}

var _ = Describe("invalid events", func() {
	var s *testServer
	BeforeEach(func() { s = serve(sendProbe, 1, server.Config{}) })

	DescribeTable("make send raise a Lua error naming the rule",
		func(lua, rule string) {
			body := s.get("/?" + queryEscape(lua)).Body
			// Exactly "lasgi: <rule>: <detail>", no position prefix.
			Expect(body).To(MatchRegexp(`^lasgi: ` + regexp.QuoteMeta(rule) + `: \S`))
		},
		Entry("not a table", `local send = ...; send("hello")`, "core.send.event-table"),
		Entry("no type", `local send = ...; send({status = 200})`, "core.send.type"),
		Entry("unknown type", `local send = ...; send({type = "http.response.begin"})`, "core.send.type"),
		Entry("status a string", `local send = ...; send({type = "http.response.start", status = "200"})`, "http.start.status-type"),
		Entry("status not integral", `local send = ...; send({type = "http.response.start", status = 200.5})`, "http.start.status-type"),
		Entry("status 1xx", `local send = ...; send({type = "http.response.start", status = 103})`, "http.start.status-range"),
		Entry("status 600", `local send = ...; send({type = "http.response.start", status = 600})`, "http.start.status-range"),
		Entry("headers not a list", `local send = ...; send({type = "http.response.start", status = 200, headers = {a = "b"}})`, "http.start.headers-type"),
		Entry("header not a pair", `local send = ...; send({type = "http.response.start", status = 200, headers = {{"a"}}})`, "http.start.headers-type"),
		Entry("header value a number", `local send = ...; send({type = "http.response.start", status = 200, headers = {{"a", 1}}})`, "http.start.headers-type"),
		Entry("CRLF in a value", `local send = ...; send({type = "http.response.start", status = 200, headers = {{"x", "a\r\nb: c"}}})`, "http.headers.valid-bytes"),
		Entry("SOH in a value", `local send = ...; send({type = "http.response.start", status = 200, headers = {{"x", "a\1b"}}})`, "http.headers.valid-bytes"),
		Entry("ESC in a value", `local send = ...; send({type = "http.response.start", status = 200, headers = {{"x", "a\27b"}}})`, "http.headers.valid-bytes"),
		Entry("DEL in a value", `local send = ...; send({type = "http.response.start", status = 200, headers = {{"x", "a\127b"}}})`, "http.headers.valid-bytes"),
		Entry("space in a name", `local send = ...; send({type = "http.response.start", status = 200, headers = {{"x y", "1"}}})`, "http.headers.valid-bytes"),
		Entry("trailers not boolean", `local send = ...; send({type = "http.response.start", status = 200, trailers = 1})`, "http.start.trailers-type"),
		Entry("body before start", `local send = ...; send({type = "http.response.body", body = "x"})`, "http.start.first"),
		Entry("trailers before start", `local send = ...; send({type = "http.response.trailers", headers = {}})`, "http.start.first"),
		Entry("bad content-length", `local send = ...; send({type = "http.response.start", status = 200, headers = {{"content-length", "ten"}}})`, "http.body.content-length"),
		Entry("signed content-length", `local send = ...; send({type = "http.response.start", status = 200, headers = {{"content-length", "+2"}}})`, "http.body.content-length"),
		Entry("header pair with extra keys", `local send = ...; send({type = "http.response.start", status = 200, headers = {{"x-a", "1", note = "n"}}})`, "http.start.headers-type"),
	)

	DescribeTable("after a valid start, make send raise naming the rule",
		func(lua, rule string) {
			c := s.dial()
			_, err := io.WriteString(c, "GET /started?"+queryEscape(lua)+" HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
			Expect(err).NotTo(HaveOccurred())
			all, err := io.ReadAll(c)
			Expect(err).NotTo(HaveOccurred())
			Expect(string(all)).To(ContainSubstring("lasgi: " + rule + ": "))
		},
		Entry("start twice", `local send = ...; send({type = "http.response.start", status = 200}); send({type = "http.response.start", status = 200})`, "http.start.once"),
		Entry("body not a string", `local send = ...; send({type = "http.response.start", status = 200}); send({type = "http.response.body", body = 5})`, "http.body.body-type"),
		Entry("more_body not boolean", `local send = ...; send({type = "http.response.start", status = 200}); send({type = "http.response.body", body = "", more_body = "yes"})`, "http.body.more-body-type"),
		Entry("body beyond content-length", `local send = ...; send({type = "http.response.start", status = 200, headers = {{"content-length", "300"}}}); send({type = "http.response.body", body = string.rep("x", 301), more_body = true})`, "http.body.content-length"),
		Entry("trailers without the flag", `local send = ...; send({type = "http.response.start", status = 200}); send({type = "http.response.trailers", headers = {}})`, "http.trailers.requires-flag"),
		Entry("trailers before the last body", `local send = ...; send({type = "http.response.start", status = 200, trailers = true}); send({type = "http.response.trailers", headers = {}})`, "http.trailers.after-body"),
	)

	It("raises on anything sent after the response is complete", func() {
		s := serve(recording(`
  send({type = "http.response.start", status = 200})
  send({type = "http.response.body", body = "done"})
  local ok, err = pcall(send, {type = "http.response.body", body = "late"})
  seen[#seen + 1] = tostring(err)`), 1, server.Config{})
		Expect(s.get("/").Body).To(Equal("done"))
		Eventually(s.seen).Should(ContainSubstring("lasgi: http.send.after-complete: "))
	})
})

var _ = Describe("app errors", func() {
	It("answer 500 before the response starts, and the server goes on", func() {
		s := serve(`
return function(scope, receive, send)
  if scope.path == "/boom" then error("boom") end
  send({type = "http.response.start", status = 200})
  send({type = "http.response.body", body = "fine"})
end`, 1, server.Config{})
		res := s.get("/boom")
		Expect(res.Status).To(Equal(500))
		Expect(s.log.String()).To(ContainSubstring("app.lua:3: boom"))
		Expect(s.get("/").Body).To(Equal("fine"))
	})

	It("turn os.exit into an error of the call: 500, and the server and its other requests go on", func() {
		s := serve(`
return function(scope, receive, send)
  if scope.path == "/exit" then os.exit(7) end
  if scope.path == "/tool" then
    send({type = "http.response.start", status = 200})
    send({type = "http.response.body", body = type(os.execute) .. " " .. type(io.popen)})
    return
  end
  send({type = "http.response.start", status = 200})
  send({type = "http.response.body", body = "fine"})
end`, 1, server.Config{})
		Expect(s.get("/exit").Status).To(Equal(500))
		Expect(s.log.String()).To(ContainSubstring("lasgi: os.exit is not available to an app"))
		Expect(s.get("/").Body).To(Equal("fine"))
		Expect(s.get("/tool").Body).To(Equal("function function"), "without --sandbox the app keeps them")

		sandboxed := serveWith(`
return function(scope, receive, send)
  send({type = "http.response.start", status = 200})
  send({type = "http.response.body", body = type(os.execute) .. " " .. type(io.popen) .. " " .. type(io.open) .. " " .. type(dofile) .. " " .. type(require)})
end`, gopherlua.Options{Workers: 1, BusyTimeout: 2 * time.Second, Sandbox: true}, server.Config{})
		Expect(sandboxed.get("/").Body).To(Equal("nil nil nil nil function"))
	})

	It("close the connection after the response started, cutting it short", func() {
		s := serve(`
return function(scope, receive, send)
  send({type = "http.response.start", status = 200})
  send({type = "http.response.body", body = "partial", more_body = true})
  error("late boom")
end`, 1, server.Config{})
		c := s.dial()
		_, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: t\r\n\r\n")
		Expect(err).NotTo(HaveOccurred())
		all, err := io.ReadAll(c)
		Expect(err).NotTo(HaveOccurred()) // the server closed
		Expect(string(all)).To(ContainSubstring("7\r\npartial\r\n"))
		Expect(string(all)).NotTo(HaveSuffix("0\r\n\r\n"), "an unfinished chunked body must not look complete")
		Eventually(s.log.String).Should(ContainSubstring("late boom"))
	})

	It("treat returning without completing the response as an error", func() {
		s := serve(`
return function(scope, receive, send)
  if scope.path == "/started" then send({type = "http.response.start", status = 200}) end
end`, 1, server.Config{})
		Expect(s.get("/").Status).To(Equal(500))
		Expect(s.get("/started").Status).To(Equal(500), "a start never followed by a body is not on the wire yet")
		Expect(s.log.String()).To(ContainSubstring("lasgi: core.app.complete-response: "))
	})

	It("answer 500 when the app outlives --app-timeout", func() {
		s := serve(`
return function(scope, receive, send)
  while true do receive() end
end`, 1, server.Config{AppTimeout: 300 * time.Millisecond})
		start := time.Now()
		Expect(s.get("/").Status).To(Equal(500))
		Expect(time.Since(start)).To(BeNumerically("<", 5*time.Second))
	})

	It("stop an app that loops past --app-timeout without yielding, before --busy-timeout", func() {
		// The app runs on the connection's goroutine until it yields, so the
		// deadline is the watchdog's to enforce; the suite's busy limit is 2 s.
		s := serve(`
return function(scope, receive, send)
  while true do end
end`, 1, server.Config{AppTimeout: 300 * time.Millisecond})
		start := time.Now()
		Expect(s.get("/").Status).To(Equal(500))
		Expect(time.Since(start)).To(BeNumerically("<", 1900*time.Millisecond))
		Eventually(s.log.String).Should(ContainSubstring("deadline"))
		Expect(s.log.String()).NotTo(ContainSubstring("--busy-timeout"))
	})

	It("are logged when they come after the response is complete", func() {
		s := serve(`
return function(scope, receive, send)
  send({type = "http.response.start", status = 200})
  send({type = "http.response.body", body = "done"})
  error("after the fact")
end`, 1, server.Config{})
		Expect(s.get("/").Body).To(Equal("done"))
		Eventually(s.log.String).Should(ContainSubstring("after the fact"))
	})

	It("stop an app that loops without yielding, and the worker goes on", func() {
		s := serve(`
return function(scope, receive, send)
  if scope.path == "/loop" then while true do end end
  send({type = "http.response.start", status = 200})
  send({type = "http.response.body", body = "alive"})
end`, 1, server.Config{})
		Expect(s.get("/loop").Status).To(Equal(500))
		Expect(s.log.String()).To(ContainSubstring("--busy-timeout"))
		Expect(s.get("/").Body).To(Equal("alive"))
	})

	It("stop only the looping call: a call waiting on the same worker goes on afterwards", func() {
		s := serveWith(`
return function(scope, receive, send)
  if scope.path == "/loop" then while true do end end
  local body = receive().body
  send({type = "http.response.start", status = 200})
  send({type = "http.response.body", body = "got " .. body})
end`, gopherlua.Options{Workers: 1, BusyTimeout: 300 * time.Millisecond}, server.Config{})
		waiting := s.dial()
		_, err := io.WriteString(waiting, "POST /wait HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n")
		Expect(err).NotTo(HaveOccurred())
		time.Sleep(50 * time.Millisecond) // the call is suspended in receive()
		Expect(s.get("/loop").Status).To(Equal(500))
		Expect(s.log.String()).To(ContainSubstring("--busy-timeout"))
		_, err = io.WriteString(waiting, "ok")
		Expect(err).NotTo(HaveOccurred())
		Expect(readResponse(bufio.NewReader(waiting), false).Body).To(Equal("got ok"))
	})

	It("refuse an app file that loops when loaded, within --busy-timeout", func() {
		start := time.Now()
		_, err := gopherlua.Load("app.lua", []byte(`while true do end`), gopherlua.Options{Workers: 1, BusyTimeout: 200 * time.Millisecond})
		Expect(err).To(MatchError(ContainSubstring("load app app.lua: ")))
		Expect(err).To(MatchError(ContainSubstring("--busy-timeout 200ms")))
		Expect(time.Since(start)).To(BeNumerically("<", 5*time.Second))
	})

	It("refuse an app file that does not return a callable, naming the rule", func() {
		_, err := gopherlua.Load("app.lua", []byte(`return 42`), gopherlua.Options{Workers: 1})
		Expect(err).To(MatchError(ContainSubstring("lasgi: core.app.callable: ")))
		_, err = gopherlua.Load("app.lua", []byte(`return setmetatable({}, {__call = function(self, scope, receive, send) end})`), gopherlua.Options{Workers: 1})
		Expect(err).NotTo(HaveOccurred())
		_, err = gopherlua.Load("app.lua", []byte(`return function(`), gopherlua.Options{Workers: 1})
		Expect(err).To(MatchError(ContainSubstring("app.lua")))
	})

	It("serves a callable table app, as Atlas's Application is", func() {
		s := serve(`
local App = {}
App.__index = App
App.__call = function(self, scope, receive, send)
  send({type = "http.response.start", status = 200})
  send({type = "http.response.body", body = self.greeting})
end
return setmetatable({greeting = "hi from a table"}, App)`, 1, server.Config{})
		Expect(s.get("/").Body).To(Equal("hi from a table"))
	})

	It("keeps yields inside pcall and xpcall working", func() {
		s := serve(recording(`
  local ok, ev = pcall(receive) -- the body is not there yet: this yields
  local ok2, err = xpcall(function() error("inner", 0) end, function(e) return "handled " .. e end)
  send({type = "http.response.start", status = 200})
  send({type = "http.response.body", body = ev.body .. "|" .. err})
  local ok3, ok4, ev2 = pcall(function() return pcall(receive) end)
  seen[#seen + 1] = tostring(ok3) .. " " .. tostring(ok4) .. " " .. ev2.type`), 1, server.Config{})
		c := s.dial()
		_, err := io.WriteString(c, "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\n")
		Expect(err).NotTo(HaveOccurred())
		time.Sleep(50 * time.Millisecond)
		_, err = io.WriteString(c, "12345")
		Expect(err).NotTo(HaveOccurred())
		Expect(readResponse(bufio.NewReader(c), false).Body).To(Equal("12345|handled inner"))
		Eventually(s.seen).Should(Equal("true true http.disconnect"))
		Expect(s.log.String()).To(BeEmpty())
	})
})
