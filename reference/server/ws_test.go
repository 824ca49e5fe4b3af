package server_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/reference/server"
)

// WebSocket on the reference server, tried with two clients nobody here
// wrote (github.com/coder/websocket, Debian's python3-websockets) and with
// raw bytes where a client library would not misbehave on purpose.
var _ = Describe("WebSocket", func() {
	dialWS := func(s *testServer, path string, opts *websocket.DialOptions) *websocket.Conn {
		GinkgoHelper()
		ctx, cancel := context.WithTimeout(context.Background(), ioDeadline)
		defer cancel()
		c, _, err := websocket.Dial(ctx, "ws://"+s.addr+path, opts)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { c.CloseNow() })
		return c
	}
	ctx := func() context.Context {
		c, cancel := context.WithTimeout(context.Background(), ioDeadline)
		DeferCleanup(cancel)
		return c
	}

	It("echoes text and binary messages of ws_echo.lua to a Go client, and closes on bye", func() {
		s := serve(refApp("ws_echo.lua"), 1, server.Config{})
		c := dialWS(s, "/echo", nil)
		c.SetReadLimit(1 << 20)
		for _, m := range []struct {
			typ  websocket.MessageType
			data string
		}{{websocket.MessageText, "hello"}, {websocket.MessageBinary, "\x00\xff"}, {websocket.MessageText, strings.Repeat("é", 50000)}} {
			Expect(c.Write(ctx(), m.typ, []byte(m.data))).To(Succeed())
			typ, data, err := c.Read(ctx())
			Expect(err).NotTo(HaveOccurred())
			Expect(typ).To(Equal(m.typ))
			Expect(string(data)).To(Equal(m.data))
		}
		// The client needs a read in progress to see the pong.
		echoed := make(chan string, 1)
		go func() {
			defer GinkgoRecover()
			_, data, err := c.Read(ctx())
			Expect(err).NotTo(HaveOccurred())
			echoed <- string(data)
		}()
		Expect(c.Ping(ctx())).To(Succeed(), "the server answers pings itself")
		Expect(c.Write(ctx(), websocket.MessageText, []byte("after the ping"))).To(Succeed())
		Eventually(echoed, ioDeadline).Should(Receive(Equal("after the ping")))
		Expect(c.Write(ctx(), websocket.MessageText, []byte("bye"))).To(Succeed())
		_, _, err := c.Read(ctx())
		Expect(websocket.CloseStatus(err)).To(Equal(websocket.StatusNormalClosure))
	})

	It("interoperates with Debian's python3-websockets", func() {
		if err := exec.Command("/usr/bin/python3", "-c", "import websockets").Run(); err != nil {
			Skip("needs python3-websockets (scripts/test installs it)")
		}
		s := serve(refApp("ws_echo.lua"), 1, server.Config{})
		script := fmt.Sprintf(`
import asyncio, websockets
async def main():
    async with websockets.connect("ws://%s/py") as ws:
        await ws.send("hello"); print(await ws.recv())
        await ws.send(b"\x00\xff"); print((await ws.recv()).hex())
        await ws.send("x" * 100000); print(len(await ws.recv()))
        await ws.send("bye")
        try:
            await ws.recv()
        except websockets.ConnectionClosed as e:
            print(e.rcvd.code, e.rcvd.reason)
asyncio.run(asyncio.wait_for(main(), 8))
`, s.addr)
		cmdCtx, cancel := context.WithTimeout(context.Background(), ioDeadline)
		defer cancel()
		out, err := exec.CommandContext(cmdCtx, "/usr/bin/python3", "-c", script).CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), string(out))
		Expect(strings.Fields(string(out))).To(Equal([]string{"hello", "00ff", "100000", "1000", "bye"}))
	})

	It("tells the app the client's close code and reason, and the subprotocols it offered", func() {
		s := serve(recording(`
  if scope.type ~= "websocket" then return end
  seen[#seen + 1] = table.concat(scope.subprotocols, "+")
  seen[#seen + 1] = receive().type
  send({type = "websocket.accept", subprotocol = "v2.chat", headers = {{"x-app", "yes"}}})
  local ev = receive()
  seen[#seen + 1] = ev.type .. " " .. tostring(ev.code) .. " " .. ev.reason
  ev = receive()
  seen[#seen + 1] = ev.type .. " " .. tostring(ev.code)`), 1, server.Config{})
		c, resp, err := websocket.Dial(ctx(), "ws://"+s.addr+"/chat", &websocket.DialOptions{Subprotocols: []string{"chat", "v2.chat"}})
		Expect(err).NotTo(HaveOccurred())
		Expect(c.Subprotocol()).To(Equal("v2.chat"))
		Expect(resp.Header.Get("x-app")).To(Equal("yes"))
		Expect(c.Close(4001, "done")).To(Succeed())
		Eventually(s.seen, ioDeadline).Should(Equal("chat+v2.chat,websocket.connect,websocket.disconnect 4001 done,websocket.disconnect 4001"))
	})

	// What a client sends before the 101 waits for the accept (the watch of
	// the handshake only peeks at it), and a client that leaves before the
	// accept ends the receive() the app waits in.
	It("delivers after the accept a message the client sent before the 101, and tells an app waiting before the accept of a client that left", func() {
		s := serve(recording(`
  if scope.type ~= "websocket" then return end
  receive()
  if scope.path == "/leave" then
    local ev = receive()
    seen[#seen + 1] = ev.type .. " " .. tostring(ev.code)
    return
  end
  send({type = "websocket.accept"})
  local ev = receive()
  seen[#seen + 1] = ev.type .. " " .. tostring(ev.text)`), 1, server.Config{})
		// A final text frame, masked with the key 0, so the payload is as is.
		frame := "\x81\x85\x00\x00\x00\x00early"
		handshake := func(path string) net.Conn {
			nc := s.dial()
			_, err := io.WriteString(nc, "GET "+path+" HTTP/1.1\r\nhost: t\r\nupgrade: websocket\r\nconnection: upgrade\r\n"+
				"sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n"+frame)
			Expect(err).NotTo(HaveOccurred())
			return nc
		}
		nc := handshake("/")
		status, err := bufio.NewReader(nc).ReadString('\n')
		Expect(err).NotTo(HaveOccurred())
		Expect(status).To(HavePrefix("HTTP/1.1 101 "))
		Eventually(s.seen, ioDeadline).Should(Equal("websocket.receive early"))

		handshake("/leave").Close()
		Eventually(s.seen, ioDeadline).Should(Equal("websocket.receive early,websocket.disconnect 1006"))
	})

	It("closes with 1009 a message past --ws-max-message, and the app hears it", func() {
		s := serve(recording(`
  if scope.type ~= "websocket" then return end
  receive()
  send({type = "websocket.accept"})
  local ev = receive()
  seen[#seen + 1] = ev.type .. " " .. tostring(ev.code)`), 1, server.Config{WSMaxMessage: 1000})
		c := dialWS(s, "/", nil)
		Expect(c.Write(ctx(), websocket.MessageBinary, make([]byte, 1001))).To(Succeed())
		_, _, err := c.Read(ctx())
		Expect(websocket.CloseStatus(err)).To(Equal(websocket.StatusMessageTooBig))
		Eventually(s.seen, ioDeadline).Should(Equal("websocket.disconnect 1009"))
	})

	DescribeTable("ends the socket as the app's call ends",
		func(handler string, status int, code websocket.StatusCode) {
			s := serve(`return function(scope, receive, send)
  if scope.type ~= "websocket" then return end
  receive()
`+handler+`
end`, 1, server.Config{})
			c, resp, err := websocket.Dial(ctx(), "ws://"+s.addr+"/", nil)
			if status != 0 {
				Expect(err).To(HaveOccurred())
				Expect(resp).NotTo(BeNil())
				Expect(resp.StatusCode).To(Equal(status))
				return
			}
			Expect(err).NotTo(HaveOccurred())
			defer c.CloseNow()
			_, _, err = c.Read(ctx())
			Expect(websocket.CloseStatus(err)).To(Equal(code))
		},
		Entry("close before accept: 403 (websocket.close.before-accept)", `send({type = "websocket.close"})`, 403, websocket.StatusCode(0)),
		Entry("an error before accept: 500 (websocket.error.before-accept)", `error("boom")`, 500, websocket.StatusCode(0)),
		Entry("a return before accept: 500", `return`, 500, websocket.StatusCode(0)),
		Entry("an error after accept: 1011 (websocket.error.after-accept)", `send({type = "websocket.accept"}) error("boom")`, 0, websocket.StatusInternalError),
		Entry("a return after accept: 1000 (websocket.error.return-open)", `send({type = "websocket.accept"})`, 0, websocket.StatusNormalClosure),
		Entry("a close with a code and a reason", `send({type = "websocket.accept"}) send({type = "websocket.close", code = 4002, reason = "x"})`, 0, websocket.StatusCode(4002)),
	)

	It("sends the denial response, framed as an HTTP response to the handshake", func() {
		s := serve(`return function(scope, receive, send)
  receive()
  send({type = "websocket.http.response.start", status = 401, headers = {{"x-why", "token"}}})
  send({type = "websocket.http.response.body", body = "no ", more_body = true})
  send({type = "websocket.http.response.body", body = "entry"})
end`, 1, server.Config{})
		r := s.roundTrip(handshake("/", ""), false)
		Expect(r.Status).To(Equal(401))
		Expect(r.Header.Get("x-why")).To(Equal("token"))
		Expect(r.Body).To(Equal("no entry"))
		Expect(r.Close).To(BeTrue())
	})

	DescribeTable("refuses a bad handshake before the app runs",
		func(extra string, status int, header, value string) {
			s := serve(recording(`seen[#seen + 1] = scope.type`), 1, server.Config{})
			r := s.roundTrip(strings.Replace(handshake("/", ""), "Sec-WebSocket-Version: 13\r\n", extra, 1), false)
			Expect(r.Status).To(Equal(status))
			if header != "" {
				Expect(r.Header.Get(header)).To(Equal(value))
			}
			Expect(s.seen()).To(BeEmpty(), "the app was never called")
		},
		Entry("another version: 426 naming 13", "Sec-WebSocket-Version: 8\r\n", 426, "sec-websocket-version", "13"),
		Entry("no version", "", 426, "sec-websocket-version", "13"),
		Entry("no key", "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: short\r\n", 400, "", ""),
	)

	It("serves many sockets at once on one worker", func() {
		s := serve(refApp("ws_echo.lua"), 1, server.Config{})
		var wg sync.WaitGroup
		for i := range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer GinkgoRecover()
				c := dialWS(s, "/", nil)
				for j := range 20 {
					msg := fmt.Sprintf("%d-%d", i, j)
					Expect(c.Write(ctx(), websocket.MessageText, []byte(msg))).To(Succeed())
					_, data, err := c.Read(ctx())
					Expect(err).NotTo(HaveOccurred())
					Expect(string(data)).To(Equal(msg))
				}
				Expect(c.Close(websocket.StatusNormalClosure, "")).To(Succeed())
			}()
		}
		wg.Wait()
	})

	It("hands the app websocket.disconnect 1006 when the connection just ends", func() {
		s := serve(recording(`
  if scope.type ~= "websocket" then return end
  receive()
  send({type = "websocket.accept"})
  local ev = receive()
  seen[#seen + 1] = ev.type .. " " .. tostring(ev.code)`), 1, server.Config{})
		nc := s.dial()
		_, err := io.WriteString(nc, handshake("/", ""))
		Expect(err).NotTo(HaveOccurred())
		status, err := bufio.NewReader(nc).ReadString('\n')
		Expect(err).NotTo(HaveOccurred())
		Expect(status).To(HavePrefix("HTTP/1.1 101 "))
		Expect(nc.Close()).To(Succeed())
		Eventually(s.seen, ioDeadline).Should(Equal("websocket.disconnect 1006"))
	})

	It("reads the frames a client sent with its handshake, before the 101", func() {
		s := serve(refApp("ws_echo.lua"), 1, server.Config{})
		nc := s.dial()
		// RFC 6455 section 5.7's masked "Hello", twice, right behind the
		// request: they wait in the connection's read buffer, which the
		// frame layer takes over at the accept.
		hello := "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"
		_, err := io.WriteString(nc, handshake("/", "")+hello+hello)
		Expect(err).NotTo(HaveOccurred())
		br := bufio.NewReader(nc)
		status, err := br.ReadString('\n')
		Expect(err).NotTo(HaveOccurred())
		Expect(status).To(HavePrefix("HTTP/1.1 101 "))
		for {
			line, err := br.ReadString('\n')
			Expect(err).NotTo(HaveOccurred())
			if line == "\r\n" {
				break
			}
		}
		echoes := make([]byte, 14)
		_, err = io.ReadFull(br, echoes)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(echoes)).To(Equal("\x81\x05Hello\x81\x05Hello"))
	})

	It("gives up a socket that answers no ping, after twice --ws-ping-interval", func() {
		s := serve(refApp("ws_echo.lua"), 1, server.Config{WSPingInterval: 100 * time.Millisecond})
		nc := s.dial()
		_, err := io.WriteString(nc, handshake("/", ""))
		Expect(err).NotTo(HaveOccurred())
		start := time.Now()
		n, _ := io.Copy(io.Discard, nc) // the 101, a ping, then the end
		Expect(n).To(BeNumerically(">", 0))
		Expect(time.Since(start)).To(BeNumerically("<", 2*time.Second))
	})

	It("says going away (1001) to open sockets on shutdown", func() {
		s := serve(refApp("ws_echo.lua"), 1, server.Config{})
		c := dialWS(s, "/", nil)
		go func() {
			defer GinkgoRecover()
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			s.srv.Shutdown(sctx)
		}()
		_, _, err := c.Read(ctx())
		Expect(websocket.CloseStatus(err)).To(Equal(websocket.StatusGoingAway))
	})
})

// handshake is a valid opening handshake request for path, with extra
// header lines.
func handshake(path, extra string) string {
	return "GET " + path + " HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" + extra + "\r\n"
}
