package app_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/reference/app"
	"github.com/lasgi/lasgi/reference/server"
	"github.com/lasgi/lasgi/reference/server/engine"
	"github.com/lasgi/lasgi/reference/server/servertest"
)

// sseCallCounter wraps sse.lua (the %s) in an app that counts its calls, and the
// sends made after receive() returned http.disconnect, in module state: GET /calls
// reports them as "name=N" lines, POST /calls sets them to 0. One worker, so every
// request sees the same state.
const sseCallCounter = `
local sse = (function(...)
%s
end)(...)
local counts = {started = 0, returned = 0, sent_after_disconnect = 0}
return function(scope, receive, send)
  if scope.type == "http" and scope.path == "/calls" then
    if scope.method == "POST" then
      counts = {started = 0, returned = 0, sent_after_disconnect = 0}
    end
    local text = string.format("started=%%d\nreturned=%%d\nsent_after_disconnect=%%d\n",
      counts.started, counts.returned, counts.sent_after_disconnect)
    send({type = "http.response.start", status = 200, headers = {{"content-type", "text/plain"}}})
    send({type = "http.response.body", body = text})
    return
  end
  local mine = counts
  mine.started = mine.started + 1
  local gone = false
  local function recv(opts)
    local ev
    if opts == nil then ev = receive() else ev = receive(opts) end
    if ev.type == "http.disconnect" then gone = true end
    return ev
  end
  local function snd(ev)
    if gone then mine.sent_after_disconnect = mine.sent_after_disconnect + 1 end
    return send(ev)
  end
  sse(scope, recv, snd)
  mine.returned = mine.returned + 1
end
`

// sseSource is sse.lua's source; put into a format such as sseCallCounter's at its %s
// when wrap is not "".
func sseSource(wrap string) []byte {
	GinkgoHelper()
	src, err := app.Source(sseName)
	Expect(err).NotTo(HaveOccurred())
	if wrap != "" {
		src = []byte(fmt.Sprintf(wrap, src))
	}
	return src
}

// startSSE serves the app file src on engineName with one worker until the spec ends.
func startSSE(engineName string, src []byte) *servertest.Server {
	GinkgoHelper()
	s, err := servertest.StartOn(engineName, sseName, src, engine.Options{Workers: 1}, server.Config{}, GinkgoWriter)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { Expect(s.Stop()).To(Succeed()) })
	return s
}

// expectQuietLog stops s and checks that it logged nothing: no app error, no
// connection trouble.
func sseExpectQuietLog(s *servertest.Server) {
	GinkgoHelper()
	Expect(s.Stop()).To(Succeed())
	Expect(s.Log.String()).To(BeEmpty())
}

// sseConn is one client connection, requests made on it one after the other.
type sseConn struct {
	nc net.Conn
	br *bufio.Reader
}

func dialSSE(addr string) *sseConn {
	GinkgoHelper()
	nc, err := net.DialTimeout("tcp", addr, ioDeadline)
	Expect(err).NotTo(HaveOccurred())
	Expect(nc.SetDeadline(time.Now().Add(ioDeadline))).To(Succeed())
	return &sseConn{nc: nc, br: bufio.NewReader(nc)}
}

func (c *sseConn) get(target string) *http.Response { GinkgoHelper(); return c.do("GET", target) }

func (c *sseConn) do(method, target string) *http.Response {
	GinkgoHelper()
	_, err := fmt.Fprintf(c.nc, "%s %s HTTP/1.1\r\nHost: sse.test\r\n\r\n", method, target)
	Expect(err).NotTo(HaveOccurred())
	res, err := http.ReadResponse(c.br, &http.Request{Method: method})
	Expect(err).NotTo(HaveOccurred())
	return res
}

func (c *sseConn) close() { c.nc.Close() }

// sseBlock is one SSE block (lines up to a blank one, without it) and when its
// blank line was read.
type sseBlock struct {
	text string
	at   time.Time
}

// readBlocks reads the blocks of an event stream to its end.
func sseReadBlocks(body io.Reader) []sseBlock {
	GinkgoHelper()
	br := bufio.NewReader(body)
	var blocks []sseBlock
	for {
		text, ok := sseReadBlock(br)
		if !ok {
			return blocks
		}
		blocks = append(blocks, sseBlock{text, time.Now()})
	}
}

// readBlock reads one block; false at the end of the stream (nothing of a block read).
func sseReadBlock(br *bufio.Reader) (string, bool) {
	GinkgoHelper()
	var b strings.Builder
	for {
		line, err := br.ReadString('\n')
		if err == io.EOF && line == "" && b.Len() == 0 {
			return "", false
		}
		Expect(err).NotTo(HaveOccurred(), "reading the event stream after %q", b.String())
		if line == "\n" {
			return b.String(), true
		}
		b.WriteString(line)
	}
}

// callCounts asks sseCallCounter for its counts, on a connection of its own.
func sseCallCounts(addr string) map[string]int {
	GinkgoHelper()
	return sseCounts(addr, "GET")
}

func sseResetCounts(addr string) { GinkgoHelper(); sseCounts(addr, "POST") }

func sseCounts(addr, method string) map[string]int {
	GinkgoHelper()
	c := dialSSE(addr)
	defer c.close()
	res := c.do(method, "/calls")
	b, err := io.ReadAll(res.Body)
	Expect(err).NotTo(HaveOccurred())
	out := map[string]int{}
	for _, line := range strings.Fields(string(b)) {
		k, v, _ := strings.Cut(line, "=")
		n, err := strconv.Atoi(v)
		Expect(err).NotTo(HaveOccurred(), line)
		out[k] = n
	}
	return out
}
