package engine

import (
	"fmt"
	"time"

	"github.com/lasgi/lasgi/reference/server/bridge"
	"github.com/lasgi/lasgi/spec/event"
)

// LifespanMode says whether the engine runs the app's lifespan protocol.
type LifespanMode int

const (
	// LifespanOff makes no lifespan call: connection scopes get an empty
	// state (lifespan.call.optional). The zero value.
	LifespanOff LifespanMode = iota
	// LifespanAuto, as uvicorn's: an app that raises or returns before
	// replying to lifespan.startup does not support lifespan, and the
	// worker serves without it (lifespan.unsupported), after one log line.
	LifespanAuto
	// LifespanOn: an app that raises or returns before replying fails its
	// startup, as lifespan.startup.failed does.
	LifespanOn
)

var lifespanModes = []string{"off", "auto", "on"}

func (m LifespanMode) String() string {
	if int(m) < len(lifespanModes) {
		return lifespanModes[m]
	}
	return fmt.Sprintf("LifespanMode(%d)", int(m))
}

// ParseLifespanMode reads "auto", "on" or "off".
func ParseLifespanMode(s string) (LifespanMode, error) {
	for i, name := range lifespanModes {
		if s == name {
			return LifespanMode(i), nil
		}
	}
	return 0, fmt.Errorf("--lifespan must be auto, on or off, got %q", s)
}

// DefaultLifespanTimeout is Options.LifespanTimeout when it is zero.
const DefaultLifespanTimeout = 10 * time.Second

// StartupError is a worker's failed lifespan startup: the app sent
// lifespan.startup.failed, did not reply within the lifespan timeout, or
// (LifespanOn) raised or returned before replying. Load returns it, and
// the server must then not serve at all (lifespan.startup.failed).
//
// An engine builds one as &StartupError{Worker: i, Reason: "..."}.
type StartupError struct {
	Worker int    // the worker (Lua state) whose startup failed, from 0
	Reason string // what happened, with the app's message or error
}

func (e *StartupError) Error() string {
	return fmt.Sprintf("worker %d: lifespan startup failed: %s", e.Worker, e.Reason)
}

// lifespanExtensions is what a lifespan scope offers when the engine has a
// groups hub: lasgi.groups, to send only (groups.lifespan).
var lifespanExtensions = []string{event.ExtensionGroups}

// NewLifespanCall is the call of a worker's lifespan: its scope offers
// lasgi.groups when opts.Groups is set, so that an app can tell groups it
// started or is going down, through the hub the connections share.
func NewLifespanCall(opts Options) *bridge.Call {
	scope := &event.Scope{Type: event.ScopeLifespan}
	if opts.Groups != nil {
		scope.Extensions = lifespanExtensions
	}
	c := bridge.NewCall(scope, time.Time{})
	c.Groups = opts.Groups
	return c
}
