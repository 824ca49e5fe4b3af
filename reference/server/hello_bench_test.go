package server_test

// Benchmarks of the whole reference server over loopback: per-request cost
// of a hello app (one keep-alive connection, one request per op, and 64
// connections in parallel like bench/run's wrk), and streaming throughput
// through receive()/send(). Run them with
//
//	go test -run '^$' -bench . -benchmem ./reference/server/...
//
// The client and the server share the process, so ns/op, B/op and allocs/op
// include the client's small part: a raw HTTP/1.1 client that reuses its
// buffers (see benchClient). docs/performance.md has numbers and a profile.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lasgi/lasgi/reference/app"
	"github.com/lasgi/lasgi/reference/server"
	"github.com/lasgi/lasgi/reference/server/gopherlua"
	"github.com/lasgi/lasgi/reference/server/servertest"
)

// benchDeadline bounds every network step of a benchmark.
const benchDeadline = 10 * time.Second

// benchStart serves the reference app name (reference/app) on a free
// loopback port with workers Lua workers (0: one per CPU, as lasgi-serve).
// The server stops when the benchmark ends.
func benchStart(b *testing.B, name string, workers int, cfg server.Config) string {
	b.Helper()
	src, err := app.Source(name)
	if err != nil {
		b.Fatal(err)
	}
	s, err := servertest.Start(name, src, gopherlua.Options{Workers: workers}, cfg, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := s.Stop(); err != nil {
			b.Error(err)
		}
		if log := s.Log.String(); log != "" {
			b.Logf("server log (%d lines), first line: %s", strings.Count(log, "\n"), strings.SplitN(log, "\n", 2)[0])
		}
	})
	return s.Addr
}

// benchClient is a keep-alive HTTP/1.1 client on one raw connection that
// allocates nothing per request: it writes a fixed request and reads the
// response head and body (content-length or chunked) into reused buffers.
type benchClient struct {
	c   net.Conn
	br  *bufio.Reader
	req []byte
}

func benchDial(b *testing.B, addr, req string) *benchClient {
	b.Helper()
	c, err := net.DialTimeout("tcp", addr, benchDeadline)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	return &benchClient{c: c, br: bufio.NewReaderSize(c, 64<<10), req: []byte(req)}
}

// do sends the request and reads the whole response; it returns the status
// and the number of body bytes.
func (k *benchClient) do() (status int, n int64, err error) {
	if err := k.c.SetDeadline(time.Now().Add(benchDeadline)); err != nil {
		return 0, 0, err
	}
	if _, err := k.c.Write(k.req); err != nil {
		return 0, 0, err
	}
	return k.read()
}

var (
	benchCRLF          = []byte("\r\n")
	benchContentLength = []byte("content-length:")
	benchChunked       = []byte("transfer-encoding: chunked")
)

// read reads one response: status line, headers, body.
func (k *benchClient) read() (status int, n int64, err error) {
	line, err := k.br.ReadSlice('\n')
	if err != nil {
		return 0, 0, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return 0, 0, fmt.Errorf("bad status line %q", line)
	}
	status = int(line[9]-'0')*100 + int(line[10]-'0')*10 + int(line[11]-'0')
	length, chunked := int64(-1), false
	for {
		line, err = k.br.ReadSlice('\n')
		if err != nil {
			return status, 0, err
		}
		if bytes.Equal(line, benchCRLF) {
			break
		}
		h := bytes.TrimRight(line, "\r\n")
		switch {
		case len(h) > len(benchContentLength) && bytes.EqualFold(h[:len(benchContentLength)], benchContentLength):
			length, err = strconv.ParseInt(string(bytes.TrimSpace(h[len(benchContentLength):])), 10, 64)
			if err != nil {
				return status, 0, err
			}
		case bytes.EqualFold(h, benchChunked):
			chunked = true
		}
	}
	switch {
	case chunked:
		for {
			line, err = k.br.ReadSlice('\n')
			if err != nil {
				return status, n, err
			}
			size, err := strconv.ParseInt(string(bytes.TrimRight(line, "\r\n")), 16, 64)
			if err != nil {
				return status, n, err
			}
			if _, err := k.br.Discard(int(size) + 2); err != nil { // data and CRLF
				return status, n, err
			}
			n += size
			if size == 0 {
				return status, n, nil
			}
		}
	case length >= 0:
		d, err := k.br.Discard(int(length))
		return status, int64(d), err
	default:
		return status, 0, errors.New("response without a length")
	}
}

const benchHelloRequest = "GET / HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\r\n" // what wrk sends

func benchHelloOnce(k *benchClient) error {
	status, n, err := k.do()
	if err == nil && (status != 200 || n != int64(len("Hello World!"))) {
		err = fmt.Errorf("got status %d with %d body bytes", status, n)
	}
	return err
}

// BenchmarkHello is one hello.lua request per op on one keep-alive
// connection: the full path through the HTTP side, the bridge and the Lua
// engine, without concurrency.
func BenchmarkHello(b *testing.B) {
	addr := benchStart(b, "hello.lua", 0, server.Config{})
	k := benchDial(b, addr, benchHelloRequest)
	b.ReportAllocs()
	for b.Loop() {
		if err := benchHelloOnce(k); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHelloParallel keeps 32 connections per CPU busy (64 on two
// CPUs, like bench/run's wrk -c64), one hello.lua request per op.
func BenchmarkHelloParallel(b *testing.B) {
	addr := benchStart(b, "hello.lua", 0, server.Config{})
	b.ReportAllocs()
	b.SetParallelism(32)
	b.RunParallel(func(pb *testing.PB) {
		c, err := net.DialTimeout("tcp", addr, benchDeadline)
		if err != nil {
			b.Error(err)
			return
		}
		defer c.Close()
		k := &benchClient{c: c, br: bufio.NewReaderSize(c, 4<<10), req: []byte(benchHelloRequest)}
		for pb.Next() {
			if err := benchHelloOnce(k); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// benchStreamSize is the body size of one streaming op.
const benchStreamSize = 4 << 20

// benchStream runs one streaming exchange per op on a keep-alive connection
// and reports MB/s of body. A response the server cuts off (the connection
// closes before the last chunk) is counted in the cutoffs/op metric and the
// connection dialled again, rather than failing the benchmark: the number
// stays visible and the throughput is still measured. Any other error fails.
func benchStream(b *testing.B, addr, req string, upload bool) {
	k := benchDial(b, addr, req)
	body := []byte(strings.Repeat("x", 256<<10))
	cutoffs := 0
	b.ReportAllocs()
	b.SetBytes(benchStreamSize)
	for b.Loop() {
		if err := k.c.SetDeadline(time.Now().Add(benchDeadline)); err != nil {
			b.Fatal(err)
		}
		// The server echoes an upload while it is still being written: write
		// from another goroutine so that neither side waits for the other.
		wrote := make(chan error, 1)
		go func() {
			_, err := k.c.Write(k.req)
			for left := benchStreamSize; upload && err == nil && left > 0; left -= len(body) {
				_, err = k.c.Write(body[:min(left, len(body))])
			}
			wrote <- err
		}()
		status, n, err := k.read()
		werr := <-wrote
		if err == nil && werr != nil {
			err = werr
		}
		if err != nil && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)) {
			cutoffs++
			k.c.Close()
			k = benchDial(b, addr, req)
			continue
		}
		if err == nil && (status != 200 || n != benchStreamSize) {
			err = fmt.Errorf("got status %d with %d body bytes", status, n)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cutoffs)/float64(b.N), "cutoffs/op")
}

// BenchmarkStreamDownload is one GET /?size=4MiB of stream.lua per op: 64
// send() calls of 64 KiB each, chunked on the wire. MB/s is body bytes.
func BenchmarkStreamDownload(b *testing.B) {
	addr := benchStart(b, "stream.lua", 0, server.Config{})
	benchStream(b, addr, fmt.Sprintf("GET /?size=%d HTTP/1.1\r\nHost: bench\r\n\r\n", benchStreamSize), false)
}

// BenchmarkStreamUpload is one POST /echo of 4 MiB to stream.lua per op:
// the body is streamed into receive() in chunks of at most 256 KiB and each
// one is sent straight back. MB/s counts the upload only (the same bytes
// also come back down).
func BenchmarkStreamUpload(b *testing.B) {
	addr := benchStart(b, "stream.lua", 0, server.Config{})
	benchStream(b, addr, fmt.Sprintf("POST /echo HTTP/1.1\r\nHost: bench\r\nContent-Length: %d\r\n\r\n", benchStreamSize), true)
}
