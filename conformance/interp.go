package conformance

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lasgi/lasgi/conformance/harness"
	"github.com/lasgi/lasgi/spec/event"
)

// Bounds on what an interpreter run may leave in memory: the harness's
// result lines, and what the app printed (kept for the error message).
const (
	maxHarnessOutput = 16 << 20
	maxAppOutput     = 64 << 10
)

// InterpreterChecker checks an app under a real Lua interpreter: the
// harness plays the server and the lint, wrapped around the app, names the
// rule of the first violation, so the app runs as it will in production.
type InterpreterChecker struct {
	Interpreter string        // lua5.1, lua5.4, luajit or a path to one
	Lint        []byte        // the lint module (reference/app/lint.lua)
	Timeout     time.Duration // each case; 0 means 5 seconds
	Strict      bool          // the lint raises for SHOULD rules too, and such a case fails
	// Sandbox removes from the app's Lua what lasgi-serve --sandbox removes
	// (running programs, files outside its modules). os.exit raises always.
	Sandbox bool

	maxOutput int // the bound on the harness's lines; 0 means maxHarnessOutput (tests lower it)
}

// RunAll plays every case against the app file in one interpreter process.
// Once ctx is done (lasgi-check app's --run-timeout), the interpreter is
// stopped and the cases it did not finish are failed as not run, ctx's cause
// the reason.
func (k *InterpreterChecker) RunAll(ctx context.Context, appPath string, cases []*AppCase) ([]Result, error) {
	timeout := k.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	interp, err := exec.LookPath(k.Interpreter)
	if err != nil {
		return nil, fmt.Errorf("--lua %s: %w (Debian: apt-get install lua5.1 lua5.4 luajit2)", k.Interpreter, err)
	}
	appAbs, err := filepath.Abs(appPath)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(appAbs); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "lasgi-check-app")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	files := map[string][]byte{"harness.lua": harness.Source, "timers.lua": harness.Timers, "groups.lua": harness.Groups, "lint.lua": k.Lint, "cases.lua": casesLua(cases, timeout)}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return nil, err
		}
	}
	parent := ctx
	// A lifespan case's http exchange has a deadline of its own: it counts
	// as a case.
	calls := len(cases)
	for _, c := range cases {
		if c.Lifespan != nil && c.Lifespan.HTTP != nil {
			calls++
		}
	}
	ctx, cancel := context.WithTimeout(ctx, timeout*time.Duration(calls+2))
	defer cancel()
	args := []string{filepath.Join(dir, "harness.lua"), appAbs, filepath.Join(dir, "cases.lua"), filepath.Join(dir, "lint.lua")}
	if k.Strict {
		args = append(args, "strict")
	}
	if k.Sandbox {
		args = append(args, "sandbox")
	}
	cmd := exec.CommandContext(ctx, interp, args...)
	// The harness's lines come on stdout; what the app prints goes to stderr
	// (the harness redirects print and io.write). Both are bounded.
	limit := k.maxOutput
	if limit <= 0 {
		limit = maxHarnessOutput
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = LimitWriter(&stdout, int64(limit)), LimitWriter(&stderr, maxAppOutput)
	runErr := cmd.Run()
	overflow := stdout.Len() > limit // LimitWriter kept limit bytes, then its note

	byID := map[string]*AppCase{}
	parentOf := map[string]string{} // a lifespan case's http exchange -> the case
	for _, c := range cases {
		byID[c.ID] = c
		if c.Lifespan != nil && c.Lifespan.HTTP != nil {
			byID[c.Lifespan.HTTP.ID], parentOf[c.Lifespan.HTTP.ID] = c.Lifespan.HTTP, c.ID
		}
	}
	lives := map[string]harnessLife{}
	subs := map[string][]string{} // a lifespan case's ID -> the problems of its http exchange
	got := map[string]Result{}
	warnings := map[string][]string{} // case ID -> the lint's warnings, as problems
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(make([]byte, 64<<10), limit+1<<10)
	for sc.Scan() {
		f := strings.Split(sc.Text(), " ") // the last field may be empty
		switch {
		case len(f) == 2 && f[0] == "load":
			detail := ClipText(unhexOr(f[1]))
			r := Result{Case: &Case{ID: "app.load/callable", Rules: []string{event.RuleAppCallable}, File: "app.json"}, Status: Failed, Message: detail}
			return []Result{r}, nil
		case len(f) == 4 && f[0] == "warn":
			id := unhexOr(f[1])
			warnings[id] = append(warnings[id], fmt.Sprintf("lasgi: %s: %s", unhexOr(f[2]), ClipText(unhexOr(f[3]))))
		case len(f) == 4 && f[0] == "lifespan":
			lives[unhexOr(f[1])] = harnessLife{phase: f[2], message: unhexOr(f[3])}
		case len(f) == 5 && f[0] == "result":
			id := unhexOr(f[1])
			c := byID[id]
			detail := ClipText(unhexOr(f[4]))
			switch {
			case c == nil:
			case parentOf[id] != "":
				subs[parentOf[id]] = interpProblems(c, f[2], f[3] == "1", detail, timeout, warnings[id])
			case c.Lifespan != nil:
				got[id] = judgeInterpLifespan(c, lives[id], f[2], detail, timeout, warnings[id], subs[id], k.Strict)
			default:
				got[id] = judgeInterp(c, f[2], f[3] == "1", detail, timeout, warnings[id], k.Strict)
			}
		}
	}
	results := make([]Result, 0, len(cases))
	for _, c := range cases {
		r, ok := got[c.ID]
		if !ok && parent.Err() != nil {
			// The run's budget (or an interrupt) stopped the interpreter.
			r, ok = Result{Case: &Case{ID: c.ID, Rules: c.Rules, File: "app.json"}, Status: Failed, Message: "not run: " + context.Cause(parent).Error()}, true
		}
		if !ok && overflow {
			why := fmt.Sprintf("the result of this case was lost: the harness wrote more than %d bytes of result lines, and lasgi-check keeps no more", limit)
			r, ok = Result{Case: &Case{ID: c.ID, Rules: c.Rules, File: "app.json"}, Status: Failed, Message: why}, true
		}
		if !ok && sc.Err() != nil {
			why := fmt.Sprintf("the result of this case was lost: reading the harness's lines: %v", sc.Err())
			r, ok = Result{Case: &Case{ID: c.ID, Rules: c.Rules, File: "app.json"}, Status: Failed, Message: why}, true
		}
		if !ok {
			why := "the interpreter stopped before this case"
			if runErr != nil {
				why += fmt.Sprintf(" (%v)", runErr)
			}
			if s := strings.TrimSpace(stderr.String()); s != "" {
				why += ":\n" + clip(s)
			}
			r = Result{Case: &Case{ID: c.ID, Rules: c.Rules, File: "app.json"}, Status: Failed, Message: why}
		}
		results = append(results, r)
	}
	return results, nil
}

// lintRuleInError finds the rule in an error the lint raised.
var lintRuleInError = regexp.MustCompile(`lasgi-lint: ([a-z0-9]+(?:\.[a-z0-9-]+)+): `)

// judgeInterp turns one harness line into a result, like judge does for the
// embedded VM.
func judgeInterp(c *AppCase, status string, disconnected bool, detail string, timeout time.Duration, warnings []string, strict bool) Result {
	return appResult(c, interpProblems(c, status, disconnected, detail, timeout, warnings), strict, 0)
}

// interpProblems are the problems of one harness line.
func interpProblems(c *AppCase, status string, disconnected bool, detail string, timeout time.Duration, warnings []string) []string {
	problems := warnings
	switch status {
	case "timeout":
		switch {
		case c.WS != nil && disconnected:
			problems = append(problems, fmt.Sprintf("the app did not return within %v after receive() returned websocket.disconnect", timeout))
		case c.WS != nil:
			problems = append(problems, fmt.Sprintf("the app did not return within %v", timeout))
		default:
			problems = append(problems, notReturned(disconnected, timeout))
		}
	case "ended":
		problems = append(problems, detail)
	case "error", "declined":
		rule := lintRuleInError.FindStringSubmatch(detail)
		raised := ruleInError.FindStringSubmatch(detail)
		switch {
		case rule != nil:
			problems = append(problems, fmt.Sprintf("lasgi: %s: the lint stopped the app: %s", rule[1], detail))
		case strings.Contains(detail, "lasgi: disconnected:") && disconnected:
		case raised != nil && raised[1] != "disconnected":
			// The harness raised it, as the engine would (receive()'s argument,
			// timers.*), where the lint let it through: judged as errorProblem
			// judges the engine's.
			problems = append(problems, raisedProblem(raised[1], detail))
		case c.WantRaise != "":
		case status == "declined":
			problems = append(problems, declinedPrefix+"the app raised an error before answering websocket.connect, as an app that does not serve websocket scopes does: "+detail)
		default:
			problems = append(problems, "the app raised an error: "+detail)
		}
	case "ok":
		if c.WantRaise != "" && !slices.ContainsFunc(warnings, func(w string) bool { return strings.HasPrefix(w, "lasgi: "+c.WantRaise+":") }) {
			problems = append(problems, servedUnknownScope(c))
		}
	}
	return problems
}

func unhexOr(s string) string {
	b, err := hex.DecodeString(s)
	if err != nil {
		return s
	}
	return string(b)
}

// casesLua writes the cases as a Lua chunk returning them, strings in
// decimal escapes so any bytes survive.
func casesLua(cases []*AppCase, timeout time.Duration) []byte {
	var b strings.Builder
	b.WriteString("return {\n")
	for _, c := range cases {
		caseLua(&b, c, timeout)
		b.WriteString(",\n")
	}
	b.WriteString("}\n")
	return []byte(b.String())
}

// caseLua writes one case as a Lua table.
func caseLua(b *strings.Builder, c *AppCase, timeout time.Duration) {
	pieces := c.Body
	if len(pieces) == 0 {
		pieces = []string{""}
	}
	fmt.Fprintf(b, "{id = %s, timeout = %s, disconnect_after = %d, body = {", luaQuote(c.ID), strconv.FormatFloat(timeout.Seconds(), 'f', -1, 64), c.DisconnectAfter)
	for _, p := range pieces {
		b.WriteString(luaQuote(p) + ", ")
	}
	b.WriteString("}, ")
	if c.WS != nil {
		fmt.Fprintf(b, "ws = {eager = %v, actions = {", c.WS.Eager)
		for _, a := range c.WS.Actions {
			switch {
			case a.Gone:
				b.WriteString("{gone = true}, ")
			case a.Close:
				fmt.Fprintf(b, "{close = true, code = %d, reason = %s}, ", a.Code, luaQuote(a.Reason))
			case a.Binary:
				b.WriteString("{bytes = " + luaQuote(a.Message) + "}, ")
			default:
				b.WriteString("{text = " + luaQuote(a.Message) + "}, ")
			}
		}
		b.WriteString("}}, ")
	}
	if c.Lifespan != nil {
		b.WriteString("lifespan = {")
		if c.Lifespan.HTTP != nil {
			b.WriteString("http = ")
			caseLua(b, c.Lifespan.HTTP, timeout)
		}
		b.WriteString("}, ")
	}
	b.WriteString("scope = " + scopeLua(&c.Scope) + "}")
}

func scopeLua(s *event.Scope) string {
	version := s.LASGIVersion
	if version == "" {
		version = event.LASGIVersion
	}
	if s.Type == event.ScopeLifespan {
		return lifespanScopeLua(version)
	}
	var b strings.Builder
	field := func(k, v string) { fmt.Fprintf(&b, "%s = %s, ", k, v) }
	b.WriteString("{")
	field("type", luaQuote(s.Type))
	spec := event.ASGISpecVersion
	if s.Type == event.ScopeWebSocket {
		spec = "2.5" // as the reference server's (gopherlua/convert_ws.go)
	}
	field("asgi", fmt.Sprintf("{version = %s, spec_version = %s}", luaQuote(event.ASGIVersion), luaQuote(spec)))
	field("lasgi", fmt.Sprintf("{version = %s}", luaQuote(version)))
	for _, kv := range [][2]string{{"http_version", s.HTTPVersion}, {"method", s.Method}, {"scheme", s.Scheme}, {"path", s.Path},
		{"raw_path", s.RawPath}, {"query_string", s.QueryString}, {"root_path", s.RootPath}} {
		if kv[0] == "method" && s.Type == event.ScopeWebSocket {
			continue // a websocket scope has none
		}
		field(kv[0], luaQuote(kv[1]))
	}
	if s.Type == event.ScopeWebSocket {
		b.WriteString("subprotocols = {")
		for _, p := range s.Subprotocols {
			b.WriteString(luaQuote(p) + ", ")
		}
		b.WriteString("}, ")
	}
	b.WriteString("headers = {")
	for _, h := range s.Headers {
		fmt.Fprintf(&b, "{%s, %s}, ", luaQuote(h.Name), luaQuote(h.Value))
	}
	b.WriteString("}, ")
	if s.Client != nil {
		field("client", fmt.Sprintf("{%s, %d}", luaQuote(s.Client.Host), s.Client.Port))
	}
	if s.Server != nil {
		field("server", fmt.Sprintf("{%s, %d}", luaQuote(s.Server.Host), s.Server.Port))
	}
	b.WriteString("state = {}, extensions = {")
	for _, e := range s.Extensions {
		entry := "{}" // empty but for groups, which says its limits
		if e == event.ExtensionGroups {
			entry = groupsEntryLua()
		}
		fmt.Fprintf(&b, "[%s] = %s, ", luaQuote(e), entry)
	}
	b.WriteString("}}")
	return b.String()
}

// luaQuote writes s as a Lua string literal: printable ASCII as itself, any
// other byte as a decimal escape.
func luaQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c >= 0x20 && c < 0x7f:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "\\%03d", c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
