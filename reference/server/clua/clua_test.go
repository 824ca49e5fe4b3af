//go:build lua54 || luajit

package clua_test

import (
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/reference/server"
	"github.com/lasgi/lasgi/reference/server/clua"
	"github.com/lasgi/lasgi/reference/server/engine"
	"github.com/lasgi/lasgi/reference/server/servertest"
)

// What this engine does that gopher-lua cannot, or does its own way, over
// real HTTP on loopback.

// serve starts src on the engine and returns a GET of a path on it.
func serve(src string, opts engine.Options) (get func(path string) (int, string), log *servertest.SyncBuffer) {
	get, _, log = start(src, opts)
	return get, log
}

// serveAt starts src on one worker and returns a GET of a body and the
// server's address.
func serveAt(src string) (get func(path string) string, addr string) {
	g, addr, _ := start(src, engine.Options{Workers: 1})
	return func(path string) string { _, body := g(path); return body }, addr
}

func start(src string, opts engine.Options) (get func(path string) (int, string), addr string, log *servertest.SyncBuffer) {
	log = &servertest.SyncBuffer{}
	s, err := servertest.StartOn(clua.Name, "app.lua", []byte(src), opts, server.Config{}, log)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(s.Stop)
	client := &http.Client{Timeout: 10 * time.Second}
	return func(path string) (int, string) {
		resp, err := client.Get("http://" + s.Addr + path)
		Expect(err).NotTo(HaveOccurred())
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		Expect(err).NotTo(HaveOccurred())
		return resp.StatusCode, string(b)
	}, s.Addr, log
}

// respond is Lua that answers with status and the string body.
const respond = `
local function respond(send, status, body)
  send({type = "http.response.start", status = status, headers = {{"content-type", "text/plain"}}})
  send({type = "http.response.body", body = body})
end
`

var _ = Describe("the "+clua.Name+" engine", func() {
	It("loads C modules (lpeg, cjson) from Debian's packages", func() {
		get, _ := serve(respond+`
local lpeg = require "lpeg"
local cjson = require "cjson"
local digits = lpeg.C(lpeg.R("09")^1)
return function(scope, receive, send)
  respond(send, 200, cjson.encode({n = digits:match(scope.path:sub(2))}))
end`, engine.Options{Workers: 1})
		status, body := get("/1234abc")
		Expect(status).To(Equal(200))
		Expect(body).To(Equal(`{"n":"1234"}`))
	})

	It("lets receive and send wait inside pcall, which gopher-lua cannot", func() {
		get, _ := serve(respond+`
return function(scope, receive, send)
  local ok, ev = pcall(receive)
  respond(send, 200, tostring(ok) .. " " .. ev.type)
end`, engine.Options{Workers: 1})
		status, body := get("/")
		Expect(status).To(Equal(200))
		Expect(body).To(Equal("true http.request"))
	})

	It("stops a busy loop at --busy-timeout, and the worker serves on", func() {
		get, _ := serve(respond+`
return function(scope, receive, send)
  if scope.path == "/loop" then while true do end end
  respond(send, 200, "fine")
end`, engine.Options{Workers: 1, BusyTimeout: 200 * time.Millisecond})
		status, _ := get("/loop")
		Expect(status).To(Equal(500))
		status, body := get("/")
		Expect(status).To(Equal(200))
		Expect(body).To(Equal("fine"))
	})

	It("stops a busy loop in a coroutine the app resumed, and the worker serves on", func() {
		get, _ := serve(respond+`
return function(scope, receive, send)
  if scope.path == "/wrap" then coroutine.wrap(function() while true do end end)() end
  if scope.path == "/resume" then
    local co = coroutine.create(function() while true do end end)
    local ok = coroutine.resume(co)
    while true do end -- ok is false (interrupted): the resumer is stopped too
  end
  if scope.path == "/nested" then
    coroutine.wrap(function() coroutine.wrap(function() while true do end end)() end)()
  end
  respond(send, 200, "fine")
end`, engine.Options{Workers: 1, BusyTimeout: 200 * time.Millisecond})
		for _, path := range []string{"/wrap", "/resume", "/nested"} {
			status, _ := get(path)
			Expect(status).To(Equal(500), path)
			status, body := get("/")
			Expect(status).To(Equal(200), path)
			Expect(body).To(Equal("fine"), path)
		}
	})

	It("fails a request whose app passes --max-vm-bytes, with a clear error, and serves on", func() {
		get, log := serve(respond+`
return function(scope, receive, send)
  if scope.path == "/hog" then
    local t = {}
    for i = 1, 1e9 do t[i] = string.rep("x", 1000) .. i end
  end
  respond(send, 200, "fine")
end`, engine.Options{Workers: 1, MaxVMBytes: 32 << 20})
		status, _ := get("/hog")
		Expect(status).To(Equal(500))
		Eventually(log.String).Should(ContainSubstring("--max-vm-bytes 33554432"))
		status, body := get("/")
		Expect(status).To(Equal(200))
		Expect(body).To(Equal("fine"))
	})

	It("refuses a send kept from a call that returned (core.call.same-coroutine)", func() {
		get, _ := serve(respond+`
local old
return function(scope, receive, send)
  if old then
    local ok, err = pcall(old, {type = "http.response.start", status = 200})
    respond(send, 200, tostring(err))
  else
    old = send
    respond(send, 200, "first")
  end
end`, engine.Options{Workers: 1})
		_, body := get("/")
		Expect(body).To(Equal("first"))
		_, body = get("/")
		Expect(body).To(Equal("lasgi: core.call.same-coroutine: send called after the application call returned"))
	})

	It("suspends an app whose client does not read (send waits on back-pressure)", func() {
		get, addr := serveAt(respond + `
local sent = 0
return function(scope, receive, send)
  if scope.path == "/count" then return respond(send, 200, tostring(sent)) end
  send({type = "http.response.start", status = 200})
  local chunk = string.rep("x", 65536)
  for i = 1, 1024 do
    sent = i
    send({type = "http.response.body", body = chunk, more_body = true})
  end
  send({type = "http.response.body"})
end`)
		conn, err := net.Dial("tcp", addr)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(conn.Close)
		_, err = conn.Write([]byte("GET /big HTTP/1.1\r\nHost: x\r\n\r\n"))
		Expect(err).NotTo(HaveOccurred())
		// Never read: 64 MiB cannot all be on its way; what is, is the
		// socket buffers' and the server's bound (256 KiB) worth.
		time.Sleep(500 * time.Millisecond)
		n, err := strconv.Atoi(get("/count"))
		Expect(err).NotTo(HaveOccurred())
		Expect(n).To(BeNumerically("<", 512), "the app went on sending to a client that reads nothing")
	})
})
