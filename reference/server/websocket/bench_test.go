//go:build unix

package websocket_test

// Benchmarks of the frame layer. They chose the codec: commit 465c2bf ran
// them against github.com/gobwas/ws as well ("gobwas-frame",
// "gobwas-wsutil"), and docs/performance.md, "WebSocket codec", has the
// numbers; the sub-benchmarks keep the name "own" so that a run compares
// with that table (benchstat too):
//
//	go test -run '^$' -bench . -benchmem -count 10 ./reference/server/websocket/

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

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
	}
}

// BenchmarkEcho is one round trip of a 1 KiB text message over loopback
// TCP: the benchmark's goroutine writes a masked client frame (prebuilt
// bytes) and reads the echo; the server end reads the message and writes it
// back with a Conn.
func BenchmarkEcho(b *testing.B) {
	const size = 1 << 10
	frame := client(fin|byte(websocket.OpText), payloadOf(size))
	echoLen := 4 + size // 2-byte header, 2-byte extended length
	b.Run("text-1KiB/own", func(b *testing.B) {
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
			c := websocket.NewConn(nc, nc, websocket.Options{})
			for {
				op, p, err := c.ReadMessage()
				if err != nil || c.WriteMessage(op, p) != nil {
					return
				}
			}
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
