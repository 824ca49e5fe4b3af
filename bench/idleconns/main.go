// Command idleconns holds many idle keep-alive connections open on a server,
// so that bench/run can read the server's memory with them open.
//
//	idleconns -addr HOST:PORT [-n 10000] [-parallel 64] [-hold 60s] [-timeout 120s]
//	          [-path /] [-stream]
//
// It opens n connections (parallel at a time), sends one GET of path on
// each and reads the whole response (it must be a 200 that keeps the
// connection open), then prints "ready N" and keeps every connection open,
// idle, until it gets SIGINT or SIGTERM or hold has passed. With -stream the
// response is one that goes on (bench/apps/sleeper.lua): it reads the head
// and the first line of the body, and leaves the rest to the kernel's
// buffers.
// Any failure is printed with the count reached and exits 1. The process
// needs n file descriptors: raise `ulimit -n` first.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	addr := flag.String("addr", "", "server address, HOST:PORT")
	n := flag.Int("n", 10000, "connections to open")
	parallel := flag.Int("parallel", 64, "connections being opened at once")
	hold := flag.Duration("hold", 60*time.Second, "longest time to keep the connections open once ready")
	timeout := flag.Duration("timeout", 120*time.Second, "longest time to get all connections ready")
	path := flag.String("path", "/", "request target of the GET")
	stream := flag.Bool("stream", false, "the response goes on: read its head and first line only")
	flag.Parse()
	if *addr == "" || *n < 1 || *parallel < 1 {
		flag.Usage()
		os.Exit(2)
	}

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	conns := make([]net.Conn, *n)
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}()

	start := time.Now()
	var next atomic.Int64
	var firstErr error
	var errOnce sync.Once
	var wg sync.WaitGroup
	for range *parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= *n || ctx.Err() != nil {
					return
				}
				c, err := open(ctx, *addr, *path, *stream)
				if err != nil {
					errOnce.Do(func() { firstErr = fmt.Errorf("connection %d: %w", i, err) })
					cancel()
					return
				}
				conns[i] = c
			}
		}()
	}
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		firstErr = fmt.Errorf("not ready within %v", *timeout)
	}
	if firstErr != nil {
		opened := 0
		for _, c := range conns {
			if c != nil {
				opened++
			}
		}
		fmt.Fprintf(os.Stderr, "idleconns: %d of %d connections ready; %v\n", opened, *n, firstErr)
		os.Exit(1)
	}
	fmt.Printf("ready %d (in %.1fs)\n", *n, time.Since(start).Seconds())

	// Hold them, idle, until told to stop.
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	select {
	case <-stop:
	case <-time.After(*hold):
	}
}

// open dials addr, sends one keep-alive GET of path and reads the response
// whole, or with stream its head and first body line.
func open(ctx context.Context, addr, path string, stream bool) (net.Conn, error) {
	d := net.Dialer{Timeout: 10 * time.Second}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: bench\r\n\r\n"); err != nil {
		c.Close()
		return nil, err
	}
	res, err := http.ReadResponse(bufio.NewReaderSize(c, 512), &http.Request{Method: "GET"})
	if err == nil && stream {
		if _, err = bufio.NewReader(res.Body).ReadString('\n'); err == nil && res.StatusCode != 200 {
			err = errors.New("want a 200, got " + res.Status)
		}
	} else if err == nil {
		_, err = io.Copy(io.Discard, res.Body)
		if err == nil && (res.StatusCode != 200 || res.Close) {
			err = errors.New("want a 200 that keeps the connection open, got " + res.Status)
		}
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	c.SetDeadline(time.Time{})
	return c, nil
}
