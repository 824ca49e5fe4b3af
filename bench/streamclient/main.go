// Command streamclient streams a large body through a server hosting
// reference/app/stream.lua and reports the throughput. bench/run uses it for
// the 1 GiB upload and download measurements.
//
//	streamclient -addr HOST:PORT -mode upload|download [-size BYTES] [-timeout 120s]
//
// upload POSTs size bytes to /echo with a content-length, writing the body
// while it reads the echoed response (the app sends each body chunk back as
// it arrives), and discards the response. download GETs /?size=BYTES and
// discards the body. Either way it checks the byte counts and prints one line:
//
//	mode=upload bytes=1073741824 seconds=0.812 MBps=1322.4
//
// where MBps is size / seconds in 10^6 bytes per second, timed from the first
// byte written to the last byte of the response read. It exits 1 on any
// error or short transfer.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"
)

const bufSize = 256 << 10

func main() {
	addr := flag.String("addr", "", "server address, HOST:PORT")
	mode := flag.String("mode", "download", "upload or download")
	size := flag.Int64("size", 1<<30, "bytes to stream")
	timeout := flag.Duration("timeout", 120*time.Second, "deadline for the whole transfer")
	flag.Parse()
	if *addr == "" || (*mode != "upload" && *mode != "download") || *size < 0 {
		flag.Usage()
		os.Exit(2)
	}
	secs, err := run(*addr, *mode, *size, *timeout)
	if err != nil {
		fmt.Fprintf(os.Stderr, "streamclient: %s: %v\n", *mode, err)
		os.Exit(1)
	}
	fmt.Printf("mode=%s bytes=%d seconds=%.3f MBps=%.1f\n", *mode, *size, secs, float64(*size)/secs/1e6)
}

func run(addr, mode string, size int64, timeout time.Duration) (float64, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(timeout)); err != nil {
		return 0, err
	}
	start := time.Now()
	writeErr := make(chan error, 1)
	var head string
	if mode == "upload" {
		head = fmt.Sprintf("POST /echo HTTP/1.1\r\nHost: bench\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n", size)
	} else {
		head = fmt.Sprintf("GET /?size=%d HTTP/1.1\r\nHost: bench\r\n\r\n", size)
	}
	go func() {
		if _, err := io.WriteString(c, head); err != nil {
			writeErr <- err
			return
		}
		if mode == "upload" {
			buf := make([]byte, bufSize)
			for i := range buf {
				buf[i] = 'x'
			}
			for left := size; left > 0; {
				n := min(left, int64(len(buf)))
				if _, err := c.Write(buf[:n]); err != nil {
					writeErr <- err
					return
				}
				left -= n
			}
		}
		writeErr <- nil
	}()

	br := bufio.NewReaderSize(c, bufSize)
	method := "GET"
	if mode == "upload" {
		method = "POST"
	}
	res, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		return 0, fmt.Errorf("reading the response head: %w", err)
	}
	if res.StatusCode != 200 {
		return 0, errors.New("status " + strconv.Itoa(res.StatusCode))
	}
	got, err := io.CopyBuffer(io.Discard, res.Body, make([]byte, bufSize))
	if err != nil {
		return 0, fmt.Errorf("reading the body after %d bytes: %w", got, err)
	}
	secs := time.Since(start).Seconds()
	if err := <-writeErr; err != nil {
		return 0, fmt.Errorf("writing the request: %w", err)
	}
	if got != size {
		return 0, fmt.Errorf("got %d body bytes back, want %d", got, size)
	}
	return secs, nil
}
