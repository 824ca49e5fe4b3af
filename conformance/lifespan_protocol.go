package conformance

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// lifespanProtocol is spec/lifespan.md: the cases that start the server
// under test afresh (Case.Launch, through the Checker's Launcher) to see its
// lifespan calls, the step that asks it to shut down, what the probe
// recorded of each Lua state's lifespan call and connection calls, and the
// app cases of the lifespan scope.
var lifespanProtocol = protocol{
	name:     "lifespan",
	steps:    []stepKind{terminateStep},
	checks:   []fieldCheck{exitCheck{}, servedCheck{}, recordCheck{}, callsAfterStartupCheck{}, callsBeforeShutdownCheck{}, lifespanCheck{}},
	verbs:    []probeVerb{{name: "state"}},
	appCases: lifespanAppCases,
	begin:    (*exchange).launch,
	end:      (*exchange).endLaunch,
	cleanup:  (*exchange).cleanupLaunch,
}

// Launch is what a launched probe does in its lifespan call
// (fixtures/PROBE.md, "Lifespan").
type Launch struct {
	// Startup: complete (the default), fail, raise, return, hang,
	// complete-then-raise or fail-then-raise.
	Startup string `json:"startup,omitempty"`
	// Shutdown: complete (the default), fail or raise.
	Shutdown string `json:"shutdown,omitempty"`
}

var (
	startupActions  = []string{"", "complete", "fail", "raise", "return", "hang", "complete-then-raise", "fail-then-raise"}
	shutdownActions = []string{"", "complete", "fail", "raise"}
)

// terminateStep asks the launched server to shut down and goes on: the
// steps after it show what the server does with calls in flight.
var terminateStep = stepKind{name: "terminate", is: func(s *Step) bool { return s.Terminate },
	run: func(x *exchange, i int, s *Step, _ *clientConn) error {
		if x.life == nil {
			return fmt.Errorf("send[%d]: terminate is for a case with launch", i)
		}
		x.life.server.Terminate()
		x.life.terminated = true
		return nil
	}}

// errNotListening: the launched server exited before it listened, or was
// not listening yet when the checker gave up waiting.
var errNotListening = errors.New("the launched server is not listening")

// launching is the server a Launch case started, while the case runs.
type launching struct {
	server     Launched
	dir        string // the probe and its record
	record     string
	terminated bool
}

// launchObservation is what a launched server showed once it was over.
type launchObservation struct {
	exitedSelf bool // it exited before the checker asked it to
	exitCode   int  // -1: killed, or unknown
	output     string
	// lines are the probe's record lines, in the order written; lifespan
	// the lines of each Lua state's lifespan call (its connection calls'
	// lines left out, and the state key), and lifespanStates the Lua states
	// that made one, in the order first seen.
	lines          []map[string]any
	lifespan       map[string][]map[string]any
	lifespanStates []string
}

// launch starts a fresh server for a Launch case, its probe told what the
// case wants done in lifespan and where to record.
func (x *exchange) launch() error {
	c := x.c
	if c.Launch == nil {
		return nil
	}
	if x.k.Launcher == nil {
		return &skipError{"this case starts the server under test itself, to see its lifespan: run it with lasgi-check server --cmd (or give the Checker a Launcher)"}
	}
	dir, err := os.MkdirTemp("", "lasgi-check-")
	if err != nil {
		return err
	}
	l := &launching{dir: dir, record: filepath.Join(dir, "record.jsonl")}
	x.life = l
	probe, err := WriteProbe(dir, &ProbeConfig{Startup: c.Launch.Startup, Shutdown: c.Launch.Shutdown, Record: l.record})
	if err != nil {
		return err
	}
	// A server that is not listening two step deadlines on is judged as
	// one that does not serve: its lifespan startup may still be waiting.
	ctx, cancel := context.WithTimeout(x.ctx, 2*x.k.timeout())
	defer cancel()
	if l.server, err = x.k.Launcher.Launch(ctx, probe); err != nil {
		return fmt.Errorf("launching the server: %w", err)
	}
	x.addr = l.server.Addr()
	x.obs.launch = &launchObservation{}
	if x.addr == "" {
		select {
		case <-l.server.Exited():
			x.obs.notes = append(x.obs.notes, "the server exited before it listened")
		default:
			x.obs.notes = append(x.obs.notes, fmt.Sprintf("the server was not listening %v after it was started", 2*x.k.timeout()))
		}
	}
	return nil
}

// endLaunch lets the server end: it waits a step deadline for an exit the
// case expects of the server on its own, asks it to shut down, kills it
// when it has not exited two step deadlines later, and reads the record.
// A server whose probe made no lifespan call, in any Lua state, is one
// without lifespan (or with it off): the case is skipped.
func (x *exchange) endLaunch() error {
	l, o := x.life, x.obs.launch
	if l == nil {
		return nil
	}
	s := l.server
	if x.c.Expect.Exit != "" && !l.terminated {
		select {
		case <-s.Exited():
		case <-time.After(x.k.timeout()):
		case <-x.ctx.Done():
		}
	}
	select {
	case <-s.Exited():
		o.exitedSelf = !l.terminated
	default:
		// The case has sent and read all it will: its connections go
		// first, as a client's would. One left open keeps a server that
		// waits for it (a WebSocket awaiting the answer to its close
		// frame) from exiting until its own shutdown timeout.
		x.closeAll()
		if StopLaunched(s, 2*x.k.timeout()) {
			x.obs.notes = append(x.obs.notes, fmt.Sprintf("the server did not exit within %v of being asked to shut down, and was killed; it printed:\n%s", 2*x.k.timeout(), ClipText(s.Output())))
		}
	}
	o.exitCode, o.output = s.ExitCode(), s.Output()
	if err := o.readRecord(l.record); err != nil {
		return err
	}
	if len(o.lines) == 0 {
		return fmt.Errorf("the probe recorded nothing in %s: did the server run the probe file it was given, and may the app open files (io.open)? it printed:\n%s", l.record, ClipText(o.output))
	}
	if len(o.lifespanStates) > 0 {
		return nil
	}
	return &skipError{"the server made no lifespan call in any Lua state: it does not support lifespan, or has it off (lifespan.call.optional)"}
}

func (x *exchange) cleanupLaunch() {
	if l := x.life; l != nil {
		select {
		case <-l.server.Exited():
		default:
			l.server.Kill()
		}
		os.RemoveAll(l.dir)
	}
}

// maxRecord bounds the record a probe may leave.
const maxRecord = 1 << 20

// readRecord reads the probe's record file, one JSON object per line, at
// most maxRecord bytes of it.
func (o *launchObservation) readRecord(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxRecord+1))
	if err != nil {
		return err
	}
	if len(data) > maxRecord {
		return fmt.Errorf("the probe's record %s is past %d bytes", path, maxRecord)
	}
	o.lifespan = map[string][]map[string]any{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, maxRecord)
	for n := 1; sc.Scan(); n++ {
		m, err := decodeReportJSON(sc.Bytes())
		state, _ := m["state"].(string)
		if err != nil || m == nil || state == "" {
			return fmt.Errorf("the probe's record %s: line %d is not an object with a state: %q", path, n, ClipText(sc.Text()))
		}
		o.lines = append(o.lines, m)
		if at := m["at"]; at == "call" || at == "call-end" {
			continue
		}
		if o.lifespan[state] == nil {
			o.lifespanStates = append(o.lifespanStates, state)
		}
		line := make(map[string]any, len(m))
		for k, v := range m {
			if k != "state" {
				line[k] = v
			}
		}
		o.lifespan[state] = append(o.lifespan[state], line)
	}
	return nil
}

// checkLaunch validates a case's launch and the fields only a launched
// server has.
func (c *Case) checkLaunch(bad badField) error {
	e := &c.Expect
	if c.Launch == nil {
		for _, s := range c.Send {
			if s.Terminate {
				return bad("send", "terminate is for a case with launch")
			}
		}
		if e.Exit != "" || e.Served != nil || e.Record != nil || e.CallsAfterStartup || e.CallsBeforeShutdown {
			return bad("expect", "exit, served, record, calls_after_startup and calls_before_shutdown are for a case with launch")
		}
		return nil
	}
	if !contains(startupActions, c.Launch.Startup) {
		return bad("launch.startup", "%q is not one of %s", c.Launch.Startup, strings.Join(startupActions[1:], ", "))
	}
	if !contains(shutdownActions, c.Launch.Shutdown) {
		return bad("launch.shutdown", "%q is not one of %s", c.Launch.Shutdown, strings.Join(shutdownActions[1:], ", "))
	}
	if e.Exit != "" && !contains(exitKinds, e.Exit) {
		return bad("expect.exit", "%q is not one of %s", e.Exit, strings.Join(exitKinds, ", "))
	}
	if len(e.OneOf) > 0 {
		return bad("expect.one_of", "a case with launch has one outcome")
	}
	return nil
}
