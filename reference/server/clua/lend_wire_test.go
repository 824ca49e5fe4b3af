//go:build lua54 || luajit

package clua_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/coder/websocket"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/reference/app"
	"github.com/lasgi/lasgi/reference/server"
	"github.com/lasgi/lasgi/reference/server/clua"
	"github.com/lasgi/lasgi/reference/server/engine"
	"github.com/lasgi/lasgi/reference/server/servertest"
)

// Bodies lent to the HTTP side (not copied out of Lua) over real HTTP: a
// client slower than the app gets every byte as sent while the app's
// garbage is collected, and one that leaves half-way costs the server
// nothing at shutdown.
const distinctParts = `
return function(scope, receive, send)
  send({type = "http.response.start", status = 200, headers = {{"content-type", "text/plain"}}})
  for i = 1, 64 do
    -- 64 KiB of one letter, fresh each time, and garbage after it
    send({type = "http.response.body", body = string.rep(string.char(65 + i % 26), 65536), more_body = true})
    collectgarbage("collect")
  end
  send({type = "http.response.body", body = ""})
end`

var _ = Describe(clua.Name+" response bodies lent to the HTTP side", func() {
	var s *servertest.Server

	BeforeEach(func() {
		var err error
		s, err = servertest.StartOn(clua.Name, "parts.lua", []byte(distinctParts), engine.Options{Workers: 1}, server.Config{}, nil)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(s.Stop)
	})

	It("reach a slow client byte for byte", func() {
		resp, err := (&http.Client{Timeout: 20 * time.Second}).Get("http://" + s.Addr + "/")
		Expect(err).NotTo(HaveOccurred())
		defer resp.Body.Close()
		r := bufio.NewReaderSize(resp.Body, 64<<10)
		part := make([]byte, 65536)
		for i := 1; i <= 64; i++ {
			if i%8 == 0 {
				time.Sleep(20 * time.Millisecond) // the app runs ahead, into back-pressure
			}
			_, err := io.ReadFull(r, part)
			Expect(err).NotTo(HaveOccurred(), "part %d", i)
			want := strings.Repeat(string(rune(65+i%26)), 65536)
			Expect(string(part) == want).To(BeTrue(), "part %d is not 64 KiB of %c: starts %q", i, rune(65+i%26), part[:16])
		}
		_, err = r.ReadByte()
		Expect(err).To(Equal(io.EOF))
	})

	It("and request bodies received without a copy in Go come back byte for byte", func() {
		src, err := app.Source("stream.lua")
		Expect(err).NotTo(HaveOccurred())
		echo, err := servertest.StartOn(clua.Name, "stream.lua", src, engine.Options{Workers: 1}, server.Config{}, nil)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(echo.Stop)
		body := make([]byte, 3<<20)
		r := rand.New(rand.NewPCG(3, 4))
		for i := range body {
			body[i] = byte(r.Uint32())
		}
		resp, err := (&http.Client{Timeout: 20 * time.Second}).Post("http://"+echo.Addr+"/echo", "application/octet-stream", bytes.NewReader(body))
		Expect(err).NotTo(HaveOccurred())
		defer resp.Body.Close()
		got, err := io.ReadAll(resp.Body)
		Expect(err).NotTo(HaveOccurred())
		Expect(len(got)).To(Equal(len(body)))
		Expect(bytes.Equal(got, body)).To(BeTrue(), "the echo differs from what was sent")
	})

	It("and WebSocket messages reach the client byte for byte, and are given back when the socket ends", func() {
		wsParts := `
return function(scope, receive, send)
  receive() -- websocket.connect
  send({type = "websocket.accept"})
  for i = 1, 32 do
    -- 64 KiB of one letter, fresh each time, and garbage after it
    send({type = "websocket.send", bytes = string.rep(string.char(65 + i % 26), 65536)})
    collectgarbage("collect")
  end
  send({type = "websocket.close"})
end`
		ws, err := servertest.StartOn(clua.Name, "wsparts.lua", []byte(wsParts), engine.Options{Workers: 1}, server.Config{}, nil)
		Expect(err).NotTo(HaveOccurred())
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		// One client leaves after two messages: what was queued for it is
		// never written, and comes back only when the socket ends.
		gone, _, err := websocket.Dial(ctx, "ws://"+ws.Addr+"/", nil)
		Expect(err).NotTo(HaveOccurred())
		gone.SetReadLimit(1 << 20)
		for range 2 {
			_, _, err := gone.Read(ctx)
			Expect(err).NotTo(HaveOccurred())
		}
		gone.CloseNow()

		c, _, err := websocket.Dial(ctx, "ws://"+ws.Addr+"/", nil)
		Expect(err).NotTo(HaveOccurred())
		defer c.CloseNow()
		c.SetReadLimit(1 << 20)
		for i := 1; i <= 32; i++ {
			if i%8 == 0 {
				time.Sleep(20 * time.Millisecond)
			}
			typ, got, err := c.Read(ctx)
			Expect(err).NotTo(HaveOccurred(), "message %d", i)
			Expect(typ).To(Equal(websocket.MessageBinary))
			want := strings.Repeat(string(rune(65+i%26)), 65536)
			Expect(string(got) == want).To(BeTrue(), "message %d is not 64 KiB of %c: %d bytes starting %q", i, rune(65+i%26), len(got), got[:min(16, len(got))])
		}
		_, _, err = c.Read(ctx)
		Expect(websocket.CloseStatus(err)).To(Equal(websocket.StatusNormalClosure))
		Expect(ws.Stop()).To(Succeed(), "no message may be left lent at close")
	})

	It("are given back when a client that never reads makes the write time out", func() {
		src := strings.Replace(distinctParts, "for i = 1, 64 do", "for i = 1, 512 do", 1) // 32 MiB: more than the sockets hold
		log := &servertest.SyncBuffer{}
		stuck, err := servertest.StartOn(clua.Name, "parts.lua", []byte(src), engine.Options{Workers: 1},
			server.Config{WriteTimeout: 300 * time.Millisecond, AppTimeout: 5 * time.Second}, log)
		Expect(err).NotTo(HaveOccurred())
		conn, err := net.Dial("tcp", stuck.Addr)
		Expect(err).NotTo(HaveOccurred())
		defer conn.Close()
		fmt.Fprintf(conn, "GET / HTTP/1.1\r\nhost: x\r\n\r\n")
		// Nothing is read: the server's write times out and the exchange ends.
		time.Sleep(time.Second)
		Expect(stuck.Stop()).To(Succeed(), "no body may be left lent at close; log:\n%s", log)
	})

	It("are given back when the client leaves half-way, so the engine closes", func() {
		conn, err := net.Dial("tcp", s.Addr)
		Expect(err).NotTo(HaveOccurred())
		fmt.Fprintf(conn, "GET / HTTP/1.1\r\nhost: x\r\n\r\n")
		_, err = io.ReadFull(conn, make([]byte, 200<<10))
		Expect(err).NotTo(HaveOccurred())
		conn.Close()
		Expect(s.Stop()).To(Succeed(), "no body may be left lent at close")
	})
})
