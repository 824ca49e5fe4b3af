package app_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	lua "github.com/yuin/gopher-lua"

	"github.com/google/go-cmp/cmp"

	"github.com/lasgi/lasgi/conformance"
	"github.com/lasgi/lasgi/reference/app"
	"github.com/lasgi/lasgi/reference/server"
	"github.com/lasgi/lasgi/reference/server/bridge"
	"github.com/lasgi/lasgi/reference/server/gopherlua"
	"github.com/lasgi/lasgi/reference/server/servertest"
	"github.com/lasgi/lasgi/spec"
	"github.com/lasgi/lasgi/spec/event"
)

const (
	lintName        = "lint.lua"
	lintDriverPath  = "testdata/lint/drive.lua"
	lintCasesPath   = "testdata/lint/cases.lua"
	lintWSCasesPath = "testdata/lint/ws_cases.lua"
	lintLSCasesPath = "testdata/lint/lifespan_cases.lua"
	lintTMCasesPath = "testdata/lint/timers_cases.lua"
	lintGRCasesPath = "testdata/lint/groups_cases.lua"
	faultsGlob      = "testdata/faults/*.lua"
	slipsGlob       = "testdata/slips/*.lua"
	lintFaultPrefix = "-- fault: "
)

var (
	// idShaped finds everything in lint.lua shaped like a rule ID: an area, then dotted
	// lowercase parts. Event types and extension names have the same shape.
	idShaped = regexp.MustCompile(`\b(?:core|http|websocket|lifespan|timers|groups)(?:\.[a-z0-9-]+)+\b`)
	// failCall finds the rule ID literal of each fail("<id>", ...) in lint.lua.
	failCall = regexp.MustCompile(`\bfail\(\s*("[^"]*"|[^,)]*)`)
	// lintRaised finds the rule of each lint error in a text.
	advisoryEntry = regexp.MustCompile(`\["([a-z0-9.-]+)"\] = "([A-Z ]+)"`)
	lintRaised    = regexp.MustCompile(`lasgi-lint: ([a-z0-9]+(?:\.[a-z0-9-]+)+): `)
)

// lintCaseFiles are the driver's case files: every rule the lint names has a case in one
// of them that makes it raise that rule.
var lintCaseFiles = []string{lintCasesPath, lintWSCasesPath, lintLSCasesPath, lintTMCasesPath, lintGRCasesPath}

// notRules are the names in lint.lua shaped like rule IDs that are not rules.
var notRules = map[string]bool{
	event.HTTPRequest: true, event.HTTPDisconnect: true, event.HTTPResponseStart: true,
	event.HTTPResponseBody: true, event.HTTPResponseTrailers: true, // also the trailers extension's name
	event.WebSocketConnect: true, event.WebSocketAccept: true, event.WebSocketReceive: true,
	event.WebSocketSend: true, event.WebSocketClose: true, event.WebSocketDisconnect: true,
	event.WebSocketDenialStart: true, event.WebSocketDenialBody: true, event.ExtensionWebSocketDeny: true,
	event.LifespanStartup: true, event.LifespanStartupComplete: true, event.LifespanStartupFailed: true,
	event.LifespanShutdown: true, event.LifespanShutdownComplete: true, event.LifespanShutdownFailed: true,
}

// lintSource is lint.lua as embedded.
func lintSource() string {
	GinkgoHelper()
	src, err := app.Source(lintName)
	Expect(err).NotTo(HaveOccurred())
	return string(src)
}

// withLint is an app file that returns lint(app) for the app file src, both kept as they
// are inside functions of their own.
// withLint wraps an app in the strict lint, which raises for SHOULD rules too, so that
// every seeded fault shows as an error in the server's log.
func withLint(lint string, src []byte) []byte {
	return []byte("local lint = (function(...)\n" + lint + "\nend)(...)\n" +
		"local app = (function(...)\n" + string(src) + "\nend)(...)\n" +
		"return lint(app, {strict = true})\n")
}

// lintRules lists the distinct rules of the lint errors in text, in order.
func lintRules(text string) []string { return rulesIn(lintRaised, text) }

// rulesIn lists the distinct rules re's first group finds in text, in order.
func rulesIn(re *regexp.Regexp, text string) []string {
	var out []string
	for _, m := range re.FindAllStringSubmatch(text, -1) {
		if !contains(out, m[1]) {
			out = append(out, m[1])
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// checkAppWith plays cases against the app file f on one checker: "go" is
// lasgi-check app's embedded VM, anything else an external interpreter
// running the app under the lint. An app that does not load gives one
// result, app.load/callable.
func checkAppWith(checker, f string, cases []*conformance.AppCase, lint []byte, strict bool) []conformance.Result {
	if checker != "go" {
		k := &conformance.InterpreterChecker{Interpreter: interpreterPaths[checker], Lint: lint, Timeout: 2 * time.Second, Strict: strict}
		results, err := k.RunAll(context.Background(), f, cases)
		Expect(err).NotTo(HaveOccurred())
		return results
	}
	src, err := os.ReadFile(f)
	Expect(err).NotTo(HaveOccurred())
	opts := gopherlua.Options{Workers: 1, BusyTimeout: 10 * time.Second, Async: true}
	eng, err := gopherlua.Load(f, src, opts)
	if err != nil {
		Expect(err.Error()).To(ContainSubstring("lasgi: " + event.RuleAppCallable + ": "))
		return []conformance.Result{{Case: &conformance.Case{ID: "app.load/callable", Rules: []string{event.RuleAppCallable}}, Status: conformance.Failed}}
	}
	eng.Close()
	ac := &conformance.AppChecker{Timeout: 3 * time.Second, Strict: strict, Load: func() (bridge.Engine, error) {
		return gopherlua.Load(f, src, opts)
	}}
	defer ac.Close()
	return ac.RunAll(context.Background(), cases, nil)
}

// engineChecksFaults are faults that the reference engine raises before the lint can
// see them, and why the lint leaves them to it there (the lint names them under
// lua5.1, lua5.4 and luajit: "names the same rule as the Go checker").
var engineChecksFaults = map[string]string{
	"receive-from-own-coroutine.lua": "gopher-lua's pcall runs its function in a coroutine, so the lint cannot tell the app's own coroutines from pcall's there",
}

// engineRaised finds the rules the engine named in the errors it raised.
var engineRaised = regexp.MustCompile(`lasgi: ([a-z0-9]+(?:\.[a-z0-9-]+)+): `)

// faultRule reads the rule of a seeded fault from its first line.
func faultRule(src []byte) (string, bool) {
	first, _, _ := strings.Cut(string(src), "\n")
	return strings.CutPrefix(first, lintFaultPrefix)
}

// ---------------------------------------------------------------------------------------
// Talking to a server

// rawExchange writes raw on a new connection to addr and reads one response to method.
func rawExchange(addr, method, raw string) (*wireResponse, error) {
	c, err := net.DialTimeout("tcp", addr, ioDeadline)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(ioDeadline)); err != nil {
		return nil, err
	}
	if _, err := io.WriteString(c, raw); err != nil {
		return nil, err
	}
	res, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: method})
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	return &wireResponse{Status: res.StatusCode, Header: res.Header, Body: string(b), Trailer: res.Trailer,
		Chunked: len(res.TransferEncoding) > 0 && res.TransferEncoding[0] == "chunked"}, nil
}

// leaveMidBody starts a POST whose body never arrives in full, and goes away.
func leaveMidBody(addr string) error {
	c, err := net.DialTimeout("tcp", addr, ioDeadline)
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = io.WriteString(c, "POST /upload HTTP/1.1\r\nHost: lint.test\r\nContent-Length: 100\r\n\r\nabc")
	time.Sleep(50 * time.Millisecond) // the app takes the first piece
	return err
}

// lintRequest is a request every reference app answers 200 under the lint.
type lintRequest struct {
	name, method, raw string
}

var lintRequests = []lintRequest{
	{"GET", "GET", "GET /?parts=3 HTTP/1.1\r\nHost: lint.test\r\n\r\n"},
	{"HEAD", "HEAD", "HEAD / HTTP/1.1\r\nHost: lint.test\r\n\r\n"},
	{"POST with content-length", "POST", "POST /echo HTTP/1.1\r\nHost: lint.test\r\nContent-Length: 11\r\n\r\nhello world"},
	{"POST chunked", "POST", "POST /echo HTTP/1.1\r\nHost: lint.test\r\nTransfer-Encoding: chunked\r\n\r\n" +
		"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"},
	{"escaped path, invalid UTF-8, padded header", "GET",
		"GET /caf%C3%A9/%FF%E2%82%20x/%2F?a=%20&parts=1 HTTP/1.1\r\nHost: lint.test\r\nX-Pad: \t padded \t\r\nX-Dup: 1\r\nX-Dup: 2\r\n\r\n"},
	{"asterisk", "OPTIONS", "OPTIONS * HTTP/1.1\r\nHost: lint.test\r\n\r\n"},
	{"absolute form", "GET", "GET http://lint.test/abs?parts=2 HTTP/1.1\r\nHost: lint.test\r\n\r\n"},
	{"HTTP/1.0", "GET", "GET /?parts=1 HTTP/1.0\r\n\r\n"},
}

// startWithLint serves the app file src wrapped in the lint, until the spec ends.
func startWithLint(name string, src []byte, cfg server.Config) *servertest.Server {
	GinkgoHelper()
	s, err := servertest.Start(name, withLint(lintSource(), src), gopherlua.Options{Workers: 1, BusyTimeout: 10 * time.Second}, cfg, GinkgoWriter)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { Expect(s.Stop()).To(Succeed()) })
	return s
}

// expectCleanLog stops s and checks that nothing went wrong in it: no lint error, no app error.
func expectCleanLog(s *servertest.Server) {
	GinkgoHelper()
	Expect(s.Stop()).To(Succeed())
	Expect(s.Log.String()).NotTo(ContainSubstring("lasgi-lint:"))
	Expect(s.Log.String()).NotTo(ContainSubstring("app error"))
}

// ---------------------------------------------------------------------------------------
// Seeded faults

// scopeOnlyFaults are faults whose violation shows only in a scope the reference server
// never hands out; they are played through the bridge with that scope instead.
var scopeOnlyFaults = map[string]func(*event.Scope){
	"serves-any-scope-type.lua": func(s *event.Scope) { s.Type = "x-unknown" },
	"trailers-not-offered.lua":  func(s *event.Scope) { s.Extensions = nil },
}

// faultInServer serves the fault wrapped in the lint, makes a few requests (a GET, a POST,
// a POST the client leaves in the middle of the body) and returns what the server logged.
func faultInServer(lint, name string, src []byte) string {
	s, err := servertest.Start(name, withLint(lint, src), gopherlua.Options{Workers: 1, BusyTimeout: 10 * time.Second}, server.Config{}, GinkgoWriter)
	if err != nil {
		return err.Error() // the file does not load
	}
	defer s.Stop()
	_, _ = rawExchange(s.Addr, "GET", "GET / HTTP/1.1\r\nHost: lint.test\r\n\r\n")
	_, _ = rawExchange(s.Addr, "POST", "POST / HTTP/1.1\r\nHost: lint.test\r\nContent-Length: 5\r\n\r\nhello")
	_ = leaveMidBody(s.Addr)
	// Errors after a complete response are logged when the app ends: wait until the log
	// has a lint error and has been quiet for a moment.
	deadline := time.Now().Add(10 * time.Second)
	last := ""
	for time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		now := s.Log.String()
		if now == last && strings.Contains(now, "lasgi-lint:") {
			break
		}
		last = now
	}
	_ = s.Stop()
	return s.Log.String()
}

// protocolFaults are the prefixes of the names of the seeded faults of websocket and
// lifespan scopes, each with the protocol whose app cases faultOnCases plays. The reference
// server offers lasgi.timers and lasgi.groups in every http and websocket scope, so an
// argument to receive() or a group event where they are not offered shows only in
// lasgi-check's lifespan cases, which offer neither; and so does a join in lifespan.
var protocolFaults = map[string]string{"ws-": "websocket", "lifespan-": "lifespan", "timers-offered-only.lua": "lifespan",
	"groups-offered-only.lua": "lifespan", "groups-lifespan-join.lua": "lifespan"}

// faultOnCases plays lasgi-check app's cases of protocol against the fault wrapped in
// the lint, on the reference engine, and returns the results' messages: how each app
// call ended.
func faultOnCases(lint, name string, src []byte, protocol string) string {
	wrapped := withLint(lint, src)
	opts := gopherlua.Options{Workers: 1, BusyTimeout: 10 * time.Second, Async: true}
	if _, err := gopherlua.Load(name, wrapped, opts); err != nil {
		return err.Error()
	}
	ac := &conformance.AppChecker{Timeout: 3 * time.Second, Load: func() (bridge.Engine, error) {
		return gopherlua.Load(name, wrapped, opts)
	}}
	defer ac.Close()
	var out []string
	for _, r := range ac.RunAll(context.Background(), conformance.AppCasesOf(protocol), nil) {
		out = append(out, r.Case.ID+": "+string(r.Status)+": "+r.Message)
	}
	return strings.Join(out, "\n")
}

// faultOnBridge plays one GET in the changed scope against the fault wrapped in the lint,
// on the reference engine, and returns how the app call ended.
func faultOnBridge(lint, name string, src []byte, change func(*event.Scope)) string {
	eng, err := gopherlua.Load(name, withLint(lint, src), gopherlua.Options{Workers: 1, BusyTimeout: 10 * time.Second})
	if err != nil {
		return err.Error()
	}
	defer eng.Close()
	scope := event.Scope{
		Type: "http", HTTPVersion: "1.1", Method: "GET", Scheme: "http", Path: "/", RawPath: "/",
		Headers:    []event.Header{{Name: "host", Value: "lint.test"}},
		Client:     &event.Addr{Host: "127.0.0.1", Port: 50000},
		Server:     &event.Addr{Host: "127.0.0.1", Port: 8000},
		Extensions: []string{event.ExtensionTrailers},
	}
	change(&scope)
	call := bridge.NewCall(&scope, time.Now().Add(10*time.Second))
	call.Push(event.Event{Type: event.HTTPRequest})
	eng.Start(call)
	timeout := time.After(15 * time.Second)
	for !call.State().Finished {
		select {
		case <-call.Notify():
			n := 0
			for _, ev := range call.Take() {
				n += len(ev.Body)
			}
			call.Written(n)
		case <-timeout:
			return "the app did not end"
		}
	}
	if err := call.State().Err; err != nil {
		return err.Error()
	}
	return "the app returned"
}

// ---------------------------------------------------------------------------------------
// The driver on every interpreter

// lintDriver runs the driver over the case file casesPath.
func lintDriver(casesPath string) func(ctx context.Context, interp, mode string) (string, error) {
	return func(ctx context.Context, interp, mode string) (string, error) {
		return runLintDriver(ctx, interp, casesPath, mode)
	}
}

func runLintDriver(ctx context.Context, interp, casesPath, mode string) (string, error) {
	if interp == gopherLua {
		L := lua.NewState()
		defer L.Close()
		L.SetContext(ctx)
		if err := L.DoFile(lintDriverPath); err != nil {
			return "", fmt.Errorf("gopher-lua: loading %s: %w", lintDriverPath, err)
		}
		drive := L.Get(-1)
		L.Pop(1)
		if err := L.CallByParam(lua.P{Fn: drive, NRet: 1, Protect: true},
			lua.LString(lintName), lua.LString(casesPath), lua.LString(mode)); err != nil {
			return "", fmt.Errorf("gopher-lua: drive %s: %w", mode, err)
		}
		out, ok := L.Get(-1).(lua.LString)
		if !ok {
			return "", fmt.Errorf("gopher-lua: drive returned a %s", L.Get(-1).Type())
		}
		return string(out), nil
	}
	return runScript(ctx, interp, "", lintDriverPath, lintName, casesPath, mode)
}

// lintCase is one case of the driver's transcript.
type lintCase struct {
	name, want, afterWant string
	result, after         string // "ok", a rule ID, "warn:" and a rule ID, or "error" (an error that is not the lint's)
	warned                string // the first rule the lint warned of
	lines                 []string
}

// outcome reduces a result line's rest to "ok", the lint's rule, or "error".
func outcome(rest string) string {
	if rest == "ok" {
		return "ok"
	}
	msg, _ := strings.CutPrefix(rest, "error ")
	if m := lintRaised.FindStringSubmatch(msg); m != nil && strings.HasPrefix(msg, "lasgi-lint: ") {
		return m[1]
	}
	return "error"
}

func parseLintTranscript(out string) ([]lintCase, error) {
	var cases []lintCase
	for i, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		op, rest, _ := strings.Cut(line, " ")
		if op != "case" && len(cases) == 0 {
			return nil, fmt.Errorf("line %d: %q before the first case", i+1, line)
		}
		switch op {
		case "case":
			f := strings.Fields(rest)
			if len(f) != 3 && len(f) != 5 || f[1] != "want" {
				return nil, fmt.Errorf("line %d: bad case line %q", i+1, line)
			}
			c := lintCase{name: f[0], want: f[2]}
			if len(f) == 5 {
				c.afterWant = f[4]
			}
			cases = append(cases, c)
			continue
		case "warn":
			if c := &cases[len(cases)-1]; c.warned == "" {
				c.warned = rest
			}
		case "result":
			c := &cases[len(cases)-1]
			c.result = outcome(rest)
			if c.result == "ok" && c.warned != "" {
				c.result = "warn:" + c.warned
			}
		case "after":
			cases[len(cases)-1].after = outcome(rest)
		case "receive", "send":
		default:
			return nil, fmt.Errorf("line %d: unknown record %q", i+1, line)
		}
		cases[len(cases)-1].lines = append(cases[len(cases)-1].lines, line)
	}
	return cases, nil
}

// ---------------------------------------------------------------------------------------
// Specs

var _ = Describe("lint.lua", func() {
	Describe("its rule IDs", func() {
		It("are all in the catalog", func() {
			src := lintSource()
			var unknown, rules []string
			for _, id := range idShaped.FindAllString(src, -1) {
				if notRules[id] || contains(rules, id) {
					continue
				}
				if _, ok := spec.Lookup(id); !ok {
					unknown = append(unknown, id)
					continue
				}
				rules = append(rules, id)
			}
			Expect(unknown).To(BeEmpty(), "names in lint.lua shaped like rule IDs that are neither rules of the catalog nor event types")
			Expect(len(rules)).To(BeNumerically(">=", 50), "rule IDs found in lint.lua: %v", rules)

			calls := failCall.FindAllStringSubmatch(src, -1)
			Expect(len(calls)).To(BeNumerically(">=", 50))
			for _, m := range calls {
				id := strings.Trim(m[1], `"`)
				if m[1] == "rule" { // fail(rule, ...) passes a literal given further up
					continue
				}
				Expect(m[1]).To(HavePrefix(`"`), "fail( takes the rule ID as a string literal: %s", m[0])
				_, ok := spec.Lookup(id)
				Expect(ok).To(BeTrue(), "fail(%q) names no rule of the catalog", id)
			}
		})

		It("warn rather than raise for exactly the rules whose level does not bind, as the catalog says", func() {
			src := lintSource()
			start := strings.Index(src, "local ADVISORY = {")
			Expect(start).To(BeNumerically(">=", 0), "lint.lua has its ADVISORY table")
			table, _, _ := strings.Cut(src[start:], "\n}")
			got := map[string]string{}
			for _, m := range advisoryEntry.FindAllStringSubmatch(table, -1) {
				got[m[1]] = m[2]
			}
			want := map[string]string{}
			for _, id := range idShaped.FindAllString(src, -1) {
				if r, ok := spec.Lookup(id); ok && !conformance.Binding(r.Level) {
					want[id] = string(r.Level)
				}
			}
			Expect(want).NotTo(BeEmpty())
			Expect(cmp.Diff(want, got)).To(BeEmpty(), "ADVISORY in lint.lua (-catalog +lint)")
		})

		It("include every rule the reference server's checks name, but the disconnected error", func() {
			src := lintSource()
			// core.value.integer and core.value.bytes are named by no Go check, and the
			// disconnected error (http.send.after-disconnect, websocket.send.after-disconnect)
			// is the server's to raise: the lint passes it on; so is groups.send.unavailable
			// (no service behind it to reach).
			skip := []string{event.RuleInteger, event.RuleBytes, event.RuleAfterDisconnect, event.RuleWSSendAfterDisc,
				event.RuleGroupsUnavailable}
			lifespan := []string{event.RuleLifespanStartupOrder, event.RuleLifespanStartupMessage,
				event.RuleLifespanShutdownReply, event.RuleLifespanShutdownMessage}
			var missing []string
			for _, id := range append(append(slices.Clone(event.CheckedRules), event.WebSocketRules...), lifespan...) {
				if !contains(skip, id) && !strings.Contains(src, `"`+id+`"`) {
					missing = append(missing, id)
				}
			}
			Expect(missing).To(BeEmpty())
		})
	})

	Describe("in the reference server, around every reference app", func() {
		checks := map[string]func(r lintRequest, res *wireResponse){
			"hello.lua": func(r lintRequest, res *wireResponse) {
				if r.method != "HEAD" {
					Expect(res.Body).To(Equal("Hello World!"), r.name)
				}
			},
			"echo.lua": func(r lintRequest, res *wireResponse) {
				if r.method == "POST" {
					Expect(res.Body).To(HaveSuffix("\n\nhello world"), r.name)
				}
			},
			"stream.lua": func(r lintRequest, res *wireResponse) {
				switch {
				case r.method == "POST":
					Expect(res.Body).To(Equal("hello world"), r.name)
				case r.name == "GET":
					Expect(res.Body).To(Equal("part 1\npart 2\npart 3\n"), r.name)
				}
			},
			"scope.lua": func(r lintRequest, res *wireResponse) {
				if r.method != "HEAD" {
					Expect(res.Body).To(HavePrefix("{"), r.name)
				}
			},
			"probe.lua": func(r lintRequest, res *wireResponse) {
				if r.method != "HEAD" {
					Expect(res.Body).To(Equal("ok"), r.name)
				}
			},
		}

		// Apps these requests do not fit, and where they are run under the lint instead.
		elsewhere := map[string]string{
			"sse.lua":      "streams until the client leaves and answers GET and HEAD only: sse_test.go runs it under the strict lint",
			"ws_chat.lua":  "a WebSocket app that answers http GET and HEAD only: groups_apps_test.go runs it",
			"longpoll.lua": "answers /poll and /publish only, a poll waiting for news: groups_apps_test.go runs it",
		}
		for _, name := range app.Apps() {
			if _, ok := elsewhere[name]; ok {
				continue
			}
			It("trips no check over GET, HEAD, POST (sized and chunked), odd targets and HTTP/1.0: "+name, func() {
				src, err := app.Source(name)
				Expect(err).NotTo(HaveOccurred())
				s := startWithLint(name, src, server.Config{})
				for _, r := range lintRequests {
					res, err := rawExchange(s.Addr, r.method, r.raw)
					Expect(err).NotTo(HaveOccurred(), r.name)
					Expect(res.Status).To(Equal(200), "%s: %q", r.name, res.Body)
					if r.method == "HEAD" {
						Expect(res.Body).To(BeEmpty())
					}
					if check := checks[name]; check != nil {
						check(r, res)
					}
				}
				expectCleanLog(s)
			})
		}

		It("trips no check with a root path: scope.lua", func() {
			src, err := app.Source("scope.lua")
			Expect(err).NotTo(HaveOccurred())
			s := startWithLint("scope.lua", src, server.Config{RootPath: "/mnt"})
			res, err := rawExchange(s.Addr, "GET", "GET /mnt/x%20y HTTP/1.1\r\nHost: lint.test\r\n\r\n")
			Expect(err).NotTo(HaveOccurred())
			Expect(res.Status).To(Equal(200))
			Expect(res.Body).To(ContainSubstring(`"root_path":"/mnt"`))
			expectCleanLog(s)
		})

		It("trips no check over probe scripts: streaming, content-length, trailers, 204, echo, receive after the end", func() {
			src, err := app.Source("probe.lua")
			Expect(err).NotTo(HaveOccurred())
			s := startWithLint("probe.lua", src, server.Config{})
			srv := &probeServer{addr: s.Addr, log: s.Log}

			res := srv.request("GET", "drain start:200 body:a end:b", "")
			Expect(res.Status).To(Equal(200))
			Expect(res.Body).To(Equal("ab"))

			res = srv.request("GET", "drain hdr:content-length:3 start:200 body:a end:bc", "")
			Expect(res.Body).To(Equal("abc"))
			Expect(res.Chunked).To(BeFalse())

			res = srv.request("GET", "drain trailers start:200 body:a end:b trailer:x-sum:1 sendtrailers", "", "TE: trailers")
			Expect(res.Body).To(Equal("ab"))
			Expect(res.Trailer.Get("x-sum")).To(Equal("1"))

			res = srv.request("GET", "drain start:204 end", "")
			Expect(res.Status).To(Equal(204))

			body := pseudoBytes(300_000, 3)
			res = srv.request("POST", "start:200 echo end", body)
			Expect(res.Body == body).To(BeTrue(), "the body came back")

			res = srv.request("POST", "drain start:200 end:ok recv recv", "x")
			Expect(res.Body).To(Equal("ok"))

			res = srv.request("GET", "noreport start:200 fill:1048576 end", "")
			Expect(len(res.Body)).To(Equal(1 << 20))

			res = srv.request("GET", "", "")
			Expect(res.Body).To(Equal("ok"))
			expectCleanLog(s)
		})

		Describe("raises what the server raises, in its place", func() {
			var srv *probeServer
			BeforeEach(func() {
				src, err := app.Source("probe.lua")
				Expect(err).NotTo(HaveOccurred())
				s := startWithLint("probe.lua", src, server.Config{})
				srv = &probeServer{addr: s.Addr, log: s.Log}
			})

			// sendRules returns the rule named by each entry of the report's sends.
			sendRules := func(report any) []string {
				var out []string
				for _, s := range sendsOf(report) {
					Expect(s.Error).To(HavePrefix("lasgi-lint: "), "the lint, not the server, rejected %s", s.Action)
					out = append(out, s.Action+" "+lintRules(s.Error)[0])
				}
				return out
			}

			DescribeTable("bad kinds before the start",
				func(kind, rule string) {
					res := srv.request("GET", "bad:"+kind+" start:200 end:ok", "")
					Expect(res.Status).To(Equal(200), "body %q", res.Body)
					Expect(res.Body).To(Equal("ok"))
					Expect(sendRules(res.report())).To(Equal([]string{"bad:" + kind + " " + rule}))
				},
				beforeStartEntries(),
			)

			DescribeTable("bad kinds after the start",
				func(token, script, kind, rule string) {
					res := srv.request("GET", "token:"+token+" "+script, "")
					Expect(res.Status).To(BeNumerically(">=", 200))
					Expect(sendRules(srv.fetchReport(token))).To(Equal([]string{"bad:" + kind + " " + rule}))
				},
				Entry(nil, "t1", "start:200 bad:start-again end", "start-again", "http.start.once"),
				Entry(nil, "t2", "start:204 bad:body-nonempty end", "body-nonempty", "http.body.no-body-status"),
				Entry(nil, "t3", "hdr:content-length:0 start:200 bad:body-nonempty end", "body-nonempty", "http.body.content-length"),
				Entry(nil, "t4", "start:200 bad:trailers-unasked end", "trailers-unasked", "http.trailers.requires-flag"),
				Entry(nil, "t5", "trailers start:200 bad:trailers-unasked end sendtrailers", "trailers-unasked", "http.trailers.after-body"),
				Entry(nil, "t6", "start:200 end bad:after-complete", "after-complete", "http.send.after-complete"),
			)
		})
	})

	It("raises each seeded fault's rule, the one lasgi-check app's Go checker names", func() {
		files, err := filepath.Glob(faultsGlob)
		Expect(err).NotTo(HaveOccurred())
		Expect(len(files)).To(BeNumerically(">=", 30))
		lint := lintSource()
		type verdict struct{ file, want, got string }
		verdicts := make([]verdict, len(files))
		var wg sync.WaitGroup
		for i, f := range files {
			src, err := os.ReadFile(f)
			Expect(err).NotTo(HaveOccurred())
			rule, ok := faultRule(src)
			Expect(ok).To(BeTrue(), "%s: the first line names the rule: %s<rule-id>", f, lintFaultPrefix)
			base := filepath.Base(f)
			wg.Add(1)
			go func() {
				defer GinkgoRecover()
				defer wg.Done()
				var text string
				protocol := ""
				for prefix, p := range protocolFaults {
					if strings.HasPrefix(base, prefix) {
						protocol = p
					}
				}
				if change, ok := scopeOnlyFaults[base]; ok {
					text = faultOnBridge(lint, base, src, change)
				} else if protocol != "" {
					text = faultOnCases(lint, base, src, protocol)
				} else {
					text = faultInServer(lint, base, src)
				}
				got := lintRules(text)
				if _, ok := engineChecksFaults[base]; ok {
					got = rulesIn(engineRaised, text)
				}
				verdicts[i] = verdict{base, rule, strings.Join(got, ", ")}
			}()
		}
		wg.Wait()
		caught := 0
		var disagreements []string
		for _, v := range verdicts {
			if v.got == v.want {
				caught++
				continue
			}
			got := v.got
			if got == "" {
				got = "nothing"
			}
			disagreements = append(disagreements, fmt.Sprintf("%s: the fault breaks %s, the lint raised %s", v.file, v.want, got))
		}
		score := fmt.Sprintf("lint: %d of %d seeded faults caught with the right rule", caught, len(files))
		GinkgoWriter.Println(score)
		AddReportEntry("lint detection score", score)
		Expect(disagreements).To(BeEmpty(), score)
	})

	It("reports each slip (a SHOULD rule the server puts right) as a warning naming its rule, and as a failure under strict, on every checker", func() {
		files, err := filepath.Glob(slipsGlob)
		Expect(err).NotTo(HaveOccurred())
		Expect(files).NotTo(BeEmpty())
		cases := conformance.AppCases()
		own := map[string][]string{}
		for _, c := range cases {
			own[c.ID] = c.Rules
		}
		lint := []byte(lintSource())
		var wrong []string
		for _, f := range files {
			src, err := os.ReadFile(f)
			Expect(err).NotTo(HaveOccurred())
			first, _, _ := strings.Cut(string(src), "\n")
			rule, ok := strings.CutPrefix(first, "-- slip: ")
			Expect(ok).To(BeTrue(), "%s: first line names the rule: -- slip: <rule-id>", f)
			entry, known := spec.Lookup(rule)
			Expect(known).To(BeTrue(), "%s: %s is not in the catalog", f, rule)
			Expect(conformance.Binding(entry.Level)).To(BeFalse(), "%s: a slip breaks a rule that does not bind; %s is %s", f, rule, entry.Level)
			for _, checker := range append([]string{"go"}, externalInterpreters...) {
				for _, strict := range []bool{false, true} {
					want := conformance.Warning
					if strict {
						want = conformance.Failed
					}
					// Some case sees the slip with its rule, and none names a rule
					// other than it and the case's own (the slips do not check
					// scope.lasgi.version, a SHOULD of its own).
					caught := false
					for _, r := range checkAppWith(checker, f, cases, lint, strict) {
						other := slices.DeleteFunc(slices.Clone(r.Broken), func(b string) bool {
							return b == rule || slices.Contains(own[r.Case.ID], b)
						})
						switch {
						case r.Status == want && slices.Contains(r.Broken, rule) && len(other) == 0:
							caught = true
						case r.Status != conformance.Passed && len(other) > 0:
							wrong = append(wrong, fmt.Sprintf("%s on %s (strict %v): %s %s %v", filepath.Base(f), checker, strict, r.Case.ID, r.Status, r.Broken))
						}
					}
					if !caught {
						wrong = append(wrong, fmt.Sprintf("%s on %s (strict %v): no case reported %s %s", filepath.Base(f), checker, strict, want, rule))
					}
				}
			}
		}
		Expect(wrong).To(BeEmpty())
	})

	It("names the same rule as the Go checker in every case lasgi-check app plays, under lua5.1, lua5.4 and luajit", func() {
		files, err := filepath.Glob(faultsGlob)
		Expect(err).NotTo(HaveOccurred())
		rules := map[string]string{}
		for _, f := range files {
			src, err := os.ReadFile(f)
			Expect(err).NotTo(HaveOccurred())
			rules[f], _ = faultRule(src)
		}
		files = append(files, app.Apps()...)
		cases := conformance.AppCases()
		lint := []byte(lintSource())

		// verdict is how a case ended: passed, or failed or warning with the rule it
		// broke first.
		verdict := func(r conformance.Result) string {
			if r.Status == conformance.Passed {
				return "passed"
			}
			return string(r.Status) + " " + r.Case.Rules[0]
		}
		// Each checker goes through the files one after the other, the four at once.
		checkers := append([]string{"go"}, externalInterpreters...)
		got := make([]map[string][]string, len(checkers))
		var wg sync.WaitGroup
		for i, checker := range checkers {
			got[i] = map[string][]string{}
			wg.Add(1)
			go func() {
				defer GinkgoRecover()
				defer wg.Done()
				for _, f := range files {
					var out []string
					results := checkAppWith(checker, f, cases, lint, false)
					if len(results) == 1 && results[0].Case.ID == "app.load/callable" {
						out = []string{"load " + results[0].Case.Rules[0]}
					} else {
						for _, r := range results {
							out = append(out, r.Case.ID+": "+verdict(r))
						}
					}
					got[i][f] = out
				}
			}()
		}
		wg.Wait()

		// The one way the two may differ: when the client goes away, the server raises
		// the disconnected error in place of checking the event (core.send.disconnected)
		// and forgives an incomplete response, so the Go checker cannot see a fault that
		// shows only after the disconnect; the lint judges every event and the app's end
		// whatever the client does, and names the fault's rule.
		seen := func(f, line string) bool {
			id, v, _ := strings.Cut(line, ": ")
			// So too in a websocket case: the Go checker hands the client's end over as
			// soon as the app took the message before it, and the app's next send may
			// raise the disconnected error there; the harness's client ends only when
			// the app asks for the next event.
			// Where the client leaves before the accept, every send raises it on the
			// server, whatever the fault's rule; the lint names the first it sees.
			if strings.HasPrefix(id, "app.websocket") && strings.HasSuffix(id, "before-accept") {
				return strings.HasPrefix(v, "failed ") || strings.HasPrefix(v, "warning ")
			}
			gone := strings.HasPrefix(id, "app.disconnect/") || strings.HasPrefix(id, "app.websocket")
			return gone && (v == "failed "+rules[f] || v == "warning "+rules[f])
		}
		var diffs []string
		lintSees := 0
		for _, f := range files {
			goSide := got[0][f]
			for i, interp := range externalInterpreters {
				lintSide := got[i+1][f]
				var d []string
				if len(lintSide) != len(goSide) {
					d = append(d, fmt.Sprintf("  - %v\n  + %v", goSide, lintSide))
				} else {
					for j := range goSide {
						switch {
						case goSide[j] == lintSide[j]:
						case strings.HasSuffix(goSide[j], ": passed") && rules[f] != "" && seen(f, lintSide[j]):
							if i == 0 {
								lintSees++
							}
						default:
							d = append(d, "  - "+goSide[j]+"\n  + "+lintSide[j])
						}
					}
				}
				if len(d) > 0 {
					diffs = append(diffs, fmt.Sprintf("%s, Go checker (-) vs the lint on %s (+):\n%s", f, interp, strings.Join(d, "\n")))
				}
			}
		}
		GinkgoWriter.Printf("lint: %d cases where only the lint sees the fault (after the client went away)\n", lintSees)
		Expect(diffs).To(BeEmpty())
	})

	It("gives the same outcome on gopher-lua, lua5.1, lua5.4 and luajit, the expected one for each case", func() {
		var wrong []string
		raised := map[string]bool{}
		count := 0
		for _, path := range lintCaseFiles {
			results := runEverywhere(lintDriver(path))
			ref := expectSameTranscripts(path, results)
			cases, err := parseLintTranscript(ref.out)
			Expect(err).NotTo(HaveOccurred(), "the transcript of %s:\n%s", path, ref.out)
			count += len(cases)
			for _, c := range cases {
				if c.result != c.want {
					wrong = append(wrong, fmt.Sprintf("%s: %s: want %s, got %s\n  %s", path, c.name, c.want, c.result, strings.Join(c.lines, "\n  ")))
				}
				if c.afterWant != "" && c.after != c.afterWant {
					wrong = append(wrong, fmt.Sprintf("%s: %s: after the call want %s, got %s", path, c.name, c.afterWant, c.after))
				}
				raised[c.result], raised[c.after] = true, true
			}
		}
		Expect(count).To(BeNumerically(">=", 100))
		Expect(wrong).To(BeEmpty())
		// Each rule the lint's code names has a case that makes it raise that rule.
		code := regexp.MustCompile(`--[^\n]*`).ReplaceAllString(lintSource(), "")
		var untried []string
		for _, id := range idShaped.FindAllString(code, -1) {
			if notRules[id] || raised[id] || contains(untried, id) {
				continue
			}
			if _, ok := spec.Lookup(id); ok {
				untried = append(untried, id)
			}
		}
		sort.Strings(untried)
		Expect(untried).To(BeEmpty(), "rules lint.lua names that no case of %v makes it raise", lintCaseFiles)
	})
})
