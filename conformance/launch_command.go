package conformance

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// The placeholders of a command template: the free port the checker picked,
// and the path of the probe file it wrote.
const (
	PortPlaceholder = "{port}"
	AppPlaceholder  = "{app}"
)

// CheckCommand says what is wrong with a command template (lasgi-check
// server --cmd): it must name both placeholders, and no other word in
// braces.
func CheckCommand(tmpl string) error {
	for _, p := range []string{PortPlaceholder, AppPlaceholder} {
		if !strings.Contains(tmpl, p) {
			return fmt.Errorf("--cmd %q: it must contain %s (the port the checker picks) and %s (the probe file it writes)", tmpl, PortPlaceholder, AppPlaceholder)
		}
	}
	rest := strings.NewReplacer(PortPlaceholder, "", AppPlaceholder, "").Replace(tmpl)
	if i := strings.Index(rest, "{"); i >= 0 && strings.Contains(rest[i:], "}") {
		return fmt.Errorf("--cmd %q: the only placeholders are %s and %s", tmpl, PortPlaceholder, AppPlaceholder)
	}
	return nil
}

// CommandLauncher launches the server under test by running Command, a
// template CheckCommand accepts, through /bin/sh with a free loopback port
// and the probe's path filled in, as `exec COMMAND`, so that the signals
// reach the server itself (a list of commands goes in `sh -c '...'`).
// Terminate sends its process group SIGTERM.
type CommandLauncher struct {
	Command string
	// ListenWait bounds the wait for the port to accept connections; 0
	// means 10 seconds.
	ListenWait time.Duration
}

// Launch implements Launcher; ListenWait bounds it as ctx does.
func (l CommandLauncher) Launch(ctx context.Context, probe string) (Launched, error) {
	if err := CheckCommand(l.Command); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	line := strings.NewReplacer(PortPlaceholder, strconv.Itoa(port), AppPlaceholder, shellQuote(probe)).Replace(l.Command)
	p := &process{cmd: exec.Command("/bin/sh", "-c", "exec "+line), out: &lockedBuffer{}, exited: make(chan struct{}), code: -1}
	w := LimitWriter(p.out, 64<<10)
	p.cmd.Stdout, p.cmd.Stderr = w, w
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its children go with it
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %q: %w", line, err)
	}
	go func() {
		p.cmd.Wait()
		p.code = p.cmd.ProcessState.ExitCode()
		close(p.exited)
	}()
	wait := l.ListenWait
	if wait <= 0 {
		wait = 10 * time.Second
	}
	deadline := time.Now().Add(wait)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			p.addr = addr
			return p, nil
		}
		select {
		case <-p.exited:
			return p, nil
		case <-ctx.Done():
			return p, nil
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return p, nil
		}
	}
}

// process is a server a CommandLauncher started.
type process struct {
	cmd    *exec.Cmd
	addr   string
	out    *lockedBuffer // what it printed, the first 64 KiB
	exited chan struct{}
	code   int // its exit status once exited is closed
}

func (p *process) Addr() string            { return p.addr }
func (p *process) Exited() <-chan struct{} { return p.exited }
func (p *process) ExitCode() int           { return p.code }
func (p *process) Output() string          { return p.out.String() }
func (p *process) Terminate()              { syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM) }

func (p *process) Kill() {
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.exited
}

// freePort asks the kernel for a free loopback port. Another program may
// take it before the server does; the server then fails to listen, which
// Launch reports.
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
