// Command wsecho is a bare WebSocket echo server on raw TCP, the ceiling the
// reference server's WebSocket side is measured against: it reads the
// upgrade request with bufio and net/textproto, answers it with
// reference/server/websocket, and sends every text and binary message back
// as it came. No net/http, no app, nothing between the socket and the codec.
//
//	wsecho [-addr 127.0.0.1:0] [-max-message-bytes 1048576]
//
// It prints "listening on ws://HOST:PORT/" once it accepts connections.
// bench/wsload drives it (docs/performance.md, "WebSocket codec").
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/lasgi/lasgi/reference/server/websocket"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on (port 0 picks a free one)")
	max := flag.Int64("max-message-bytes", websocket.DefaultMaxMessageSize, "largest message taken; past it the connection is closed with 1009")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stdout, "listening on ws://%s/\n", ln.Addr())
	for {
		nc, err := ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			log.Fatal(err)
		}
		go serve(nc, *max)
	}
}

// serve takes one connection through the handshake and echoes until it
// closes.
func serve(nc net.Conn, max int64) {
	defer nc.Close()
	br := bufio.NewReaderSize(nc, 4096)
	method, headers, err := readHead(br)
	if err != nil {
		refuse(nc, &websocket.HandshakeError{Status: 400, Reason: err.Error()})
		return
	}
	key, protocols, herr := websocket.CheckUpgrade(method, headers)
	if herr != nil {
		refuse(nc, herr)
		return
	}
	sub := ""
	if len(protocols) > 0 {
		sub = protocols[0]
	}
	if websocket.WriteAccept(nc, key, sub, nil) != nil {
		return
	}
	c := websocket.NewConn(br, nc, websocket.Options{MaxMessageSize: max})
	for {
		op, p, err := c.ReadMessage()
		if err != nil {
			// A *CloseError has been answered by ReadMessage; a transport
			// error leaves nothing to say.
			var pe *websocket.ProtocolError
			if errors.As(err, &pe) && c.WriteClose(pe.Code, pe.Reason) == nil {
				drain(nc)
			}
			return
		}
		if c.WriteMessage(op, p) != nil {
			return
		}
	}
}

// readHead reads the request line and header fields, the least an upgrade
// needs: HTTP/1.1 and the fields, names lowercased.
func readHead(br *bufio.Reader) (method string, headers [][2]string, err error) {
	tp := textproto.NewReader(br)
	line, err := tp.ReadLine()
	if err != nil {
		return "", nil, err
	}
	method, rest, ok1 := strings.Cut(line, " ")
	_, proto, ok2 := strings.Cut(rest, " ")
	if !ok1 || !ok2 || proto != "HTTP/1.1" {
		return "", nil, fmt.Errorf("request line %q is not an HTTP/1.1 request", line)
	}
	mh, err := tp.ReadMIMEHeader()
	if err != nil {
		return "", nil, err
	}
	for name, vs := range mh {
		for _, v := range vs {
			headers = append(headers, [2]string{strings.ToLower(name), v})
		}
	}
	return method, headers, nil
}

// refuse answers a handshake that is not one and lets the connection close.
func refuse(nc net.Conn, herr *websocket.HandshakeError) {
	var b strings.Builder
	fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\n", herr.Status, statusText[herr.Status])
	connection := "close"
	for _, h := range herr.Headers {
		if h[0] == "connection" { // a 426's "upgrade" option, sent with ours
			connection = h[1] + ", close"
			continue
		}
		fmt.Fprintf(&b, "%s: %s\r\n", h[0], h[1])
	}
	body := herr.Reason + "\n"
	b.WriteString("content-type: text/plain; charset=utf-8\r\ncontent-length: " + strconv.Itoa(len(body)) +
		"\r\nconnection: " + connection + "\r\n\r\n" + body)
	_, _ = io.WriteString(nc, b.String())
}

var statusText = map[int]string{400: "Bad Request", 405: "Method Not Allowed", 426: "Upgrade Required"}

// drain reads and drops what the client still sends, for up to a second,
// after a close frame for a protocol error: closing a socket with unread
// bytes resets the connection, and the reset can destroy the close frame
// before the client reads it.
func drain(nc net.Conn) {
	_ = nc.SetReadDeadline(time.Now().Add(time.Second))
	_, _ = io.Copy(io.Discard, nc)
}
