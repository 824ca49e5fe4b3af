// Package engine is the engine-neutral contract between the reference
// server's front ends (lasgi-serve, servertest, lasgi-check) and the Lua
// engines that run an app: the Options every engine takes, the lifespan
// modes, StartupError, the Engine interface, and the registry by which an
// engine package makes itself known (Register, from its init) and a front end
// loads an app on an engine by name (Load).
//
// A binary has the engines it links: import package
// reference/server/engines, which links every engine this build has
// (gopher-lua always; the C Lua engines with -tags lua54 or -tags luajit).
package engine

import (
	"context"
	"fmt"
	"io"
	"log"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/lasgi/lasgi/reference/server/bridge"
	"github.com/lasgi/lasgi/reference/server/groups"
	"github.com/lasgi/lasgi/reference/server/internal/mutant"
)

// Default is the engine used when none is named: gopher-lua's, built into
// every binary.
const Default = "gopher"

// DefaultMaxVMBytes is Options.MaxVMBytes when it is zero.
const DefaultMaxVMBytes = 1 << 30

// Engine is a loaded app on an engine: it serves calls, and its lifespan shutdown ends it.
type Engine interface {
	bridge.Engine
	// Shutdown refuses new calls, makes each worker's lifespan shutdown
	// (when its lifespan call still runs) within ctx and
	// Options.LifespanTimeout, and stops the engine. Close is
	// Shutdown(context.Background()).
	Shutdown(ctx context.Context) error
}

// Loader loads the app src (named name in messages) on an engine with opts.
// An app whose lifespan startup failed gives an error that is, or wraps, a
// *StartupError (errors.As), one per failed worker (errors.Join).
type Loader func(name string, src []byte, opts Options) (Engine, error)

type entry struct {
	summary string
	load    Loader
}

var (
	mu       sync.RWMutex
	registry = map[string]entry{}
)

// Register makes the engine name known, with a one-line summary for usage
// texts. An engine package calls it from its init; a duplicate name panics.
func Register(name, summary string, load Loader) {
	if name == "" || load == nil {
		panic("engine.Register: an engine needs a name and a Loader")
	}
	mu.Lock()
	defer mu.Unlock()
	if _, dup := registry[name]; dup {
		panic(fmt.Sprintf("engine.Register: engine %q registered twice", name))
	}
	registry[name] = entry{summary, load}
}

// Names returns the engines this binary has: Default first, then the others
// sorted.
func Names() []string {
	mu.RLock()
	defer mu.RUnlock()
	names := make([]string, 0, len(registry))
	for name := range registry {
		if name != Default {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	if _, ok := registry[Default]; ok {
		names = append([]string{Default}, names...)
	}
	return names
}

// Summary is the one line engine name was registered with ("" for an engine
// this binary does not have).
func Summary(name string) string {
	mu.RLock()
	defer mu.RUnlock()
	return registry[name].summary
}

// Load loads the app src (named name in messages) on the engine engineName
// with opts. An engine this binary does not have is an error that names it,
// lists the ones it has and says how the C Lua engines are built in.
func Load(engineName, name string, src []byte, opts Options) (Engine, error) {
	mu.RLock()
	e, ok := registry[engineName]
	mu.RUnlock()
	if !ok {
		return nil, UnknownError(engineName)
	}
	return e.load(name, src, opts)
}

// UnknownError is the error Load gives for an engine this binary does not
// have; a front end checking its flags before it loads anything gives the
// same (Known).
func UnknownError(engineName string) error {
	return fmt.Errorf("unknown engine %q: this binary has %s (the C Lua engines need a build tag: go build -tags lua54 for lua54, -tags luajit for luajit)",
		engineName, strings.Join(Names(), ", "))
}

// Known reports whether this binary has the engine name.
func Known(name string) bool {
	mu.RLock()
	defer mu.RUnlock()
	_, ok := registry[name]
	return ok
}

// Usage is a text listing the engines this binary has, one a line with its
// summary, each line starting with indent: for a --help.
func Usage(indent string) string {
	var b strings.Builder
	for _, name := range Names() {
		fmt.Fprintf(&b, "%s%-8s %s\n", indent, name, Summary(name))
	}
	return b.String()
}

// Options configure an engine. The zero value is usable. What they say of
// workers, Lua states and memory is gopher-lua's reading; another engine
// reads each field as near to it as it can.
type Options struct {
	// Workers is the number of Lua states; 0 means one per CPU.
	Workers int
	// BusyTimeout bounds how long the app may run without yielding (one
	// resume of its coroutine); it stops an app stuck in a loop from holding
	// a worker. 0 means 10 seconds.
	BusyTimeout time.Duration
	// Async makes Start and the calls' wake-ups return at once and run the
	// app on a goroutine of their own. By default the app runs on the
	// caller's goroutine until it waits or returns, which is faster; a caller
	// that must keep its own deadlines while the app runs (the app checker)
	// sets Async.
	Async bool
	// Sandbox removes what an untrusted app could use against the machine:
	// running programs (os.execute, io.popen) and files outside its own
	// modules (io.open, os.remove, dofile, ...). os.exit never ends the
	// process, sandbox or not: it raises ExitError.
	Sandbox bool
	// Output receives what the app prints (print, io.write); nil means the
	// process's stdout.
	Output io.Writer
	// Groups is the lasgi.groups hub of the server the engine serves (its
	// Config.Groups): a lifespan call may send to groups through it
	// (groups.lifespan). Nil: lifespan scopes offer no groups.
	Groups groups.Hub
	// QueueTimeout bounds how long a new call waits for a worker when every
	// one is busy; past it the call ends with bridge.ErrOverloaded (the
	// server answers 503). 0 means 5 seconds.
	QueueTimeout time.Duration
	// MaxVMBytes is the memory budget of one worker (memory.go): a string
	// the app asks for past it is refused, and when the heap passes the
	// budget of all workers the call that allocated most is stopped. 0 means
	// DefaultMaxVMBytes (1 GiB).
	MaxVMBytes int64
	// ErrorLog gets what concerns the engine rather than one call (a worker
	// abandoned, a replacement that failed to load); nil: the standard
	// logger.
	ErrorLog *log.Logger
	// Lifespan says whether each worker makes a lifespan call before it
	// serves (lifespan.go); the zero value, LifespanOff, makes none.
	Lifespan LifespanMode
	// LifespanTimeout bounds the wait for the app's reply to
	// lifespan.startup, and to lifespan.shutdown; 0 means
	// DefaultLifespanTimeout (10 seconds).
	LifespanTimeout time.Duration
	// JIT lets the luajit engine compile the app (other engines ignore
	// it). Off by default: a loop LuaJIT has compiled never returns to the
	// interpreter, so --busy-timeout cannot stop it, and it would hold its
	// worker for good.
	JIT bool
	// Fault is the mutant the engine's lifespan runs as (tests under
	// reference/server only; the zero Fault injects nothing). A call's own
	// fault comes with the call (bridge.Call.Fault).
	Fault mutant.Fault
}
