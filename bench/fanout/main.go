// Command fanout measures a chat room's fan-out on a loopback server that
// serves reference/app/ws_chat.lua (every text message a socket sends to
// /room/NAME reaches every socket in that room, itself included): the
// measurement behind docs/performance.md's "Groups: fan-out".
//
//	fanout -addr 127.0.0.1:PORT[,127.0.0.1:PORT2...] [-n 1000] [-room NAME]
//	       [-senders 4] [-d 5s] [-warmup 1s] [-rate 0] [-window 4] [-size 0]
//	       [-pid PID[,PID...]] [-procs 1]
//
// It opens -n WebSockets to ws://ADDR/room/NAME (-parallel handshakes at a
// time), the addresses taken in turn (socket i goes to address i mod their
// number: two processes sharing groups over Redis get half each), then
// waits until the room is full: socket 0 sends a marker every 100 ms until
// one marker has reached every socket. Then -senders sockets (0, 1, ...:
// spread over the addresses the same way) send text messages for -warmup
// and then -d, each message carrying its number, its sender, the sender's
// sequence number and its send time (nanoseconds since an instant of this
// process, read from the monotonic clock), so that the socket that
// receives it takes its delivery latency by subtracting that from its own
// reading (and, by message, the time to its first socket and from its first
// to its last: the fan-out itself). Only the messages sent during -d are in
// the latency figures;
// every message, warm-up too, is counted for the losses.
//
// How fast the senders send:
//
//   - -rate 0 (the default): as fast as the server takes them, with at most
//     -window messages in flight across all senders, a message being in
//     flight until every socket has received it. A message that has not
//     reached every socket 2 s after it was sent stops holding its place (it
//     is counted as given up, and as lost if it never comes).
//   - -rate R: R messages a second in all, each sender on its own schedule
//     (R / senders a second), with no window. A sender that falls behind its
//     schedule sends at once; the latency is taken from the actual send.
//
// -slow K makes the last K sockets slow clients: they stop reading once the
// warm-up starts and read again when the sending ends, so that the server's buffers for them fill and it drops
// messages to them and says so. A message is then in flight until every
// other socket has it, and only the others' deliveries are in the
// latencies and the rates; the losses count every socket.
//
// After the sending it waits up to -drain for every delivery to arrive, then
// sends one end marker from socket 0 and waits for it on every socket, so
// that a "ws_chat.lua: N messages dropped" notice owed to a socket (the app
// sends it before the next message after a drop) arrives too. It reports the
// messages sent, the deliveries (messages x members received), deliveries
// and messages per second, p50/p99/max delivery latency, deliveries lost
// (missing at the end), the dropped notices and the messages they count,
// deliveries out of order or twice, and the CPU used by this process (and
// by each -pid, from /proc/PID/stat, and by the whole machine, from
// /proc/stat, so that other work on it shows) over the sending and the
// drain, in cores and as a share of the machine's CPUs. The last line is the same as
// key=value pairs, for scripts ("result: ..."; pids_cores is the -pid
// processes together, pid_cores each of them, colon-separated).
//
// The client runs on one P (-procs 1) unless told otherwise: it needs less
// than a core, and on the 2-core machine it took about a quarter less CPU
// per delivery so than with one P per CPU (fewer thread wake-ups), which
// leaves the servers more.
//
// Every step has a deadline (-connect-timeout, -fill-timeout, -drain, 5 s
// for the end marker and the closing); a server that is not there, a
// handshake refused, a socket the server closes, or a room that never
// fills ends it with a message on stderr and exit code 1. It raises its own
// RLIMIT_NOFILE to the hard limit, and refuses an address that is not
// loopback.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/lasgi/lasgi/bench/internal/wsclient"
	"github.com/lasgi/lasgi/reference/server/websocket"
)

type config struct {
	addrs          []string
	n              int
	room           string
	senders        int
	d, warmup      time.Duration
	rate           float64
	window         int
	size           int
	drain          time.Duration
	connectTimeout time.Duration
	fillTimeout    time.Duration
	parallel       int
	maxMessages    int
	slow           int
	pids           []int
}

func main() {
	var cfg config
	addrs := flag.String("addr", "", "HOST:PORT of the server(s) serving ws_chat.lua, comma-separated; sockets go to them in turn (loopback only)")
	flag.IntVar(&cfg.n, "n", 1000, "sockets in the room")
	flag.StringVar(&cfg.room, "room", "", "the room's name (default fanout-PID-TIME, a new room each run)")
	flag.IntVar(&cfg.senders, "senders", 4, "sockets that send (the first ones)")
	flag.DurationVar(&cfg.d, "d", 5*time.Second, "how long the measured sending lasts")
	flag.DurationVar(&cfg.warmup, "warmup", time.Second, "sending before the measured part (counted for losses, not for latency)")
	flag.Float64Var(&cfg.rate, "rate", 0, "messages a second in all; 0: as fast as the server takes them, -window in flight")
	flag.IntVar(&cfg.window, "window", 4, "with -rate 0: most messages in flight at once (sent, not yet received by every socket)")
	flag.IntVar(&cfg.size, "size", 0, "bytes of padding added to each message (about 40 bytes without)")
	flag.DurationVar(&cfg.drain, "drain", 5*time.Second, "longest wait, after the sending, for the deliveries still due")
	flag.DurationVar(&cfg.connectTimeout, "connect-timeout", 60*time.Second, "longest time to open every socket")
	flag.DurationVar(&cfg.fillTimeout, "fill-timeout", 20*time.Second, "longest wait for a marker to reach every socket once they are open")
	flag.IntVar(&cfg.parallel, "parallel", 64, "handshakes in flight at once")
	flag.IntVar(&cfg.maxMessages, "max-messages", 1<<20, "most messages sent in all (the senders stop there)")
	pids := flag.String("pid", "", "server process ids, comma-separated, whose CPU to read from /proc")
	flag.IntVar(&cfg.slow, "slow", 0, "sockets (the last ones) that stop reading from the warm-up to the end of the sending: slow clients, to see the server drop messages and tell (with -rate, and -size large enough to fill the socket buffers)")
	procs := flag.Int("procs", 1, "GOMAXPROCS of this client (0: the Go default, one per CPU)")
	flag.Parse()
	if *procs > 0 {
		runtime.GOMAXPROCS(*procs)
	}
	if flag.NArg() > 0 {
		fail(fmt.Errorf("unexpected arguments %q", flag.Args()))
	}
	for a := range strings.SplitSeq(*addrs, ",") {
		if a = strings.TrimSpace(a); a != "" {
			cfg.addrs = append(cfg.addrs, a)
		}
	}
	for p := range strings.SplitSeq(*pids, ",") {
		if p = strings.TrimSpace(p); p != "" {
			v, err := strconv.Atoi(p)
			if err != nil || v <= 0 {
				fail(fmt.Errorf("-pid %q: want process ids", *pids))
			}
			cfg.pids = append(cfg.pids, v)
		}
	}
	if cfg.room == "" {
		cfg.room = fmt.Sprintf("fanout-%d-%d", os.Getpid(), time.Now().Unix()%100000)
	}
	if err := run(cfg); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "fanout:", err)
	os.Exit(1)
}

// base is the instant every time in a message is counted from.
var base = time.Now()

func now() int64 { return int64(time.Since(base)) }

// msgState is one message's deliveries so far; done once every socket has
// it or its sender gave up waiting (then its window place is free).
type msgState struct {
	count    atomic.Int32
	done     atomic.Bool
	measured atomic.Bool  // sent in the measured part
	sentAt   atomic.Int64 // ns since base, as the senders and readers count
	first    atomic.Int64 // when the first socket got it
	last     atomic.Int64 // when the last socket but the -slow ones got it
}

// shared is what every socket's reader and the senders share while running.
type shared struct {
	n         int32 // sockets
	fast      int32 // sockets that are not -slow
	states    []msgState
	nextID    atomic.Int64  // messages numbered so far
	completed atomic.Int64  // messages that reached every socket
	fastDone  atomic.Int64  // messages that reached every socket but the -slow ones
	slowGate  chan struct{} // closed when the -slow sockets may read again
	sending   atomic.Bool   // the -slow sockets stop reading once it is set
	tokens    chan struct{}
	markers   [1024]atomic.Int32 // fill markers, by number
	filled    chan struct{}      // closed when a marker reached every socket
	fillOnce  sync.Once
	ends      atomic.Int32 // sockets that got the end marker
	ended     chan struct{}
	endOnce   sync.Once
	failed    atomic.Int32
	firstErr  atomic.Pointer[string]
	stopping  atomic.Bool // closing: read errors are expected now
	measureAt atomic.Int64
}

func (sh *shared) release(id int64) {
	if sh.states[id].done.CompareAndSwap(false, true) && sh.tokens != nil {
		sh.tokens <- struct{}{}
	}
}

// sock is one WebSocket and what its reader counted; the fields are the
// reader's alone until it has returned (doneCh closed).
type sock struct {
	i      int
	nc     net.Conn
	c      *websocket.Conn
	doneCh chan struct{}
	err    error

	lat        []int64 // latency of each measured delivery, ns
	delivered  int64   // deliveries of every message (warm-up too)
	measured   int64   // deliveries of measured messages
	lastAt     int64   // when the last measured message came
	disorder   int64   // a sender's message at or below one already received from it
	notices    int64   // "N messages dropped" notices
	dropped    int64   // the N of those notices
	others     int64   // any other message
	otherText  string  // the first of those
	lastSeq    []int64 // by sender
	slow       bool    // a -slow socket: stops reading while the senders send, and its latencies are left out
	sawEnd     bool
	markerSeen int64
}

func run(cfg config) error {
	if len(cfg.addrs) == 0 {
		return errors.New("-addr is required: HOST:PORT of a server serving reference/app/ws_chat.lua")
	}
	for _, a := range cfg.addrs {
		ta, err := net.ResolveTCPAddr("tcp", a)
		if err != nil {
			return fmt.Errorf("-addr %q: %w", a, err)
		}
		if !ta.IP.IsLoopback() {
			return fmt.Errorf("-addr %q: %s is not a loopback address, and fanout loads only loopback servers", a, ta.IP)
		}
	}
	switch {
	case cfg.n < 1:
		return errors.New("-n must be at least 1")
	case cfg.senders < 1 || cfg.senders > cfg.n:
		return fmt.Errorf("-senders must be 1 to -n (%d)", cfg.n)
	case cfg.d <= 0 || cfg.warmup < 0:
		return errors.New("-d must be more than 0, -warmup at least 0")
	case cfg.rate < 0 || (cfg.rate == 0 && cfg.window < 1):
		return errors.New("-rate must be at least 0, and -window at least 1 with -rate 0")
	case cfg.size < 0 || cfg.parallel < 1 || cfg.maxMessages < 1:
		return errors.New("-size must be at least 0, -parallel and -max-messages at least 1")
	case cfg.n > 1<<31-1:
		return errors.New("-n is too large")
	case cfg.slow < 0 || cfg.slow > cfg.n-cfg.senders:
		return fmt.Errorf("-slow must be 0 to -n less -senders (%d)", cfg.n-cfg.senders)
	}
	raiseNofile(cfg.n)
	path := "/room/" + cfg.room

	sh := &shared{
		n:        int32(cfg.n),
		fast:     int32(cfg.n - cfg.slow),
		slowGate: make(chan struct{}),
		states:   make([]msgState, cfg.maxMessages),
		filled:   make(chan struct{}),
		ended:    make(chan struct{}),
	}
	if cfg.rate == 0 {
		sh.tokens = make(chan struct{}, cfg.window)
		for range cfg.window {
			sh.tokens <- struct{}{}
		}
	}

	// Open them all, parallel handshakes at a time, within the deadline.
	socks := make([]*sock, cfg.n)
	defer func() {
		for _, s := range socks {
			if s != nil {
				s.nc.Close()
			}
		}
	}()
	t0 := time.Now()
	connectBy := t0.Add(cfg.connectTimeout)
	var next atomic.Int64
	var dialErr atomic.Pointer[string]
	var wg sync.WaitGroup
	for range min(cfg.parallel, cfg.n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= cfg.n {
					return
				}
				left := time.Until(connectBy)
				if left <= 0 {
					msg := fmt.Sprintf("the sockets were not all open within -connect-timeout %v", cfg.connectTimeout)
					dialErr.CompareAndSwap(nil, &msg)
					next.Store(int64(cfg.n))
					return
				}
				addr := cfg.addrs[i%len(cfg.addrs)]
				nc, c, err := wsclient.Dial(addr, addr, path, min(left, 10*time.Second), 4096)
				if err != nil {
					msg := fmt.Sprintf("socket %d to ws://%s%s: %v", i, addr, path, err)
					if strings.Contains(err.Error(), "connection refused") {
						msg += " (is a server listening there?)"
					} else if strings.Contains(err.Error(), " 403 ") {
						msg += " (is it serving reference/app/ws_chat.lua?)"
					}
					dialErr.CompareAndSwap(nil, &msg)
					next.Store(int64(cfg.n)) // stop the others
					return
				}
				s := &sock{i: i, nc: nc, c: c, doneCh: make(chan struct{}), lastSeq: make([]int64, cfg.senders), slow: i >= cfg.n-cfg.slow}
				for k := range s.lastSeq {
					s.lastSeq[k] = -1
				}
				socks[i] = s
				go s.read(sh)
			}
		})
	}
	wg.Wait()
	if e := dialErr.Load(); e != nil {
		open := 0
		for _, s := range socks {
			if s != nil {
				open++
			}
		}
		return fmt.Errorf("%d of %d sockets open, then %s", open, cfg.n, *e)
	}
	opening := time.Since(t0)
	fmt.Printf("fanout: %d sockets to %s (room %q), opened in %.2f s\n", cfg.n, strings.Join(cfg.addrs, ", "), cfg.room, opening.Seconds())

	// Wait until a marker reaches every socket: then every one has joined.
	t1 := time.Now()
	fillBy := t1.Add(cfg.fillTimeout)
	tick := time.NewTicker(100 * time.Millisecond)
	k := 0
	for filled := false; !filled; {
		if err := sh.err(); err != nil {
			tick.Stop()
			return fmt.Errorf("while the room filled: %v", err)
		}
		if time.Now().After(fillBy) || k >= len(sh.markers) {
			tick.Stop()
			best := int32(0)
			for i := range k {
				best = max(best, sh.markers[i].Load())
			}
			return fmt.Errorf("the room never filled: after %v the marker that went furthest reached %d of %d sockets (-fill-timeout)", cfg.fillTimeout, best, cfg.n)
		}
		if err := socks[0].write([]byte("M " + strconv.Itoa(k))); err != nil {
			tick.Stop()
			return fmt.Errorf("socket 0: sending a marker: %w", err)
		}
		k++
		select {
		case <-sh.filled:
			filled = true
		case <-tick.C:
		}
	}
	tick.Stop()
	fmt.Printf("room full after %.2f s (%d markers sent)\n", time.Since(t1).Seconds(), k)

	// Send: warm-up, then the measured part.
	start := time.Now()
	measureAt := start.Add(cfg.warmup)
	stopAt := measureAt.Add(cfg.d)
	sh.measureAt.Store(int64(measureAt.Sub(base)))
	sh.sending.Store(true)
	var sendWG sync.WaitGroup
	senders := make([]*sender, cfg.senders)
	for j := range senders {
		sd := &sender{j: j, s: socks[j], sh: sh, cfg: &cfg}
		senders[j] = sd
		sendWG.Go(func() { sd.loop(start, measureAt, stopAt) })
	}
	time.Sleep(time.Until(measureAt))
	cpu0 := cpuTimes(cfg.pids)
	wall0 := time.Now()
	sendWG.Wait()
	sendEnd := time.Now()
	close(sh.slowGate)
	for _, sd := range senders {
		if sd.err != nil {
			return fmt.Errorf("sender %d (socket %d): %w", sd.j, sd.j, sd.err)
		}
	}
	sent := sh.nextID.Load()

	// Drain: every delivery due, or the deadline.
	drainBy := time.Now().Add(cfg.drain)
	for sh.completed.Load() < sent && time.Now().Before(drainBy) && sh.failed.Load() == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	drained := sh.completed.Load() == sent
	drainTook := time.Since(sendEnd)
	cpu1 := cpuTimes(cfg.pids)
	wall := time.Since(wall0)

	// The end marker brings the dropped notices still owed.
	endOK := false
	if sh.failed.Load() == 0 {
		if err := socks[0].write([]byte("E")); err != nil {
			return fmt.Errorf("socket 0: sending the end marker: %w", err)
		}
		select {
		case <-sh.ended:
			endOK = true
		case <-time.After(5 * time.Second):
		}
	}
	ends := sh.ends.Load()

	// Close every socket (a close frame, 5 s at most for the answers), then
	// the readers' counts are ours to read.
	sh.stopping.Store(true)
	closeBy := time.Now().Add(5 * time.Second)
	for _, s := range socks {
		_ = s.nc.SetWriteDeadline(closeBy)
		_ = s.c.WriteClose(websocket.CloseNormal, "")
	}
	unanswered := 0
	for _, s := range socks {
		select {
		case <-s.doneCh:
		case <-time.After(time.Until(closeBy)):
			unanswered++
			s.nc.Close()
			<-s.doneCh
		}
	}

	var all []int64
	var tot sock
	for _, s := range socks {
		all = append(all, s.lat...)
		tot.delivered += s.delivered
		tot.measured += s.measured
		tot.lastAt = max(tot.lastAt, s.lastAt)
		tot.disorder += s.disorder
		tot.notices += s.notices
		tot.dropped += s.dropped
		tot.others += s.others
		if tot.otherText == "" {
			tot.otherText = s.otherText
		}
	}
	slices.Sort(all)
	var measuredSent, gaveUp int64
	for _, sd := range senders {
		measuredSent += sd.measured
		gaveUp += sd.gaveUp
	}
	n := int64(cfg.n)
	lost := sent*n - tot.delivered
	span := time.Duration(tot.lastAt - int64(measureAt.Sub(base)))
	if span <= 0 {
		span = cfg.d
	}
	mode := fmt.Sprintf("as fast as taken, window %d", cfg.window)
	if cfg.rate > 0 {
		mode = fmt.Sprintf("rate %.0f/s", cfg.rate)
	}
	fmt.Printf("sending: %d senders, %s, %v warm-up + %v measured, about %d-byte messages\n", cfg.senders, mode, cfg.warmup, cfg.d, msgLen(cfg.size))
	fmt.Printf("messages sent: %d measured (%d with the warm-up); %.0f messages/s\n", measuredSent, sent, float64(measuredSent)/cfg.d.Seconds())
	slowNote := ""
	if cfg.slow > 0 {
		slowNote = fmt.Sprintf(" to the %d sockets not -slow", cfg.fast())
	}
	fmt.Printf("deliveries: %d of the measured messages%s (%d expected), %.0f deliveries/s (over %.2f s, to the last delivery)\n",
		tot.measured, slowNote, measuredSent*int64(cfg.fast()), float64(tot.measured)/span.Seconds(), span.Seconds())
	p50, p99, pmax := 0.0, 0.0, 0.0
	if len(all) > 0 {
		p50, p99, pmax = ms(pct(all, 50)), ms(pct(all, 99)), ms(all[len(all)-1])
	}
	fmt.Printf("delivery latency: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", p50, p99, pmax)
	// Where a message's time went: before its first delivery (the server
	// taking it from the sender and starting the fan-out), and from its
	// first to its last (the fan-out itself).
	var toFirst, spread []int64
	for id := range sent {
		st := &sh.states[id]
		if st.measured.Load() && st.first.Load() != 0 && st.last.Load() != 0 {
			toFirst = append(toFirst, st.first.Load()-st.sentAt.Load())
			spread = append(spread, st.last.Load()-st.first.Load())
		}
	}
	slices.Sort(toFirst)
	slices.Sort(spread)
	f50, f99, s50, s99 := 0.0, 0.0, 0.0, 0.0
	if len(toFirst) > 0 {
		f50, f99, s50, s99 = ms(pct(toFirst, 50)), ms(pct(toFirst, 99)), ms(pct(spread, 50)), ms(pct(spread, 99))
	}
	fmt.Printf("by message: to its first socket p50 %.2f ms, p99 %.2f ms; first to last socket p50 %.2f ms, p99 %.2f ms\n", f50, f99, s50, s99)
	switch {
	case sh.failed.Load() > 0:
		fmt.Printf("drain: not waited for, sockets failed\n")
	case drained:
		fmt.Printf("drain: every delivery in, %.2f s after the sending\n", drainTook.Seconds())
	default:
		fmt.Printf("drain: deliveries still missing at the deadline, %.2f s after the sending (-drain)\n", drainTook.Seconds())
	}
	fmt.Printf("lost: %d deliveries of %d (%.4f%%); dropped notices: %d, counting %d; lost without a notice: %d; senders gave up waiting on %d messages\n",
		lost, sent*n, 100*float64(lost)/float64(max(sent*n, 1)), tot.notices, tot.dropped, lost-tot.dropped, gaveUp)
	fmt.Printf("out of order or twice: %d; other messages: %d%s; end marker reached %d of %d sockets; close unanswered: %d\n",
		tot.disorder, tot.others, quoteIf(tot.otherText), ends, cfg.n, unanswered)
	ncpu := runtime.NumCPU()
	self := cpu1[0] - cpu0[0]
	fmt.Printf("CPU over %.2f s (sending and drain), of %d CPUs: fanout %.2f cores (%.0f%% of the machine)",
		wall.Seconds(), ncpu, self.Seconds()/wall.Seconds(), 100*self.Seconds()/wall.Seconds()/float64(ncpu))
	serverCPU := time.Duration(0)
	var perPid []string
	for i, pid := range cfg.pids {
		c := cpu1[i+1] - cpu0[i+1]
		serverCPU += c
		fmt.Printf(", pid %d %.2f cores", pid, c.Seconds()/wall.Seconds())
		perPid = append(perPid, fmt.Sprintf("%.2f", c.Seconds()/wall.Seconds()))
	}
	machine := cpu1[len(cpu1)-1] - cpu0[len(cpu0)-1]
	others := max(0, machine-self-serverCPU) // tick rounding may take it below 0
	fmt.Printf("; the whole machine %.2f cores busy, %.2f of them other processes'\n", machine.Seconds()/wall.Seconds(), others.Seconds()/wall.Seconds())
	if len(perPid) == 0 {
		perPid = []string{"-"}
	}
	fmt.Printf("result: sockets=%d processes=%d senders=%d mode=%s messages=%d deliveries=%d msgs_per_s=%.0f deliveries_per_s=%.0f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f first_p50_ms=%.2f first_p99_ms=%.2f spread_p50_ms=%.2f spread_p99_ms=%.2f lost=%d dropped_notices=%d dropped=%d disorder=%d others=%d client_cores=%.2f pids_cores=%.2f pid_cores=%s other_cores=%.2f drained=%t\n",
		cfg.n, len(cfg.addrs), cfg.senders, strings.ReplaceAll(strings.ReplaceAll(mode, " ", ""), ",", ":"), measuredSent, tot.measured,
		float64(measuredSent)/cfg.d.Seconds(), float64(tot.measured)/span.Seconds(), p50, p99, pmax, f50, f99, s50, s99,
		lost, tot.notices, tot.dropped, tot.disorder, tot.others, self.Seconds()/wall.Seconds(), serverCPU.Seconds()/wall.Seconds(),
		strings.Join(perPid, ":"), others.Seconds()/wall.Seconds(), drained)
	if err := sh.err(); err != nil {
		return err
	}
	if !endOK {
		return fmt.Errorf("the end marker reached only %d of %d sockets within 5 s", ends, cfg.n)
	}
	if measuredSent == 0 {
		return errors.New("no message was sent in the measured part")
	}
	return nil
}

func (cfg *config) fast() int { return cfg.n - cfg.slow }

func quoteIf(s string) string {
	if s == "" {
		return ""
	}
	return " (first: " + strconv.Quote(s) + ")"
}

// err is the first failure a reader saw, if any.
func (sh *shared) err() error {
	if p := sh.firstErr.Load(); p != nil {
		return fmt.Errorf("%s (%d sockets failed)", *p, sh.failed.Load())
	}
	return nil
}

func (s *sock) write(p []byte) error {
	_ = s.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return s.c.WriteMessage(websocket.OpText, p)
}

// read is the socket's reader, until its connection ends.
func (s *sock) read(sh *shared) {
	defer close(s.doneCh)
	dropPrefix := []byte("ws_chat.lua: ")
	for {
		if s.slow && sh.sending.Load() {
			<-sh.slowGate
		}
		op, p, err := s.c.ReadMessage()
		if err != nil {
			s.err = err
			if !sh.stopping.Load() {
				sh.failed.Add(1)
				msg := fmt.Sprintf("socket %d: %v", s.i, err)
				sh.firstErr.CompareAndSwap(nil, &msg)
			}
			return
		}
		at := now()
		if op != websocket.OpText || len(p) == 0 {
			s.other(p)
			continue
		}
		switch p[0] {
		case 'T', 'W': // "T ID SENDER SEQ NS[ padding]"
			f, ok := fields(p[2:])
			if !ok || f[0] >= int64(len(sh.states)) || f[1] >= int64(len(s.lastSeq)) {
				s.other(p)
				continue
			}
			id, from, seq, sentAt := f[0], f[1], f[2], f[3]
			s.delivered++
			if seq <= s.lastSeq[from] {
				s.disorder++
			}
			s.lastSeq[from] = max(s.lastSeq[from], seq)
			if p[0] == 'T' && !s.slow {
				s.measured++
				s.lastAt = at
				s.lat = append(s.lat, at-sentAt)
			}
			st := &sh.states[id]
			c := st.count.Add(1)
			if c == 1 {
				st.first.Store(at)
			}
			if c == sh.fast {
				st.last.Store(at)
				sh.fastDone.Add(1)
				sh.release(id)
			}
			if c == sh.n {
				sh.completed.Add(1)
			}
		case 'M': // "M K"
			k, err := strconv.Atoi(string(p[2:]))
			if err != nil || k < 0 || k >= len(sh.markers) {
				s.other(p)
				continue
			}
			if sh.markers[k].Add(1) == sh.n {
				sh.fillOnce.Do(func() { close(sh.filled) })
			}
		case 'E':
			if !s.sawEnd {
				s.sawEnd = true
				if sh.ends.Add(1) == sh.n {
					sh.endOnce.Do(func() { close(sh.ended) })
				}
			}
		default:
			if rest, ok := bytes.CutPrefix(p, dropPrefix); ok {
				if num, ok := bytes.CutSuffix(rest, []byte(" messages dropped")); ok {
					if v, err := strconv.ParseInt(string(num), 10, 64); err == nil {
						s.notices++
						s.dropped += v
						continue
					}
				}
			}
			s.other(p)
		}
	}
}

func (s *sock) other(p []byte) {
	s.others++
	if s.otherText == "" {
		s.otherText = string(p[:min(len(p), 120)])
	}
}

// fields reads four space-separated decimal numbers from the start of p.
func fields(p []byte) ([4]int64, bool) {
	var f [4]int64
	k, have := 0, false
	for _, b := range p {
		switch {
		case b >= '0' && b <= '9':
			f[k] = f[k]*10 + int64(b-'0')
			have = true
		case b == ' ' && have:
			k++
			have = false
			if k == 4 {
				return f, true
			}
		default:
			return f, false
		}
	}
	return f, have && k == 3
}

// sender is one sending socket's loop.
type sender struct {
	j        int
	s        *sock
	sh       *shared
	cfg      *config
	measured int64
	gaveUp   int64
	err      error
}

// gaveUpMu makes one sender at a time look for messages to give up on.
var (
	gaveUpMu   sync.Mutex
	gaveUpScan int64 // messages before it are done or were looked at
)

const stall = 2 * time.Second

func msgLen(pad int) int { return len("T 1234 0 1234 12345678901") + pad }

func (sd *sender) loop(start, measureAt, stopAt time.Time) {
	sh, cfg := sd.sh, sd.cfg
	buf := make([]byte, 0, 64+cfg.size)
	pad := bytes.Repeat([]byte{'.'}, cfg.size)
	var interval time.Duration
	if cfg.rate > 0 {
		interval = time.Duration(float64(time.Second) * float64(cfg.senders) / cfg.rate)
	}
	for seq := int64(0); ; seq++ {
		if cfg.rate > 0 {
			// The k-th message of sender j is due at start + (k + j/S) * interval.
			due := start.Add(time.Duration(seq)*interval + interval*time.Duration(sd.j)/time.Duration(cfg.senders))
			if !due.Before(stopAt) {
				return
			}
			time.Sleep(time.Until(due))
		} else if !sd.acquire(stopAt) {
			return
		}
		t := time.Now()
		if !t.Before(stopAt) {
			if sh.tokens != nil {
				sh.tokens <- struct{}{}
			}
			return
		}
		id := sh.nextID.Add(1) - 1
		if id >= int64(len(sh.states)) {
			sh.nextID.Add(-1) // not sent: the number is not used (the others stop too)
			return
		}
		phase := byte('W')
		if !t.Before(measureAt) {
			phase = 'T'
			sd.measured++
		}
		at := int64(t.Sub(base))
		sh.states[id].sentAt.Store(at)
		sh.states[id].measured.Store(phase == 'T')
		buf = append(buf[:0], phase, ' ')
		buf = strconv.AppendInt(buf, id, 10)
		buf = append(buf, ' ')
		buf = strconv.AppendInt(buf, int64(sd.j), 10)
		buf = append(buf, ' ')
		buf = strconv.AppendInt(buf, seq, 10)
		buf = append(buf, ' ')
		buf = strconv.AppendInt(buf, at, 10)
		if len(pad) > 0 {
			buf = append(buf, ' ')
			buf = append(buf, pad...)
		}
		if err := sd.s.write(buf); err != nil {
			sd.err = err
			return
		}
	}
}

// acquire takes a window place, giving up on messages stalled for 2 s when
// none comes free; false once stopAt has passed or a socket failed.
func (sd *sender) acquire(stopAt time.Time) bool {
	sh := sd.sh
	for {
		left := time.Until(stopAt)
		if left <= 0 || sh.failed.Load() > 0 {
			return false
		}
		select {
		case <-sh.tokens:
			return true
		case <-time.After(min(left, stall/4)):
		}
		// None free for a while: give up on the messages stalled longest.
		gaveUpMu.Lock()
		sent := sh.nextID.Load()
		cut := now() - int64(stall)
		for gaveUpScan < sent {
			st := &sh.states[gaveUpScan]
			if st.done.Load() {
				gaveUpScan++
				continue
			}
			if st.sentAt.Load() > cut || st.sentAt.Load() == 0 {
				break
			}
			if st.done.CompareAndSwap(false, true) {
				sd.gaveUp++
				sh.tokens <- struct{}{}
			}
			gaveUpScan++
		}
		gaveUpMu.Unlock()
	}
}

// cpuTimes returns this process's user+system CPU time, then each pid's
// (0 for one that cannot be read), then the whole machine's busy time (all
// but idle and iowait in /proc/stat).
func cpuTimes(pids []int) []time.Duration {
	out := make([]time.Duration, 2+len(pids))
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		if f := strings.Fields(line); len(f) > 5 && f[0] == "cpu" {
			var busy int64
			for k, v := range f[1:] {
				t, _ := strconv.ParseInt(v, 10, 64)
				if k != 3 && k != 4 && k < 8 { // user nice system idle iowait irq softirq steal
					busy += t
				}
			}
			out[len(out)-1] = time.Duration(busy) * time.Second / clkTck
		}
	}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		out[0] = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	for i, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		s := string(b)
		if j := strings.LastIndexByte(s, ')'); j >= 0 {
			f := strings.Fields(s[j+1:])
			if len(f) > 12 {
				u, _ := strconv.ParseInt(f[11], 10, 64)
				st, _ := strconv.ParseInt(f[12], 10, 64)
				out[i+1] = time.Duration(u+st) * time.Second / clkTck
			}
		}
	}
	return out
}

// clkTck is USER_HZ, 100 on Linux wherever Go runs.
const clkTck = 100

// raiseNofile lifts this process's open files limit to the hard limit and
// says so when even that is too low for n sockets.
func raiseNofile(n int) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
		_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
	if lim.Cur < uint64(n)+64 {
		fmt.Printf("WARNING: fanout's open files limit is %d (hard %d), too low for %d sockets: raise `ulimit -Hn`\n", lim.Cur, lim.Max, n)
	}
}

func pct(sorted []int64, p int) int64 { return sorted[min(len(sorted)-1, len(sorted)*p/100)] }

func ms(ns int64) float64 { return float64(ns) / 1e6 }
