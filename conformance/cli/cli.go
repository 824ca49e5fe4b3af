// Package cli is lasgi-check's command line: flags, the built-in reference
// server, output files and exit codes. cmd/lasgi-check only calls Main.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/lasgi/lasgi/conformance"
	"github.com/lasgi/lasgi/fixtures"
	"github.com/lasgi/lasgi/reference/app"
	"github.com/lasgi/lasgi/reference/server"
	"github.com/lasgi/lasgi/reference/server/bridge"
	"github.com/lasgi/lasgi/reference/server/engine"
	_ "github.com/lasgi/lasgi/reference/server/engines" // every engine this binary has
	"github.com/lasgi/lasgi/reference/server/servertest"
	"github.com/lasgi/lasgi/spec"
)

// Exit codes.
const (
	ExitPassed = 0 // no case failed: each passed, was skipped or (without --strict) only warned
	ExitFailed = 1 // some case failed
	ExitUsage  = 2 // bad usage or setup
)

const usage = `usage: lasgi-check COMMAND [flags]

commands:
  server   check a server running the probe app (default: the built-in reference server)
  app      check apps by playing the server (default: the reference apps)
  list     list the cases and the rules they check
  probe    print the probe app (reference/app/probe.lua) for a server under test to host
  lint     print the lint middleware (reference/app/lint.lua): lint(app) checks an app and its server at run time
  record   re-record fixture files against a server running the probe

Run "lasgi-check COMMAND -h" for a command's flags.
`

// Main runs lasgi-check with args (without the program name).
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return ExitUsage
	}
	switch args[0] {
	case "server":
		return cmdServer(args[1:], stdout, stderr)
	case "app":
		return cmdApp(args[1:], stdout, stderr)
	case "list":
		return cmdList(args[1:], stdout, stderr)
	case "probe":
		return cmdPrint("probe", "probe.lua", args[1:], stdout, stderr)
	case "lint":
		return cmdPrint("lint", "lint.lua", args[1:], stdout, stderr)
	case "record":
		return cmdRecord(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return ExitPassed
	}
	fmt.Fprintf(stderr, "lasgi-check: unknown command %q\n\n%s", args[0], usage)
	return ExitUsage
}

// corpusFlags are shared by the commands that read the corpus.
type corpusFlags struct {
	run      string
	fixtures string
}

func (c *corpusFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.run, "run", "", "only cases whose ID or one of whose rule IDs matches this regular expression")
	fs.StringVar(&c.fixtures, "fixtures", "", "read fixtures from this directory instead of the built-in corpus")
}

func (c *corpusFlags) load() ([]*conformance.Case, error) {
	var fsys fs.FS = fixtures.FS
	dir := "."
	if c.fixtures != "" {
		fsys = os.DirFS(c.fixtures)
	}
	cases, err := conformance.LoadFS(fsys, dir)
	if err != nil {
		return nil, err
	}
	return selectRun(cases, c.run)
}

// selectRun keeps the cases that the --run expression run picks (all when it
// is empty); picking none is an error.
func selectRun[C conformance.Selectable](cases []C, run string) ([]C, error) {
	if run == "" {
		return cases, nil
	}
	re, err := regexp.Compile(run)
	if err != nil {
		return nil, fmt.Errorf("--run: %v", err)
	}
	cases = conformance.Select(cases, re)
	if len(cases) == 0 {
		return nil, fmt.Errorf("--run %q matches no case and no rule ID", run)
	}
	return cases, nil
}

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("lasgi-check "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parse parses flags, mapping -h to success and other errors to usage.
func parse(fs *flag.FlagSet, args []string) (code int, ok bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitPassed, false
		}
		return ExitUsage, false
	}
	return 0, true
}

func cmdServer(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("server", stderr)
	var corpus corpusFlags
	corpus.register(fs)
	target := fs.String("url", "", "base URL of a server running the probe app (http://host:port); default: start the built-in reference server")
	command := fs.String("cmd", "", "start the server under test with this shell command instead of --url, e.g. 'my-server --port {port} {app}': {port} is a free port the checker picks, {app} the path of the probe file it writes; it is stopped with SIGTERM at the end")
	rep := report{command: "server"}
	rep.register(fs, "deadline of each network step")
	workers := fs.Int("workers", 2, "workers of the built-in reference server")
	engineName := fs.String("engine", engine.Default, "engine of the built-in reference server (lasgi-serve --engine): "+strings.Join(engine.Names(), ", ")+"; not with --url or --cmd")
	caseTimeout := fs.Duration("case-timeout", 0, "deadline of a whole case, all its steps together (default: 6 times --timeout)")
	parallel := fs.Int("parallel", 1, "cases run at once (each on its own connections; more than the server's CPUs can make its timing cases warn)")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	if *parallel < 1 {
		fmt.Fprintf(stderr, "lasgi-check server: --parallel must be at least 1, got %d\n", *parallel)
		return ExitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "lasgi-check server: unexpected arguments %v\n", fs.Args())
		return ExitUsage
	}
	if *caseTimeout < 0 {
		fmt.Fprintf(stderr, "lasgi-check server: --case-timeout must not be negative, got %v\n", *caseTimeout)
		return ExitUsage
	}
	if !rep.valid(stderr) {
		return ExitUsage
	}
	if isSet(fs, "engine") && (*target != "" || *command != "") {
		fmt.Fprintf(stderr, "lasgi-check server: --engine picks the engine of the built-in reference server; with --url or --cmd the server under test is someone else's, and its engine its own\n")
		return ExitUsage
	}
	if !engine.Known(*engineName) {
		fmt.Fprintf(stderr, "lasgi-check server: --engine: %v\n", engine.UnknownError(*engineName))
		return ExitUsage
	}
	cases, err := corpus.load()
	if err != nil {
		fmt.Fprintf(stderr, "lasgi-check server: %v\n", err)
		return ExitUsage
	}
	var addr string
	var stop func()
	var launcher conformance.Launcher // for the cases that start the server afresh
	switch {
	case *command != "" && *target != "":
		fmt.Fprintf(stderr, "lasgi-check server: --cmd and --url exclude each other: one starts the server, the other names a running one\n")
		return ExitUsage
	case *command != "":
		if err := conformance.CheckCommand(*command); err != nil {
			fmt.Fprintf(stderr, "lasgi-check server: %v\n", err)
			return ExitUsage
		}
		var stopCmd func() error
		addr, stopCmd, err = startCommand(*command, 10*time.Second)
		if err != nil {
			fmt.Fprintf(stderr, "lasgi-check server: %v\n", err)
			return ExitUsage
		}
		launcher = conformance.CommandLauncher{Command: *command}
		stop = func() {
			if err := stopCmd(); err != nil {
				fmt.Fprintf(stderr, "lasgi-check server: note: the server started with --cmd %v", err)
			}
		}
	default:
		addr, stop, err = resolveTarget(*target, *engineName, *workers, stderr)
		if err != nil {
			fmt.Fprintf(stderr, "lasgi-check server: %v\n", err)
			return ExitUsage
		}
		if *target == "" {
			l := servertest.NewLauncher(*workers)
			l.Engine = *engineName
			launcher = l
		}
	}
	defer stop()
	checker := &conformance.Checker{Addr: addr, Timeout: rep.timeout, CaseTimeout: *caseTimeout, Strict: rep.strict, Launcher: launcher, Parallel: *parallel}
	if err := checker.Ping(); err != nil {
		fmt.Fprintf(stderr, "lasgi-check server: nothing to check: %v\n", err)
		return ExitUsage
	}
	w, closeOut, err := rep.open(stdout)
	if err != nil {
		fmt.Fprintf(stderr, "lasgi-check server: %v\n", err)
		return ExitUsage
	}
	defer closeOut()
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	progress := rep.progress(stdout, len(cases))
	start := time.Now()
	results := checker.RunAll(ctx, cases, progress.step)
	progress.done()
	code := rep.finish(w, stderr, results, fmt.Sprintf(" (%s, %v)", addr, time.Since(start).Round(time.Millisecond)))
	return gaveUp(stderr, "server", checker.StopReason(), code)
}

// gaveUp ends a run that stopped before its end: it says why on stderr and
// returns ExitUsage, since the report does not cover every case; with no
// reason, it returns code.
func gaveUp(stderr io.Writer, command, reason string, code int) int {
	if reason == "" {
		return code
	}
	fmt.Fprintf(stderr, "lasgi-check %s: gave up: %s\n", command, reason)
	return ExitUsage
}

// resolveTarget returns the address to check: the --url's, or that of a
// reference server started here with the probe.
func resolveTarget(raw, engineName string, workers int, stderr io.Writer) (string, func(), error) {
	if raw != "" {
		u, err := url.Parse(raw)
		if err != nil || u.Scheme != "http" || u.Host == "" {
			return "", nil, fmt.Errorf("--url %q: want http://host:port (https is not supported yet)", raw)
		}
		host := u.Host
		if u.Port() == "" {
			host = net.JoinHostPort(u.Hostname(), "80")
		}
		return host, func() {}, nil
	}
	return StartReferenceOn(engineName, workers)
}

// StartReference starts the reference server with the probe app on a free
// loopback port, on the default engine, and returns its address and a stop
// function.
func StartReference(workers int) (string, func(), error) {
	return StartReferenceOn(engine.Default, workers)
}

// StartReferenceOn is StartReference on the engine engineName.
func StartReferenceOn(engineName string, workers int) (string, func(), error) {
	src, err := app.Source("probe.lua")
	if err != nil {
		return "", nil, err
	}
	// The probe raises errors on purpose: the server's log stays quiet and
	// the report says what matters.
	s, err := servertest.StartOn(engineName, "probe.lua", src, engine.Options{Workers: workers}, server.Config{}, nil)
	if err != nil {
		return "", nil, err
	}
	return s.Addr, func() { s.Stop() }, nil
}

func cmdApp(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("app", stderr)
	run := fs.String("run", "", "only cases whose ID or one of whose rule IDs matches this regular expression")
	rep := report{command: "app"}
	rep.register(fs, "deadline of each step of a case (the app taking a body piece, returning)")
	sandbox := fs.Bool("sandbox", true, "run the app without os.execute, io.popen, io.open and the other functions that reach programs or files outside its modules (--sandbox=false lets a trusted app keep them)")
	runTimeout := fs.Duration("run-timeout", 0, "deadline of the whole run, every app and case together; the cases left are reported as not run, exit code 2 (default: 60 times --timeout)")
	interp := fs.String("lua", "embedded", "Lua to run the app on: embedded (the --engine, in process), or lua5.1, lua5.4, luajit or a path to an interpreter (then the app runs under the lint, which names the rules)")
	engineName := fs.String("engine", engine.Default, "the engine the embedded app checker runs the app on: "+strings.Join(engine.Names(), ", ")+"; not with --lua")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	if isSet(fs, "engine") && *interp != "embedded" {
		fmt.Fprintf(stderr, "lasgi-check app: --engine and --lua exclude each other: --engine picks the embedded engine, --lua runs the app under an interpreter instead\n")
		return ExitUsage
	}
	if !engine.Known(*engineName) {
		fmt.Fprintf(stderr, "lasgi-check app: --engine: %v\n", engine.UnknownError(*engineName))
		return ExitUsage
	}
	if !rep.valid(stderr) {
		return ExitUsage
	}
	if *runTimeout < 0 {
		fmt.Fprintf(stderr, "lasgi-check app: --run-timeout must not be negative, got %v\n", *runTimeout)
		return ExitUsage
	}
	if *runTimeout == 0 {
		*runTimeout = 60 * rep.timeout
	}
	appOutput := conformance.LimitWriter(stderr, 64<<10)
	var lint []byte
	if *interp != "embedded" {
		if _, err := exec.LookPath(*interp); err != nil {
			fmt.Fprintf(stderr, "lasgi-check app: --lua %s: %v (Debian: apt-get install lua5.1 lua5.4 luajit2)\n", *interp, err)
			return ExitUsage
		}
		src, err := app.Source("lint.lua")
		if err != nil {
			fmt.Fprintf(stderr, "lasgi-check app: --lua needs the lint: %v\n", err)
			return ExitUsage
		}
		lint = src
	}
	corpus, err := conformance.LoadFS(fixtures.FS, ".")
	if err != nil {
		fmt.Fprintf(stderr, "lasgi-check app: %v\n", err)
		return ExitUsage
	}
	cases, err := selectRun(append(conformance.AppCases(), conformance.ReplayCases(corpus)...), *run)
	if err != nil {
		fmt.Fprintf(stderr, "lasgi-check app: %v\n", err)
		return ExitUsage
	}
	type appFile struct {
		name string
		src  []byte
		path string // on disk, for a real interpreter; "" for a built-in app
	}
	var apps []appFile
	if fs.NArg() == 0 {
		for _, name := range app.Apps() {
			src, _ := app.Source(name)
			apps = append(apps, appFile{name, src, ""})
		}
	}
	for _, path := range fs.Args() {
		src, err := os.ReadFile(path)
		if err != nil {
			fmt.Fprintf(stderr, "lasgi-check app: %v\n", err)
			return ExitUsage
		}
		apps = append(apps, appFile{path, src, path})
	}

	w, closeOut, err := rep.open(stdout)
	if err != nil {
		fmt.Fprintf(stderr, "lasgi-check app: %v\n", err)
		return ExitUsage
	}
	defer closeOut()
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	errBudget := fmt.Errorf("the run passed --run-timeout %v", *runTimeout)
	ctx, cancelRun := context.WithTimeoutCause(ctx, *runTimeout, errBudget)
	defer cancelRun()
	progress := rep.progress(stdout, len(apps)*len(cases))
	var results []conformance.Result
	for _, a := range apps {
		if lint != nil {
			rs, err := runInterpreter(ctx, *interp, lint, a.name, a.src, a.path, cases, rep.timeout, rep.strict, *sandbox)
			if err != nil {
				fmt.Fprintf(stderr, "lasgi-check app: %v\n", err)
				return ExitUsage
			}
			for _, r := range rs {
				r.Case.ID = a.name + " " + r.Case.ID
				results = append(results, r)
				progress.step(len(results)-1, r)
			}
			continue
		}
		// The app's own busy limit is longer than the case's, so the case
		// ends first and names what the app did not do.
		// What the app prints goes to stderr, bounded: stdout may carry the report.
		opts := engine.Options{Workers: 1, BusyTimeout: 2 * rep.timeout, Async: true, Sandbox: *sandbox, Output: appOutput}
		eng, err := engine.Load(*engineName, a.name, a.src, opts)
		if err != nil {
			// An app file that does not load into a callable is a failed check.
			r := conformance.Result{Case: &conformance.Case{ID: a.name + " app.load/callable", Rules: []string{"core.app.callable"}, File: "app.json"},
				Status: conformance.Failed, Message: conformance.ClipText(err.Error())}
			results = append(results, r)
			progress.step(len(results)-1, r)
			continue
		}
		eng.Close()
		checker := &conformance.AppChecker{Timeout: rep.timeout, Strict: rep.strict, Load: func() (bridge.Engine, error) {
			return engine.Load(*engineName, a.name, a.src, opts)
		}}
		first := len(results)
		for _, r := range checker.RunAll(ctx, cases, func(i int, r conformance.Result) {
			r.Case.ID = a.name + " " + r.Case.ID
			progress.step(first+i, r)
		}) {
			results = append(results, r)
		}
		checker.Close()
	}
	progress.done()
	code := rep.finish(w, stderr, results, "")
	reason := ""
	if context.Cause(ctx) == errBudget {
		notRun := 0
		for _, r := range results {
			if strings.HasPrefix(r.Message, "not run: ") {
				notRun++
			}
		}
		reason = fmt.Sprintf("%v; %d of %d cases not run", errBudget, notRun, len(results))
	}
	return gaveUp(stderr, "app", reason, code)
}

// runInterpreter checks one app under a real interpreter; a built-in app is
// written to a temporary file first.
func runInterpreter(ctx context.Context, interp string, lint []byte, name string, src []byte, path string, cases []*conformance.AppCase, timeout time.Duration, strict, sandbox bool) ([]conformance.Result, error) {
	if path == "" {
		dir, err := os.MkdirTemp("", "lasgi-check-app")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		path = filepath.Join(dir, name)
		if err := os.WriteFile(path, src, 0o644); err != nil {
			return nil, err
		}
	}
	k := &conformance.InterpreterChecker{Interpreter: interp, Lint: lint, Timeout: timeout, Strict: strict, Sandbox: sandbox}
	return k.RunAll(ctx, path, cases)
}

func cmdList(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("list", stderr)
	var corpus corpusFlags
	corpus.register(fs)
	if code, ok := parse(fs, args); !ok {
		return code
	}
	cases, err := corpus.load()
	if err != nil {
		fmt.Fprintf(stderr, "lasgi-check list: %v\n", err)
		return ExitUsage
	}
	fmt.Fprintf(stdout, "%d cases:\n", len(cases))
	byRule := map[string]int{}
	for _, c := range cases {
		fmt.Fprintf(stdout, "  %-48s %s\n", c.ID, strings.Join(c.Rules, " "))
		for _, r := range c.Rules {
			byRule[r]++
		}
	}
	rules := spec.Rules()
	fmt.Fprintf(stdout, "\n%d rules (cases checking each, or why none can):\n", len(rules))
	for _, r := range rules {
		note := fmt.Sprintf("%d", byRule[r.ID])
		if r.Untestable != "" {
			note = "untestable: " + r.Untestable
		}
		fmt.Fprintf(stdout, "  %-44s %-10s %-6s %s\n", r.ID, r.Level, r.Side, note)
	}
	return ExitPassed
}

// cmdPrint prints one of the Lua files a user hosts or wraps around an app.
func cmdPrint(command, file string, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet(command, stderr)
	if code, ok := parse(fs, args); !ok {
		return code
	}
	src, err := app.Source(file)
	if err != nil {
		fmt.Fprintf(stderr, "lasgi-check %s: %v\n", command, err)
		return ExitUsage
	}
	stdout.Write(src)
	return ExitPassed
}

func cmdRecord(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("record", stderr)
	target := fs.String("url", "", "base URL of a server running the probe app; default: the built-in reference server")
	timeout := fs.Duration("timeout", 5*time.Second, "deadline of each network step")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "lasgi-check record: name the fixture files to re-record")
		return ExitUsage
	}
	addr, stop, err := resolveTarget(*target, engine.Default, 1, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "lasgi-check record: %v\n", err)
		return ExitUsage
	}
	defer stop()
	checker := &conformance.Checker{Addr: addr, Timeout: *timeout}
	if *target == "" {
		checker.Launcher = servertest.NewLauncher(1)
	}
	code := ExitPassed
	for _, file := range fs.Args() {
		n, err := conformance.RecordFile(context.Background(), checker, file)
		if err != nil {
			fmt.Fprintf(stderr, "lasgi-check record: %v\n", err)
			code = ExitFailed
			continue
		}
		fmt.Fprintf(stdout, "%s: recorded %d cases\n", file, n)
	}
	return code
}

// isSet reports whether the flag name was given on the command line.
func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progress shows how the run goes: a counter redrawn in place on a terminal,
// or one line per case otherwise.
type progress struct {
	term    io.Writer // the in-place counter goes here, or nil
	lines   io.Writer // per-case lines go here, or nil
	total   int
	counter [4]int // passed, failed, warnings, skipped
}

// report holds the flags every checking command shares: the report format,
// where it goes, and the step deadline.
type report struct {
	command string // for messages and the JUnit suite name
	format  string
	out     string
	timeout time.Duration
	strict  bool // a case that broke only SHOULD, SHOULD NOT or MAY rules fails
}

func (r *report) register(fs *flag.FlagSet, timeoutUsage string) {
	fs.StringVar(&r.format, "format", "text", "report format: text, json or junit")
	fs.StringVar(&r.out, "out", "", "write the report to this file instead of standard output")
	fs.DurationVar(&r.timeout, "timeout", 5*time.Second, timeoutUsage)
	fs.BoolVar(&r.strict, "strict", false, "fail cases that broke only SHOULD, SHOULD NOT or MAY rules (warnings otherwise: reported, exit code 0)")
}

// valid checks the flags and says what is wrong.
func (r *report) valid(stderr io.Writer) bool {
	switch {
	case r.format != "text" && r.format != "json" && r.format != "junit":
		fmt.Fprintf(stderr, "lasgi-check %s: --format must be text, json or junit, got %q\n", r.command, r.format)
	case r.timeout <= 0:
		fmt.Fprintf(stderr, "lasgi-check %s: --timeout must be positive, got %v\n", r.command, r.timeout)
	default:
		return true
	}
	return false
}

// open returns where the report goes: --out, or stdout.
func (r *report) open(stdout io.Writer) (io.Writer, func(), error) {
	if r.out == "" {
		return stdout, func() {}, nil
	}
	f, err := os.Create(r.out)
	if err != nil {
		return nil, nil, err
	}
	return f, func() { f.Close() }, nil
}

// progress follows the run on stdout when the text report goes there: in
// place on a terminal, one line per case otherwise.
func (r *report) progress(stdout io.Writer, total int) *progress {
	p := &progress{total: total}
	if r.format == "text" && r.out == "" {
		if isTerminal(stdout) {
			p.term = stdout
		} else {
			p.lines = stdout
		}
	}
	return p
}

// finish writes the report, repeats the summary on stderr when the report
// went elsewhere or is not text, and returns the exit code.
func (r *report) finish(w, stderr io.Writer, results []conformance.Result, summaryNote string) int {
	var err error
	switch r.format {
	case "json":
		err = conformance.WriteJSON(w, results)
	case "junit":
		err = conformance.WriteJUnit(w, "lasgi-check."+r.command, results)
	default:
		err = conformance.WriteText(w, results)
	}
	if err != nil {
		fmt.Fprintf(stderr, "lasgi-check %s: writing the report: %v\n", r.command, err)
		return ExitUsage
	}
	sum := conformance.Summarize(results)
	if r.out != "" || r.format != "text" {
		fmt.Fprintf(stderr, "%s%s\n", sum, summaryNote)
	}
	if sum.Failed > 0 {
		return ExitFailed
	}
	return ExitPassed
}

func (p *progress) step(i int, r conformance.Result) {
	switch r.Status {
	case conformance.Passed:
		p.counter[0]++
	case conformance.Failed:
		p.counter[1]++
	case conformance.Warning:
		p.counter[2]++
	default:
		p.counter[3]++
	}
	if p.term != nil {
		fmt.Fprintf(p.term, "\r\033[K[%d/%d] %d passed, %d failed, %d warnings, %d skipped  %s", i+1, p.total, p.counter[0], p.counter[1], p.counter[2], p.counter[3], r.Case.ID)
	}
	if p.lines != nil {
		fmt.Fprintf(p.lines, "%-7s %s\n", r.Status, r.Case.ID)
	}
}

func (p *progress) done() {
	if p.term != nil {
		fmt.Fprint(p.term, "\r\033[K")
	}
}
