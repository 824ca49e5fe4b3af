package servertest

import (
	"context"
	"net"
	"os"
	"strconv"
	"syscall"

	"github.com/lasgi/lasgi/conformance"
	"github.com/lasgi/lasgi/reference/server/internal/mutant"
	"github.com/lasgi/lasgi/reference/server/serve"
)

// Launcher is a conformance.Launcher that runs lasgi-serve in this process
// (package serve, the command's own body), on a free loopback port, with
// Args before the probe file: what a lifespan case checks is what the
// command does, its exit code included, without a binary to build.
type Launcher struct {
	Args []string // lasgi-serve flags, such as --workers 2; not --port
	// Engine is the engine lasgi-serve runs the app on (its --engine); ""
	// is lasgi-serve's default, engine.Default.
	Engine string
	// Fault is the mutant the server runs as (tests under reference/server
	// only).
	Fault mutant.Fault
}

// NewLauncher is a Launcher of workers Lua states with short lifespan and
// shutdown timeouts (2 s, 5 s), so that a case that waits for one ends
// soon: the one lasgi-check's built-in server and the project's own suites
// launch. Set its Engine to launch on another engine than the default.
func NewLauncher(workers int) Launcher {
	return Launcher{Args: []string{"--workers", strconv.Itoa(workers), "--lifespan-timeout", "2s", "--shutdown-timeout", "5s"}}
}

// Launch implements conformance.Launcher.
func (l Launcher) Launch(ctx context.Context, probe string) (conformance.Launched, error) {
	s := &launched{sigs: make(chan os.Signal, 1), listening: make(chan string, 1), exited: make(chan struct{}), out: &SyncBuffer{}}
	args := []string{"--host", "127.0.0.1", "--port", "0"}
	if l.Engine != "" {
		args = append(args, "--engine", l.Engine)
	}
	args = append(append(args, l.Args...), probe)
	go func() {
		s.code = serve.Run(args, serve.Env{Stdout: s.out, Stderr: s.out, Signals: s.sigs, Fault: l.Fault,
			Listening: func(a net.Addr) { s.listening <- a.String() }})
		close(s.exited)
	}()
	select {
	case s.addr = <-s.listening:
	case <-s.exited:
	case <-ctx.Done(): // still starting: not listening yet
	}
	return s, nil
}

// launched is one in-process lasgi-serve. An in-process server cannot be
// killed: Kill asks it to stop again and waits, and lasgi-serve's
// --shutdown-timeout bounds that.
type launched struct {
	addr      string
	sigs      chan os.Signal
	listening chan string
	exited    chan struct{}
	code      int
	out       *SyncBuffer
}

func (s *launched) Addr() string            { return s.addr }
func (s *launched) Exited() <-chan struct{} { return s.exited }
func (s *launched) ExitCode() int           { return s.code }
func (s *launched) Output() string          { return s.out.String() }

func (s *launched) Terminate() {
	select {
	case s.sigs <- syscall.SIGTERM:
	default: // one is on its way
	}
}

func (s *launched) Kill() {
	s.Terminate()
	<-s.exited
}
