package websocket_test

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/textproto"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/reference/server/websocket"
)

var _ = Describe("echo over loopback TCP", func() {
	It("echoes the RFC's masked \"Hello\" as its unmasked \"Hello\", byte for byte", func() {
		serverEnd, clientEnd := tcpPair()
		go func() {
			defer serverEnd.Close()
			c := websocket.NewConn(serverEnd, serverEnd, websocket.Options{})
			for {
				op, p, err := c.ReadMessage()
				if err != nil {
					return
				}
				if c.WriteMessage(op, p) != nil {
					return
				}
			}
		}()
		for range 3 {
			_, err := clientEnd.Write([]byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58})
			Expect(err).NotTo(HaveOccurred())
			echo := make([]byte, 7)
			_, err = io.ReadFull(clientEnd, echo)
			Expect(err).NotTo(HaveOccurred())
			Expect(echo).To(Equal([]byte{0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}))
		}
		// A ping split over two writes, then a close.
		ping := client(fin|opPing, []byte("Hello"))
		_, err := clientEnd.Write(ping[:4])
		Expect(err).NotTo(HaveOccurred())
		_, err = clientEnd.Write(append(ping[4:], client(fin|opClose, closePayload(1000, ""))...))
		Expect(err).NotTo(HaveOccurred())
		rest, err := io.ReadAll(clientEnd)
		Expect(err).NotTo(HaveOccurred())
		Expect(rest).To(Equal(join(server(fin|opPong, []byte("Hello")), server(fin|opClose, closePayload(1000, "")))))
	})

	It("does the whole exchange with the package's own client end", func() {
		s := startEcho(websocket.Options{MaxMessageSize: 256 << 10})
		nc, err := net.Dial("tcp", s.addr)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { _ = nc.Close() })
		_, err = io.WriteString(nc, "GET /echo HTTP/1.1\r\nhost: t\r\nupgrade: websocket\r\nconnection: upgrade\r\n"+
			"sec-websocket-key: "+rfcKey+"\r\nsec-websocket-version: 13\r\nsec-websocket-protocol: chat, other\r\n\r\n")
		Expect(err).NotTo(HaveOccurred())
		br := bufio.NewReader(nc)
		tp := textproto.NewReader(br)
		Expect(tp.ReadLine()).To(Equal("HTTP/1.1 101 Switching Protocols"))
		mh, err := tp.ReadMIMEHeader()
		Expect(err).NotTo(HaveOccurred())
		Expect(mh.Get("sec-websocket-accept")).To(Equal(rfcAccept))
		Expect(mh.Get("sec-websocket-protocol")).To(Equal("chat"))

		var pongs [][]byte
		c := websocket.NewConn(br, nc, websocket.Options{Client: true, OnPong: func(p []byte) { pongs = append(pongs, bytes.Clone(p)) }})
		big := bytes.Repeat([]byte("0123456789"), 10<<10) // 100 KiB
		for _, m := range []message{{websocket.OpText, "héllo"}, {websocket.OpBinary, "\x00\xff"}, {websocket.OpBinary, string(big)}} {
			Expect(c.WriteMessage(m.Op, []byte(m.Payload))).To(Succeed())
			op, p, err := c.ReadMessage()
			Expect(err).NotTo(HaveOccurred())
			Expect(op).To(Equal(m.Op))
			Expect(string(p) == m.Payload).To(BeTrue(), "echo of %d bytes differs", len(m.Payload))
		}
		Expect(c.WritePing([]byte("are you there"))).To(Succeed())
		Expect(c.WriteMessage(websocket.OpText, []byte("after the ping"))).To(Succeed())
		_, p, err := c.ReadMessage()
		Expect(err).NotTo(HaveOccurred())
		Expect(string(p)).To(Equal("after the ping"))
		expectEqual(pongs, [][]byte{[]byte("are you there")})

		Expect(c.WriteClose(4001, "done here")).To(Succeed())
		_, _, err = c.ReadMessage()
		expectEqual(err, &websocket.CloseError{Code: 4001})
		expectEqual(s.nextEnd(), &websocket.CloseError{Code: 4001, Reason: "done here"})
	})
})
