package cli

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/lasgi/lasgi/conformance"
)

// stopGrace is how long a server started with --cmd has to exit after
// SIGTERM before it is killed.
const stopGrace = 5 * time.Second

// startCommand starts the server under test with --cmd's template once, for
// every case that needs no fresh server: the plain probe written to a
// temporary directory. It fails, with what the server printed, when the
// server exits before it listens. stop sends SIGTERM, kills the server
// after stopGrace, and says how it exited when that was not cleanly.
func startCommand(tmpl string, wait time.Duration) (addr string, stop func() error, err error) {
	dir, err := os.MkdirTemp("", "lasgi-check-cmd-")
	if err != nil {
		return "", nil, err
	}
	probe, err := conformance.WriteProbe(dir, nil)
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	p, err := conformance.CommandLauncher{Command: tmpl, ListenWait: wait}.Launch(context.Background(), probe)
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	if p.Addr() == "" {
		os.RemoveAll(dir)
		select {
		case <-p.Exited():
			return "", nil, fmt.Errorf("--cmd: %q exited (exit status %d) before it listened; it printed:\n%s", tmpl, p.ExitCode(), p.Output())
		default:
			p.Kill()
			return "", nil, fmt.Errorf("--cmd: %q did not listen on its port within %v; it printed:\n%s", tmpl, wait, p.Output())
		}
	}
	stop = func() error {
		defer os.RemoveAll(dir)
		if conformance.StopLaunched(p, stopGrace) {
			return fmt.Errorf("did not exit within %v of SIGTERM and was killed; it printed:\n%s", stopGrace, p.Output())
		}
		if code := p.ExitCode(); code != 0 {
			return fmt.Errorf("exited with status %d after SIGTERM; it printed:\n%s", code, p.Output())
		}
		return nil
	}
	return p.Addr(), stop, nil
}
