// Command wsload is a WebSocket load generator for loopback servers: -c
// connections, each sending a text message of -size bytes and waiting for
// its echo, over and over for -d seconds. It prints the messages per second
// (round trips, all connections together) and the p50 and p99 latency of a
// round trip. Its client side is reference/server/websocket with
// Options.Client, masking every frame as a browser would.
//
//	wsload -url ws://127.0.0.1:PORT/ [-c 64] [-d 5] [-size 1024]
//
// All connections finish their handshake before the clock starts; each ends
// with a close frame. It refuses a target that is not a loopback address.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/lasgi/lasgi/bench/internal/wsclient"
	"github.com/lasgi/lasgi/reference/server/websocket"
)

func main() {
	target := flag.String("url", "", "ws://127.0.0.1:PORT/PATH of the echo server (loopback only)")
	conns := flag.Int("c", 64, "connections")
	seconds := flag.Float64("d", 5, "seconds to run")
	size := flag.Int("size", 1024, "bytes in each text message")
	flag.Parse()
	if err := run(*target, *conns, time.Duration(*seconds*float64(time.Second)), *size); err != nil {
		fmt.Fprintln(os.Stderr, "wsload:", err)
		os.Exit(1)
	}
}

// worker is one connection's loop and what it measured.
type worker struct {
	nc        net.Conn
	c         *websocket.Conn
	latencies []time.Duration
	err       error
}

func run(target string, conns int, d time.Duration, size int) error {
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "ws" || u.Host == "" {
		return fmt.Errorf("-url %q: want ws://HOST:PORT/PATH", target)
	}
	addr, err := net.ResolveTCPAddr("tcp", u.Host)
	if err != nil {
		return err
	}
	if !addr.IP.IsLoopback() {
		return fmt.Errorf("-url %q: %s is not a loopback address, and wsload loads only loopback servers", target, addr.IP)
	}
	if conns < 1 || size < 0 || d <= 0 {
		return errors.New("-c must be at least 1, -size at least 0, -d more than 0")
	}
	path := u.RequestURI()
	workers := make([]*worker, conns)
	for i := range workers {
		w, err := dial(addr.String(), u.Host, path)
		if err != nil {
			return fmt.Errorf("connection %d: %w", i+1, err)
		}
		defer w.nc.Close()
		workers[i] = w
	}
	payload := bytes.Repeat([]byte("abcdefghijklmnopqrstuvwxyz012345"), size/32+1)[:size]

	start := time.Now()
	end := start.Add(d)
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() { w.loop(payload, end) })
	}
	wg.Wait()
	elapsed := time.Since(start)

	var all []time.Duration
	failed := 0
	for i, w := range workers {
		all = append(all, w.latencies...)
		if w.err != nil {
			failed++
			fmt.Fprintf(os.Stderr, "wsload: connection %d: %v\n", i+1, w.err)
		}
	}
	if len(all) == 0 {
		return errors.New("no message came back")
	}
	slices.Sort(all)
	fmt.Printf("wsload: %d connections, %d-byte text messages, %.1f s against %s\n", conns, size, elapsed.Seconds(), target)
	fmt.Printf("messages/s: %.0f (round trips, %d in all)\n", float64(len(all))/elapsed.Seconds(), len(all))
	fmt.Printf("latency: p50 %.3f ms, p99 %.3f ms, max %.3f ms\n", ms(pct(all, 50)), ms(pct(all, 99)), ms(all[len(all)-1]))
	fmt.Printf("failed connections: %d\n", failed)
	if failed > 0 {
		return fmt.Errorf("%d of %d connections failed", failed, conns)
	}
	return nil
}

// loop sends and waits for echoes until end, then closes.
func (w *worker) loop(payload []byte, end time.Time) {
	w.latencies = make([]time.Duration, 0, 1<<14)
	for {
		t0 := time.Now()
		if !t0.Before(end) {
			break
		}
		if w.err = w.c.WriteMessage(websocket.OpText, payload); w.err != nil {
			return
		}
		op, p, err := w.c.ReadMessage()
		if err != nil {
			w.err = err
			return
		}
		if op != websocket.OpText || !bytes.Equal(p, payload) {
			w.err = fmt.Errorf("echo of %d bytes (%s) differs from the %d bytes sent", len(p), op, len(payload))
			return
		}
		w.latencies = append(w.latencies, time.Since(t0))
	}
	_ = w.nc.SetDeadline(time.Now().Add(2 * time.Second))
	if w.err = w.c.WriteClose(websocket.CloseNormal, ""); w.err != nil {
		return
	}
	if _, _, err := w.c.ReadMessage(); !errors.As(err, new(*websocket.CloseError)) {
		w.err = fmt.Errorf("closing: %w", err)
	}
}

// dial opens a connection and does the opening handshake.
func dial(addr, host, path string) (*worker, error) {
	nc, c, err := wsclient.Dial(addr, host, path, 5*time.Second, 4096)
	if err != nil {
		return nil, err
	}
	return &worker{nc: nc, c: c}, nil
}

func pct(sorted []time.Duration, p int) time.Duration {
	return sorted[min(len(sorted)-1, len(sorted)*p/100)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
