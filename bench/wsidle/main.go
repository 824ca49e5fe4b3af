// Command wsidle holds many idle WebSocket connections open on a loopback
// server and reads the server's memory with them open: the measurement
// behind docs/performance.md's "10,000 idle WebSockets".
//
//	wsidle -url ws://127.0.0.1:PORT/ [-n 10000] [-pid PID] [-settle 5s] [-check] [-hold 0s] [-parallel 64]
//
// It opens -n connections (-parallel handshakes at a time), each with the
// opening handshake done by reference/server/websocket in client mode, as
// bench/wsload does, and then idle: one reader goroutine per connection sits
// in ReadMessage, which answers the server's pings. Once all are open and
// -settle has passed it prints the server's VmRSS from /proc/PID/status, in
// all and per connection (over the RSS read before the first connection),
// its open file descriptors and threads, and how long opening took. With
// -check it then sends one text message on every connection and checks that
// the same text comes back, and reads the RSS again; -hold keeps the
// connections open a while longer (to take a profile). Last it closes
// every connection with a close frame and counts the ones the server
// answered.
//
// -n 0 reads the server's RSS with no connection (the baseline). Without
// -pid nothing is read from /proc. It raises its own RLIMIT_NOFILE to the
// hard limit and says so when that is too low for -n; it refuses a target
// that is not a loopback address.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/lasgi/lasgi/bench/internal/wsclient"
	"github.com/lasgi/lasgi/reference/server/websocket"
)

func main() {
	target := flag.String("url", "", "ws://127.0.0.1:PORT/PATH of the server (loopback only)")
	n := flag.Int("n", 10000, "connections to open and hold idle (0: only read the server's RSS)")
	pid := flag.Int("pid", 0, "the server's process id, to read its RSS, fds and threads from /proc")
	settle := flag.Duration("settle", 5*time.Second, "time to wait after the last connection opened before reading the RSS")
	check := flag.Bool("check", false, "after the reading, send one message on every connection and check its echo")
	parallel := flag.Int("parallel", 64, "handshakes in flight at once")
	hold := flag.Duration("hold", 0, "time to keep the connections open after the check, before closing (for a profile)")
	flag.Parse()
	if err := run(*target, *n, *pid, *settle, *check, *parallel, *hold); err != nil {
		fmt.Fprintln(os.Stderr, "wsidle:", err)
		os.Exit(1)
	}
}

// client is one idle connection: its reader goroutine delivers each message
// on msgs and closes done with the error that ended reading.
type client struct {
	nc   net.Conn
	c    *websocket.Conn
	msgs chan []byte
	done chan struct{}
	err  error // valid once done is closed
}

func run(target string, n, pid int, settle time.Duration, check bool, parallel int, hold time.Duration) error {
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "ws" || u.Host == "" {
		return fmt.Errorf("-url %q: want ws://HOST:PORT/PATH", target)
	}
	addr, err := net.ResolveTCPAddr("tcp", u.Host)
	if err != nil {
		return err
	}
	if !addr.IP.IsLoopback() {
		return fmt.Errorf("-url %q: %s is not a loopback address, and wsidle loads only loopback servers", target, addr.IP)
	}
	if n < 0 || parallel < 1 {
		return errors.New("-n must be at least 0, -parallel at least 1")
	}
	raiseNofile(n)
	if pid != 0 {
		if lim, err := procLimit(pid, "Max open files"); err == nil {
			fmt.Printf("server pid %d: open files limit %s\n", pid, lim)
			if soft, err := strconv.Atoi(strings.Fields(lim)[0]); err == nil && soft < n+64 {
				fmt.Printf("WARNING: the server's open files limit %d is too low for %d connections\n", soft, n)
			}
		}
	}
	base, err := status(pid)
	if err != nil {
		return err
	}
	if pid != 0 {
		fmt.Printf("before: RSS %.1f MB, %d fds, %d threads\n", mb(base.rss), base.fds, base.threads)
	}
	if n == 0 {
		return nil
	}

	// Open them all, parallel handshakes at a time.
	clients := make([]*client, n)
	var next atomic.Int64
	var firstErr error
	var errOnce sync.Once
	start := time.Now()
	var wg sync.WaitGroup
	for range min(parallel, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				cl, err := dial(addr.String(), u.Host, u.RequestURI())
				if err != nil {
					errOnce.Do(func() { firstErr = fmt.Errorf("connection %d: %w", i+1, err) })
					next.Store(int64(n)) // stop the others
					return
				}
				clients[i] = cl
				go cl.read()
			}
		})
	}
	wg.Wait()
	opening := time.Since(start)
	defer func() {
		for _, cl := range clients {
			if cl != nil {
				cl.nc.Close()
			}
		}
	}()
	open := 0
	for _, cl := range clients {
		if cl != nil {
			open++
		}
	}
	if firstErr != nil {
		return fmt.Errorf("%d of %d connections opened, then %w", open, n, firstErr)
	}
	fmt.Printf("opened %d connections in %.2f s (%.0f handshakes/s)\n", n, opening.Seconds(), float64(n)/opening.Seconds())

	time.Sleep(settle)
	lost := 0
	for _, cl := range clients {
		select {
		case <-cl.done:
			lost++
		default:
		}
	}
	fmt.Printf("after %v idle: %d connections open, %d ended by the server\n", settle, n-lost, lost)
	if pid != 0 {
		st, err := status(pid)
		if err != nil {
			return err
		}
		fmt.Printf("with them open: RSS %.1f MB (peak %.1f MB), %d fds, %d threads\n", mb(st.rss), mb(st.hwm), st.fds, st.threads)
		fmt.Printf("per connection: %.1f KB of RSS over the %.1f MB before\n", float64(st.rss-base.rss)/float64(n)/1000, mb(base.rss))
	}

	if check {
		bad := forEach(clients, parallel, func(i int, cl *client) error {
			msg := []byte("wsidle " + strconv.Itoa(i))
			if err := cl.c.WriteMessage(websocket.OpText, msg); err != nil {
				return err
			}
			select {
			case p := <-cl.msgs:
				if !bytes.Equal(p, msg) {
					return fmt.Errorf("echo %q, want %q", p, msg)
				}
				return nil
			case <-cl.done:
				return cl.err
			case <-time.After(10 * time.Second):
				return errors.New("no echo in 10 s")
			}
		})
		fmt.Printf("check: %d of %d connections echoed their message\n", n-bad, n)
		if pid != 0 {
			if st, err := status(pid); err == nil {
				fmt.Printf("after the check: RSS %.1f MB\n", mb(st.rss))
			}
		}
	}
	time.Sleep(hold)

	bad := forEach(clients, parallel, func(i int, cl *client) error {
		_ = cl.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if err := cl.c.WriteClose(websocket.CloseNormal, ""); err != nil {
			return err
		}
		select {
		case <-cl.done:
			if !errors.As(cl.err, new(*websocket.CloseError)) {
				return fmt.Errorf("closing: %w", cl.err)
			}
			return nil
		case <-time.After(5 * time.Second):
			return errors.New("no close frame back in 5 s")
		}
	})
	fmt.Printf("closed: %d of %d answered the close frame\n", n-bad, n)
	if pid != 0 {
		time.Sleep(time.Second)
		if st, err := status(pid); err == nil {
			fmt.Printf("1 s after closing: RSS %.1f MB, %d fds, %d threads\n", mb(st.rss), st.fds, st.threads)
		}
	}
	if bad > 0 {
		return fmt.Errorf("%d connections did not close cleanly", bad)
	}
	return nil
}

// read is the connection's reader: ReadMessage answers the server's pings
// while the connection idles.
func (cl *client) read() {
	defer close(cl.done)
	for {
		_, p, err := cl.c.ReadMessage()
		if err != nil {
			cl.err = err
			return
		}
		select {
		case cl.msgs <- bytes.Clone(p):
		default: // nobody asked for it: drop it
		}
	}
}

// forEach runs f on every client, parallel at a time, prints the first
// failures and returns how many failed.
func forEach(clients []*client, parallel int, f func(int, *client) error) int {
	var next, bad atomic.Int64
	var wg sync.WaitGroup
	for range min(parallel, len(clients)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(clients) {
					return
				}
				if err := f(i, clients[i]); err != nil {
					if bad.Add(1) <= 5 {
						fmt.Fprintf(os.Stderr, "wsidle: connection %d: %v\n", i+1, err)
					}
				}
			}
		})
	}
	wg.Wait()
	return int(bad.Load())
}

// dial opens a connection and does the opening handshake.
func dial(addr, host, path string) (*client, error) {
	nc, c, err := wsclient.Dial(addr, host, path, 10*time.Second, 512)
	if err != nil {
		return nil, err
	}
	return &client{nc: nc, c: c, msgs: make(chan []byte, 1), done: make(chan struct{})}, nil
}

// raiseNofile lifts this process's open files limit to the hard limit and
// says so when even that is too low for n connections.
func raiseNofile(n int) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		fmt.Fprintln(os.Stderr, "wsidle: getrlimit:", err)
		return
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			fmt.Fprintln(os.Stderr, "wsidle: setrlimit:", err)
		}
		_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
	if lim.Cur < uint64(n)+64 {
		fmt.Printf("WARNING: wsidle's open files limit is %d (hard %d), too low for %d connections: raise `ulimit -Hn`\n", lim.Cur, lim.Max, n)
	}
}

type procStatus struct {
	rss, hwm     int64 // bytes
	fds, threads int
}

// status reads the process's VmRSS, VmHWM and Threads from
// /proc/PID/status and counts /proc/PID/fd. pid 0 reads nothing.
func status(pid int) (procStatus, error) {
	var st procStatus
	if pid == 0 {
		return st, nil
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return st, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		name, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(val)
		if len(f) == 0 {
			continue
		}
		v, _ := strconv.ParseInt(f[0], 10, 64)
		switch name {
		case "VmRSS":
			st.rss = v * 1024
		case "VmHWM":
			st.hwm = v * 1024
		case "Threads":
			st.threads = int(v)
		}
	}
	if st.rss == 0 {
		return st, fmt.Errorf("/proc/%d/status has no VmRSS", pid)
	}
	if fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid)); err == nil {
		st.fds = len(fds)
	}
	return st, nil
}

// procLimit returns the soft and hard values of one line of
// /proc/PID/limits, "SOFT HARD".
func procLimit(pid int, name string) (string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", pid))
	if err != nil {
		return "", err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, name); ok {
			f := strings.Fields(rest)
			if len(f) >= 2 {
				return f[0] + " " + f[1], nil
			}
		}
	}
	return "", fmt.Errorf("/proc/%d/limits has no %q", pid, name)
}

func mb(b int64) float64 { return float64(b) / 1e6 }
