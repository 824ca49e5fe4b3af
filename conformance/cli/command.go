package cli

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/lasgi/lasgi/conformance"
	"github.com/lasgi/lasgi/reference/app"
)

// The placeholders of --cmd: the free port the checker picked, and the path
// of the probe file it wrote.
const (
	portPlaceholder = "{port}"
	appPlaceholder  = "{app}"
)

// stopGrace is how long a server started with --cmd has to exit after
// SIGTERM before it is killed.
const stopGrace = 5 * time.Second

// checkCommand says what is wrong with a --cmd template: it must name both
// placeholders, and no other word in braces.
func checkCommand(tmpl string) error {
	for _, p := range []string{portPlaceholder, appPlaceholder} {
		if !strings.Contains(tmpl, p) {
			return fmt.Errorf("--cmd %q: it must contain %s (the port the checker picks) and %s (the probe file it writes)", tmpl, portPlaceholder, appPlaceholder)
		}
	}
	rest := strings.NewReplacer(portPlaceholder, "", appPlaceholder, "").Replace(tmpl)
	if i := strings.Index(rest, "{"); i >= 0 && strings.Contains(rest[i:], "}") {
		return fmt.Errorf("--cmd %q: the only placeholders are %s and %s", tmpl, portPlaceholder, appPlaceholder)
	}
	return nil
}

// serverProcess is a server under test that the checker started itself.
type serverProcess struct {
	cmd    *exec.Cmd
	out    *lockedBuffer // what it printed, the first 64 KiB
	exited chan struct{}
	err    error // how it exited, once exited is closed
	dir    string
}

// startCommand writes the probe to a temporary file, picks a free loopback
// port, runs tmpl with both filled in through /bin/sh, and waits (at most
// wait) until the port accepts connections. It fails, with what the server
// printed, when the server exits first or never listens.
func startCommand(tmpl string, wait time.Duration) (string, *serverProcess, error) {
	dir, err := os.MkdirTemp("", "lasgi-check-")
	if err != nil {
		return "", nil, err
	}
	probe := filepath.Join(dir, "probe.lua")
	src, err := app.Source("probe.lua")
	if err == nil {
		err = os.WriteFile(probe, src, 0o644)
	}
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	port, err := freePort()
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	line := strings.NewReplacer(portPlaceholder, strconv.Itoa(port), appPlaceholder, shellQuote(probe)).Replace(tmpl)
	p := &serverProcess{cmd: exec.Command("/bin/sh", "-c", "exec "+line), out: &lockedBuffer{}, exited: make(chan struct{}), dir: dir}
	w := conformance.LimitWriter(p.out, 64<<10)
	p.cmd.Stdout, p.cmd.Stderr = w, w
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its children go with it
	if err := p.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("--cmd: starting %q: %w", line, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(wait)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return addr, p, nil
		}
		select {
		case <-p.exited:
			p.cleanup()
			return "", nil, fmt.Errorf("--cmd: %q exited (%v) before it listened on %s; it printed:\n%s", line, p.err, addr, p.out)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.stop()
			return "", nil, fmt.Errorf("--cmd: %q did not listen on %s within %v; it printed:\n%s", line, addr, wait, p.out)
		}
	}
}

// stop sends the server SIGTERM and waits for it to exit, killing it after
// stopGrace; it returns how it exited (nil: code 0).
func (p *serverProcess) stop() error {
	defer p.cleanup()
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.exited:
		return p.err
	case <-time.After(stopGrace):
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.exited
		return errors.New("it did not exit within " + stopGrace.String() + " of SIGTERM and was killed")
	}
}

func (p *serverProcess) cleanup() { os.RemoveAll(p.dir) }

// freePort asks the kernel for a free loopback port. Another program may
// take it before the server does; the server then fails to listen, which
// startCommand reports.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// shellQuote quotes s as one word for /bin/sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// lockedBuffer is what a server printed, readable while it still prints.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
