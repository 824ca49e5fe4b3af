// Package serve is lasgi-serve: its flags made into a running reference
// server, and its shutdown on a signal. cmd/lasgi-serve is its main;
// lasgi-check runs it in-process to start a fresh reference server for each
// case that must see a server start and stop (lifespan), so that what those
// cases check is what the command does.
//
//	lasgi-serve [flags] [APP.lua]
//
// With no app file it serves the built-in reference/app/hello.lua. --engine
// names the Lua engine (engine.Load; default "gopher"); --help lists the
// engines the binary has.
//
// Exit codes: 0 after a clean shutdown; 1 when serving failed or the
// shutdown was not clean (requests cut at --shutdown-timeout, a lifespan
// shutdown that failed or timed out); 2 for bad flags or an app file that
// does not load; 3 when a worker's lifespan startup failed, as uvicorn's.
package serve

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/lasgi/lasgi/reference/app"
	"github.com/lasgi/lasgi/reference/server"
	"github.com/lasgi/lasgi/reference/server/engine"
	_ "github.com/lasgi/lasgi/reference/server/engines" // every engine this binary has
	"github.com/lasgi/lasgi/reference/server/gcpace"
	"github.com/lasgi/lasgi/reference/server/groups"
	"github.com/lasgi/lasgi/reference/server/internal/mutant"
)

// Env is what Run takes from the process around it.
type Env struct {
	Stdout, Stderr io.Writer
	// Signals ends serving: each signal that comes starts the shutdown
	// (SIGINT and SIGTERM for the command). Nil: only a failure ends it.
	Signals <-chan os.Signal
	// Listening, when not nil, is told the address once the server listens,
	// before it serves.
	Listening func(net.Addr)
	// PaceGC lets Run set the Go GC's pace (gcpace, --gc-percent) for the
	// whole process; an in-process server leaves its host's GC alone.
	PaceGC bool
	// Fault is the mutant the server and the engine run as (tests under
	// reference/server only; the zero Fault injects nothing).
	Fault mutant.Fault
}

// Run parses args as lasgi-serve's command line, serves until a signal on
// env.Signals or a failure, shuts down, and returns the exit code.
func Run(args []string, env Env) int {
	stdout, stderr := env.Stdout, env.Stderr
	fs := flag.NewFlagSet("lasgi-serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: lasgi-serve [flags] [APP.lua]\n\n"+
			"Serves the LASGI app returned by APP.lua (default: the built-in hello.lua).\n\n"+
			"engines (--engine) this binary has:\n%s\nflags:\n", engine.Usage("  "))
		fs.PrintDefaults()
	}
	engineName := fs.String("engine", engine.Default, "the Lua engine that runs the app: "+strings.Join(engine.Names(), ", ")+" (listed above; the C Lua engines need a build tag)")
	host := fs.String("host", "127.0.0.1", "address to listen on")
	port := fs.Int("port", 8000, "port to listen on (0 picks a free one)")
	workers := fs.Int("workers", runtime.NumCPU(), "Lua VMs, each running many requests as coroutines")
	rootPath := fs.String("root-path", "", "scope.root_path: the prefix the app is mounted under; a request path without it (stripped by a proxy) gets it put back in front of path and raw_path")
	maxHeader := fs.Int("max-header-bytes", server.DefaultMaxHeaderBytes, "largest request line plus headers (431 beyond)")
	maxBody := fs.Int64("max-body-bytes", server.DefaultMaxBodyBytes, "largest request body (413 beyond); -1 for no limit")
	readTimeout := fs.Duration("read-timeout", server.DefaultReadTimeout, "longest wait for each read of a request")
	writeTimeout := fs.Duration("write-timeout", server.DefaultWriteTimeout, "longest wait for each write of a response")
	idleTimeout := fs.Duration("idle-timeout", server.DefaultIdleTimeout, "how long a keep-alive connection may wait for its next request")
	appTimeout := fs.Duration("app-timeout", server.DefaultAppTimeout, "longest an app call may take, wall clock; -1ns for none")
	busyTimeout := fs.Duration("busy-timeout", 10*time.Second, "longest an app may run without yielding (stops runaway loops)")
	sandbox := fs.Bool("sandbox", false, "for untrusted apps: remove os.execute, io.popen, io.open and the other functions that reach programs or files outside the app's modules (os.exit raises, sandbox or not)")
	shutdownTimeout := fs.Duration("shutdown-timeout", 10*time.Second, "on SIGINT/SIGTERM, how long requests in flight may take to finish; the process exits by then, cutting what still runs")
	jit := fs.Bool("jit", false, "luajit engine: compile the app's hot code (faster, but a compiled endless loop cannot be stopped by --busy-timeout: it keeps its worker until the process ends)")
	maxVMBytes := fs.Int64("max-vm-bytes", engine.DefaultMaxVMBytes, "memory budget of one worker: a string the app asks for past it is refused, and when the heap passes the budget of all workers the call that allocated the most is stopped")
	queueTimeout := fs.Duration("queue-timeout", 5*time.Second, "longest a request may wait for a free worker when all are busy (503 with Retry-After beyond)")
	lifespanFlag := fs.String("lifespan", "auto", "the lifespan protocol, in every worker before it serves and at shutdown: auto (an app that raises or returns before replying to lifespan.startup has none: one log line, and it is served without), on (that fails the startup too: exit code 3), off (no lifespan call; every scope gets an empty state)")
	lifespanTimeout := fs.Duration("lifespan-timeout", engine.DefaultLifespanTimeout, "longest wait for the app's reply to lifespan.startup (past it the startup failed: exit code 3) and to lifespan.shutdown (within what --shutdown-timeout leaves)")
	wsMaxMessage := fs.Int64("ws-max-message", server.DefaultWSMaxMessage, "largest WebSocket message a client may send, fragments together (the server closes with 1009 beyond)")
	wsPingInterval := fs.Duration("ws-ping-interval", server.DefaultWSPingInterval, "a WebSocket silent this long is pinged, and closed when it stays silent as long again")
	groupsFlag := fs.String("groups", "local", "lasgi.groups: local (this process), redis://HOST:PORT (shared by every lasgi-serve on that Redis), or off")
	gcPercent := fs.Int("gc-percent", 1000, "most the Go GC target percentage (GOGC) may be: after each collection GOGC is set so that about 32 MiB of garbage may gather before the next, within 100 and this; a small live heap then costs tens of MB of RSS for fewer collections, a large one grows at most twofold (docs/performance.md); ignored when GOGC is set")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 1 {
		fmt.Fprintf(stderr, "lasgi-serve: one app file at most, got %d: %v\n", fs.NArg(), fs.Args())
		return 2
	}
	if !engine.Known(*engineName) {
		fmt.Fprintf(stderr, "lasgi-serve: --engine: %v\n", engine.UnknownError(*engineName))
		return 2
	}
	if *workers < 1 {
		fmt.Fprintf(stderr, "lasgi-serve: --workers must be at least 1, got %d\n", *workers)
		return 2
	}
	if *maxVMBytes < 1<<20 {
		fmt.Fprintf(stderr, "lasgi-serve: --max-vm-bytes must be at least 1 MiB (1048576), got %d\n", *maxVMBytes)
		return 2
	}
	if *port < 0 || *port > 65535 {
		fmt.Fprintf(stderr, "lasgi-serve: --port must be 0..65535, got %d\n", *port)
		return 2
	}
	lifespan, err := engine.ParseLifespanMode(*lifespanFlag)
	if err != nil {
		fmt.Fprintf(stderr, "lasgi-serve: %v\n", err)
		return 2
	}
	if *wsMaxMessage < 1 {
		fmt.Fprintf(stderr, "lasgi-serve: --ws-max-message must be at least 1, got %d\n", *wsMaxMessage)
		return 2
	}
	if *wsPingInterval <= 0 {
		fmt.Fprintf(stderr, "lasgi-serve: --ws-ping-interval must be positive, got %v\n", *wsPingInterval)
		return 2
	}
	if *lifespanTimeout <= 0 {
		fmt.Fprintf(stderr, "lasgi-serve: --lifespan-timeout must be positive, got %v\n", *lifespanTimeout)
		return 2
	}

	// The hub before the app: a Redis that does not answer is a bad flag,
	// and no lifespan startup should run for nothing.
	groups.LogRedisTo(log.New(stderr, "", log.LstdFlags))
	hub, err := groups.Open(*groupsFlag)
	if err != nil {
		fmt.Fprintf(stderr, "lasgi-serve: --groups: %v\n", err)
		return 2
	}
	if hub != nil {
		defer hub.Close() // after shutdown: calls still running may publish till then
	}

	if env.PaceGC && os.Getenv("GOGC") == "" {
		defer gcpace.Start(*gcPercent, gcpace.DefaultHeadroom)()
	}
	logger := log.New(stderr, "", log.LstdFlags)
	opts := engine.Options{Groups: hub, Workers: *workers, BusyTimeout: *busyTimeout, QueueTimeout: *queueTimeout, MaxVMBytes: *maxVMBytes, Sandbox: *sandbox, JIT: *jit, ErrorLog: logger,
		Lifespan: lifespan, LifespanTimeout: *lifespanTimeout, Fault: env.Fault}
	var eng engine.Engine
	name, src := "hello.lua (built in)", []byte(nil)
	if fs.NArg() == 1 {
		name = fs.Arg(0)
		if src, err = os.ReadFile(name); err != nil {
			err = fmt.Errorf("load app: %w", err)
		} else {
			eng, err = engine.Load(*engineName, name, src, opts)
		}
	} else if src, err = app.Source("hello.lua"); err == nil {
		eng, err = engine.Load(*engineName, "hello.lua", src, opts)
	}
	var startupErr *engine.StartupError
	if errors.As(err, &startupErr) {
		// No worker serves (lifespan.startup.failed); each line names one.
		fmt.Fprintf(stderr, "lasgi-serve: not serving: %s\n", strings.ReplaceAll(err.Error(), "\n", "\nlasgi-serve: "))
		return 3
	}
	if err != nil {
		fmt.Fprintf(stderr, "lasgi-serve: %v\n", err)
		return 2
	}
	srv, err := server.New(server.Config{
		Engine: eng, RootPath: *rootPath,
		MaxHeaderBytes: *maxHeader, MaxBodyBytes: *maxBody,
		ReadTimeout: *readTimeout, WriteTimeout: *writeTimeout, IdleTimeout: *idleTimeout,
		AppTimeout: *appTimeout, ErrorLog: logger,
		WSMaxMessage: *wsMaxMessage, WSPingInterval: *wsPingInterval,
		Groups: hub, NoGroups: hub == nil,
		Fault: env.Fault,
	})
	if err != nil {
		eng.Close()
		fmt.Fprintf(stderr, "lasgi-serve: %v\n", err)
		return 2
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(*host, strconv.Itoa(*port)))
	if err != nil {
		eng.Close()
		fmt.Fprintf(stderr, "lasgi-serve: %v\n", err)
		return 2
	}
	fmt.Fprintf(stdout, "lasgi-serve: serving %s (engine %s) with %d workers on http://%s\n", name, *engineName, *workers, ln.Addr())
	if env.Listening != nil {
		env.Listening(ln.Addr())
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		eng.Close()
		fmt.Fprintf(stderr, "lasgi-serve: %v\n", err)
		return 1
	case sig := <-env.Signals:
		fmt.Fprintf(stderr, "lasgi-serve: %v: finishing requests in flight (up to %v)\n", sig, *shutdownTimeout)
	}
	return shutdown(srv, eng, *shutdownTimeout, stderr, env.Fault)
}

// shutdown lets requests in flight finish, then ends each worker's
// lifespan and stops the engine, all within timeout: that is a promise, so
// whatever still runs then (an app stuck in Go code, a lifespan shutdown
// that takes its time) is cut by the process's exit. The lifespan shutdown
// gets what the requests left of timeout, and --lifespan-timeout at most.
func shutdown(srv *server.Server, eng engine.Engine, timeout time.Duration, stderr io.Writer, f mutant.Fault) int {
	ctx, cancel := context.WithTimeoutCause(context.Background(), timeout,
		fmt.Errorf("--shutdown-timeout %v passed", timeout))
	defer cancel()
	var lifespanPhase atomic.Bool
	stopped := make(chan error, 1)
	if f.Is(mutant.LifespanShutdownWithCallsRunning) {
		go eng.Shutdown(ctx) // with the server's, not after it
	}
	go func() {
		err := srv.Shutdown(ctx)
		if err != nil {
			err = fmt.Errorf("requests still running after --shutdown-timeout %v were cut", timeout)
		}
		lifespanPhase.Store(true)
		stopped <- errors.Join(err, eng.Shutdown(ctx))
	}()
	// A moment past the deadline lets Shutdown close the connections it
	// cut, so their clients see a close rather than the process vanish.
	hard := time.NewTimer(timeout + 100*time.Millisecond)
	defer hard.Stop()
	select {
	case err := <-stopped:
		if err != nil {
			fmt.Fprintf(stderr, "lasgi-serve: shutdown: %s\n", strings.ReplaceAll(err.Error(), "\n", "\nlasgi-serve: shutdown: "))
			return 1
		}
		return 0
	case <-hard.C:
		if lifespanPhase.Load() {
			fmt.Fprintf(stderr, "lasgi-serve: shutdown: the workers' lifespan shutdown was still running after --shutdown-timeout %v: cut\n", timeout)
		} else {
			fmt.Fprintf(stderr, "lasgi-serve: shutdown: requests still running after --shutdown-timeout %v were cut\n", timeout)
		}
		return 1
	}
}
