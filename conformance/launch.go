package conformance

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/lasgi/lasgi/reference/app"
)

// A Launcher starts the server under test afresh, for the cases that must
// see a server start and stop (the lifespan cases, whose Launch field is
// set). A Checker without one skips those cases.
type Launcher interface {
	// Launch starts a server hosting the probe app file at probe (the
	// checker wrote it) and returns once the server listens, has exited, or
	// ctx is done. A server that is not listening then (a lifespan startup
	// that failed, or one still under way) is no error: its Addr is "". An
	// error means nothing could be started, and names why.
	Launch(ctx context.Context, probe string) (Launched, error)
}

// Launched is a server a Launcher started. Its methods may be called from
// any goroutine.
type Launched interface {
	// Addr is the host:port it listens on, "" when it exited first.
	Addr() string
	// Terminate asks it to shut down as SIGTERM does, and returns at once.
	Terminate()
	// Exited is closed once it has exited; ExitCode is then its exit
	// status, -1 when it was killed or its status is unknown.
	Exited() <-chan struct{}
	ExitCode() int
	// Kill ends it at once, if it still runs, and waits for the end.
	Kill()
	// Output is what it printed so far (bounded by the launcher).
	Output() string
}

// StopLaunched asks s to shut down, as SIGTERM does, and waits for it to
// exit, killing it when it has not within grace; it reports whether it had
// to.
func StopLaunched(s Launched, grace time.Duration) (killed bool) {
	s.Terminate()
	select {
	case <-s.Exited():
		return false
	case <-time.After(grace):
		s.Kill()
		return true
	}
}

// ProbeConfig is what a launched probe is told to do in its lifespan call
// and where to record what it saw (fixtures/PROBE.md, "Lifespan"). It
// reaches the probe as a Lua local set on the probe file's first line, so
// the probe's lines keep their numbers and a probe without it (--url) does
// no lifespan at all.
type ProbeConfig struct {
	Startup  string // what it does at lifespan.startup (Launch.Startup)
	Shutdown string // and at lifespan.shutdown
	Record   string // the file it appends its record lines to
}

// WriteProbe writes the probe app into dir as probe.lua, with cfg when not
// nil, and returns its path.
func WriteProbe(dir string, cfg *ProbeConfig) (string, error) {
	src, err := app.Source("probe.lua")
	if err != nil {
		return "", err
	}
	if cfg != nil {
		prelude := fmt.Sprintf("local lasgi_probe_lifespan = {startup = %s, shutdown = %s, record = %s} ",
			luaQuote(cfg.Startup), luaQuote(cfg.Shutdown), luaQuote(cfg.Record))
		src = append([]byte(prelude), src...)
	}
	path := filepath.Join(dir, "probe.lua")
	if err := os.WriteFile(path, src, 0o644); err != nil {
		return "", err
	}
	return path, nil
}
