//go:build unix

package websocket_test

// Benchmarks of the frame layer, this package ("own") against
// github.com/gobwas/ws ("gobwas-frame": its header functions, Cipher and
// utf8.Valid, the least a server on gobwas would run; "gobwas-wsutil": its
// message-level wsutil helpers), which chose the codec (docs/performance.md,
// "WebSocket codec"):
//
//	go test -run '^$' -bench . -benchmem ./reference/server/websocket/

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/lasgi/lasgi/reference/server/websocket"
)

// cpuPerOp reports, when the returned func is called after the loop, the
// process's CPU time (user and system) per op as cpu-ns/op: on a machine
// busy with other work the wall time per op swings with what else runs,
// the CPU time much less. For the echo it is both ends' time.
func cpuPerOp(b *testing.B) func() {
	start := cpuTime()
	return func() { b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op") }
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// repeatReader reads the same bytes over and over.
type repeatReader struct {
	data []byte
	off  int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		k := copy(p[n:], r.data[r.off:])
		n += k
		r.off = (r.off + k) % len(r.data)
	}
	return n, nil
}

// readWriter is a reader and a writer as one io.ReadWriter (wsutil's
// helpers want one, to answer control frames).
type readWriter struct {
	io.Reader
	io.Writer
}

var benchFrames = []struct {
	name string
	op   websocket.Opcode
	size int
}{
	{"text-1KiB", websocket.OpText, 1 << 10},
	{"binary-64KiB", websocket.OpBinary, 64 << 10},
}

func payloadOf(size int) []byte { return bytes.Repeat([]byte("0123456789abcdef"), size/16) }

// BenchmarkRead reads one masked client frame per op.
func BenchmarkRead(b *testing.B) {
	for _, bf := range benchFrames {
		frame := client(fin|byte(bf.op), payloadOf(bf.size))
		b.Run(bf.name+"/own", func(b *testing.B) {
			c := websocket.NewConn(bufio.NewReader(&repeatReader{data: frame}), io.Discard, websocket.Options{})
			b.SetBytes(int64(bf.size))
			b.ReportAllocs()
			cpu := cpuPerOp(b)
			for b.Loop() {
				if _, p, err := c.ReadMessage(); err != nil || len(p) != bf.size {
					b.Fatal(len(p), err)
				}
			}
			cpu()
		})
		b.Run(bf.name+"/gobwas-frame", func(b *testing.B) {
			br := bufio.NewReader(&repeatReader{data: frame})
			hbuf := make([]byte, ws.MaxHeaderSize)
			buf := make([]byte, 0, bf.size)
			b.SetBytes(int64(bf.size))
			b.ReportAllocs()
			cpu := cpuPerOp(b)
			for b.Loop() {
				h, err := ws.ReadHeaderBuffer(br, hbuf)
				if err != nil {
					b.Fatal(err)
				}
				p := buf[:h.Length]
				if _, err := io.ReadFull(br, p); err != nil {
					b.Fatal(err)
				}
				ws.Cipher(p, h.Mask, 0)
				if h.OpCode == ws.OpText && !utf8.Valid(p) {
					b.Fatal("not UTF-8")
				}
			}
			cpu()
		})
		b.Run(bf.name+"/gobwas-wsutil", func(b *testing.B) {
			rw := readWriter{bufio.NewReader(&repeatReader{data: frame}), io.Discard}
			b.SetBytes(int64(bf.size))
			b.ReportAllocs()
			cpu := cpuPerOp(b)
			for b.Loop() {
				if p, _, err := wsutil.ReadClientData(rw); err != nil || len(p) != bf.size {
					b.Fatal(len(p), err)
				}
			}
			cpu()
		})
	}
}

// BenchmarkWrite writes one unmasked server frame per op.
func BenchmarkWrite(b *testing.B) {
	for _, bf := range benchFrames {
		payload := payloadOf(bf.size)
		b.Run(bf.name+"/own", func(b *testing.B) {
			c := websocket.NewConn(bytes.NewReader(nil), io.Discard, websocket.Options{})
			b.SetBytes(int64(bf.size))
			b.ReportAllocs()
			cpu := cpuPerOp(b)
			for b.Loop() {
				if err := c.WriteMessage(bf.op, payload); err != nil {
					b.Fatal(err)
				}
			}
			cpu()
		})
		// As a server on gobwas would write: the header and payload through
		// a bufio.Writer, so that a frame is one Write as with own, and text
		// checked for UTF-8 (spec rule websocket.send.text-type), as own does.
		b.Run(bf.name+"/gobwas-frame", func(b *testing.B) {
			bw := bufio.NewWriterSize(io.Discard, 4096)
			hbuf := make([]byte, ws.MaxHeaderSize)
			h := ws.Header{Fin: true, OpCode: ws.OpCode(bf.op), Length: int64(bf.size)}
			b.SetBytes(int64(bf.size))
			b.ReportAllocs()
			cpu := cpuPerOp(b)
			for b.Loop() {
				if h.OpCode == ws.OpText && !utf8.Valid(payload) {
					b.Fatal("not UTF-8")
				}
				if err := ws.WriteHeaderBuffer(bw, h, hbuf); err != nil {
					b.Fatal(err)
				}
				bw.Write(payload)
				if err := bw.Flush(); err != nil {
					b.Fatal(err)
				}
			}
			cpu()
		})
		b.Run(bf.name+"/gobwas-wsutil", func(b *testing.B) {
			b.SetBytes(int64(bf.size))
			b.ReportAllocs()
			cpu := cpuPerOp(b)
			for b.Loop() {
				if err := wsutil.WriteServerMessage(io.Discard, ws.OpCode(bf.op), payload); err != nil {
					b.Fatal(err)
				}
			}
			cpu()
		})
	}
}

// BenchmarkEcho is one round trip of a 1 KiB text message over loopback
// TCP: the benchmark's goroutine writes a masked client frame (prebuilt
// bytes, the same for every codec) and reads the echo; the server end reads
// the message and writes it back with the codec under test.
func BenchmarkEcho(b *testing.B) {
	const size = 1 << 10
	frame := client(fin|byte(websocket.OpText), payloadOf(size))
	echoLen := 4 + size // 2-byte header, 2-byte extended length
	servers := map[string]func(net.Conn){
		"own": func(nc net.Conn) {
			c := websocket.NewConn(nc, nc, websocket.Options{})
			for {
				op, p, err := c.ReadMessage()
				if err != nil {
					return
				}
				if c.WriteMessage(op, p) != nil {
					return
				}
			}
		},
		"gobwas-frame": func(nc net.Conn) {
			br, bw := bufio.NewReader(nc), bufio.NewWriter(nc)
			hbuf, wbuf := make([]byte, ws.MaxHeaderSize), make([]byte, ws.MaxHeaderSize)
			buf := make([]byte, 64<<10)
			for {
				h, err := ws.ReadHeaderBuffer(br, hbuf)
				if err != nil {
					return
				}
				p := buf[:h.Length]
				if _, err := io.ReadFull(br, p); err != nil {
					return
				}
				ws.Cipher(p, h.Mask, 0)
				if h.OpCode == ws.OpText && !utf8.Valid(p) {
					return
				}
				out := ws.Header{Fin: true, OpCode: h.OpCode, Length: h.Length}
				if ws.WriteHeaderBuffer(bw, out, wbuf) != nil {
					return
				}
				bw.Write(p)
				if bw.Flush() != nil {
					return
				}
			}
		},
		"gobwas-wsutil": func(nc net.Conn) {
			rw := readWriter{bufio.NewReader(nc), nc}
			bw := bufio.NewWriter(nc)
			for {
				p, op, err := wsutil.ReadClientData(rw)
				if err != nil {
					return
				}
				if wsutil.WriteServerMessage(bw, op, p) != nil || bw.Flush() != nil {
					return
				}
			}
		},
	}
	for _, name := range []string{"own", "gobwas-frame", "gobwas-wsutil"} {
		b.Run("text-1KiB/"+name, func(b *testing.B) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			defer ln.Close()
			done := make(chan struct{})
			go func() {
				defer close(done)
				nc, err := ln.Accept()
				if err != nil {
					return
				}
				defer nc.Close()
				servers[name](nc)
			}()
			nc, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			echo := make([]byte, echoLen)
			b.SetBytes(size)
			b.ReportAllocs()
			cpu := cpuPerOp(b)
			for b.Loop() {
				if _, err := nc.Write(frame); err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(nc, echo); err != nil {
					b.Fatal(err)
				}
			}
			cpu()
			nc.Close()
			<-done
		})
	}
}
