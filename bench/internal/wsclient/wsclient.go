// Package wsclient is the client half of a WebSocket opening handshake for
// the bench tools (wsload, wsidle), on the reference server's own frame
// layer in client mode. Loopback benchmarks only; not a general client.
package wsclient

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"net/textproto"
	"strings"
	"time"

	"github.com/lasgi/lasgi/reference/server/websocket"
)

// Dial connects to addr, does the opening handshake for path (with host as
// the host field) within timeout, checks the 101 and its
// sec-websocket-accept, and returns the connection and a client Conn over
// it, reading through a buffer of bufSize bytes. The connection has no
// deadline afterwards.
func Dial(addr, host, path string, timeout time.Duration, bufSize int) (net.Conn, *websocket.Conn, error) {
	nc, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, nil, err
	}
	_ = nc.SetDeadline(time.Now().Add(timeout))
	var raw [16]byte
	_, _ = rand.Read(raw[:])
	key := base64.StdEncoding.EncodeToString(raw[:])
	req := "GET " + path + " HTTP/1.1\r\nhost: " + host + "\r\nupgrade: websocket\r\nconnection: Upgrade\r\n" +
		"sec-websocket-key: " + key + "\r\nsec-websocket-version: 13\r\n\r\n"
	if _, err := nc.Write([]byte(req)); err != nil {
		nc.Close()
		return nil, nil, err
	}
	br := bufio.NewReaderSize(nc, bufSize)
	tp := textproto.NewReader(br)
	status, err := tp.ReadLine()
	if err == nil && !strings.HasPrefix(status, "HTTP/1.1 101 ") {
		err = fmt.Errorf("handshake answered %q", status)
	}
	var mh textproto.MIMEHeader
	if err == nil {
		mh, err = tp.ReadMIMEHeader()
	}
	if err == nil && mh.Get("Sec-Websocket-Accept") != websocket.AcceptKey(key) {
		err = fmt.Errorf("sec-websocket-accept %q, want %q", mh.Get("Sec-Websocket-Accept"), websocket.AcceptKey(key))
	}
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	_ = nc.SetDeadline(time.Time{})
	return nc, websocket.NewConn(br, nc, websocket.Options{Client: true}), nil
}
