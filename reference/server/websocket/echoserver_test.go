package websocket_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/reference/server/websocket"
)

// echoServer is bench/wsecho inside the tests: raw TCP on loopback, the
// request head read with net/textproto, the handshake and frames done by
// the package, every message sent back. It chooses the client's first
// subprotocol, and reports how each connection ended.
type echoServer struct {
	addr  string
	ended chan error // per connection: *CloseError, *ProtocolError or the transport's
}

// startEcho serves until the spec ends.
func startEcho(opts websocket.Options) *echoServer {
	GinkgoHelper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(ln.Close)
	s := &echoServer{addr: ln.Addr().String(), ended: make(chan error, 16)}
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(nc, opts)
		}
	}()
	return s
}

func (s *echoServer) url() string { return "ws://" + s.addr + "/echo" }

// nextEnd is how the next connection to end ended.
func (s *echoServer) nextEnd() error {
	GinkgoHelper()
	var err error
	Eventually(s.ended).WithTimeout(ioDeadline).Should(Receive(&err))
	return err
}

func (s *echoServer) serve(nc net.Conn, opts websocket.Options) {
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(ioDeadline))
	br := bufio.NewReader(nc)
	tp := textproto.NewReader(br)
	line, err := tp.ReadLine()
	if err != nil {
		s.ended <- err
		return
	}
	method, _, _ := strings.Cut(line, " ")
	mh, err := tp.ReadMIMEHeader()
	if err != nil {
		s.ended <- err
		return
	}
	var headers [][2]string
	for name, vs := range mh {
		for _, v := range vs {
			headers = append(headers, [2]string{strings.ToLower(name), v})
		}
	}
	key, protocols, herr := websocket.CheckUpgrade(method, headers)
	if herr != nil {
		fmt.Fprintf(nc, "HTTP/1.1 %d Refused\r\ncontent-length: %d\r\nconnection: close\r\n\r\n%s", herr.Status, len(herr.Reason), herr.Reason)
		s.ended <- herr
		return
	}
	sub := ""
	if len(protocols) > 0 {
		sub = protocols[0]
	}
	if err := websocket.WriteAccept(nc, key, sub, nil); err != nil {
		s.ended <- err
		return
	}
	c := websocket.NewConn(br, nc, opts)
	for {
		op, p, err := c.ReadMessage()
		if err != nil {
			var pe *websocket.ProtocolError
			if errors.As(err, &pe) && c.WriteClose(pe.Code, pe.Reason) == nil {
				// Let the client read the close frame: closing with its
				// bytes unread would reset the connection.
				_ = nc.SetReadDeadline(time.Now().Add(time.Second))
				_, _ = io.Copy(io.Discard, nc)
			}
			s.ended <- err
			return
		}
		if err := c.WriteMessage(op, p); err != nil {
			s.ended <- err
			return
		}
	}
}
