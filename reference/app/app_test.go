package app_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	lua "github.com/yuin/gopher-lua"

	"github.com/lasgi/lasgi/reference/app"
)

// The real interpreters every app must run on, besides gopher-lua in-process.
var externalInterpreters = []string{"lua5.1", "lua5.4", "luajit"}

// The driver's modes: "sync" calls the app directly, "coroutine" makes receive/send yield.
var driveModes = []string{"sync", "coroutine"}

const (
	gopherLua   = "gopher-lua"
	driverPath  = "testdata/drive.lua"
	execTimeout = 30 * time.Second // generous: a loaded CI machine runs packages in parallel
)

var (
	interpreterPaths map[string]string
	driverSource     string
)

var _ = BeforeSuite(func() {
	interpreterPaths = map[string]string{}
	var missing []string
	for _, name := range externalInterpreters {
		p, err := exec.LookPath(name)
		if err != nil {
			missing = append(missing, name)
			continue
		}
		interpreterPaths[name] = p
	}
	if len(missing) > 0 {
		Fail(fmt.Sprintf("Lua interpreter(s) not found in PATH: %s; the reference apps are tested on "+
			"lua5.1, lua5.4 and luajit: install them with `apt-get install lua5.1 lua5.4 luajit2` (or run scripts/test)",
			strings.Join(missing, ", ")))
	}
	src, err := os.ReadFile(driverPath)
	Expect(err).NotTo(HaveOccurred())
	driverSource = string(src)
})

// ---------------------------------------------------------------------------------------
// Lua literals for the driver's input

// luaKV is one field of a luaTable.
type luaKV struct {
	Key any // string, int, float64 or bool
	Val any
}

// luaTable is a Lua table with arbitrary keys, written in the given order.
type luaTable []luaKV

// luaLiteral writes v as a Lua expression. Supported: nil, bool, int, float64, string,
// []any (a sequence), map[string]any and luaTable.
func luaLiteral(v any) string {
	var b strings.Builder
	writeLua(&b, v)
	return b.String()
}

func writeLua(b *strings.Builder, v any) {
	switch v := v.(type) {
	case nil:
		b.WriteString("nil")
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case int:
		b.WriteString(strconv.Itoa(v))
	case float64:
		b.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
	case string:
		b.WriteByte('"')
		for i := 0; i < len(v); i++ {
			c := v[i]
			if c >= 0x20 && c <= 0x7e && c != '"' && c != '\\' {
				b.WriteByte(c)
			} else {
				fmt.Fprintf(b, "\\%03d", c)
			}
		}
		b.WriteByte('"')
	case []any:
		b.WriteByte('{')
		for _, e := range v {
			writeLua(b, e)
			b.WriteByte(',')
		}
		b.WriteByte('}')
	case map[string]any:
		b.WriteByte('{')
		for _, k := range sortedKeys(v) {
			b.WriteByte('[')
			writeLua(b, k)
			b.WriteString("]=")
			writeLua(b, v[k])
			b.WriteByte(',')
		}
		b.WriteByte('}')
	case luaTable:
		b.WriteByte('{')
		for _, kv := range v {
			b.WriteByte('[')
			writeLua(b, kv.Key)
			b.WriteString("]=")
			writeLua(b, kv.Val)
			b.WriteByte(',')
		}
		b.WriteByte('}')
	default:
		panic(fmt.Sprintf("luaLiteral: unsupported %T", v))
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func driverInput(scope map[string]any, events []map[string]any) string {
	evs := make([]any, len(events))
	for i, e := range events {
		evs[i] = e
	}
	return "return {scope = " + luaLiteral(scope) + ", events = " + luaLiteral(evs) + "}\n"
}

// ---------------------------------------------------------------------------------------
// Running the driver

func runExternal(ctx context.Context, interp, appName, input, mode string) (string, error) {
	return runScript(ctx, interp, input, driverPath, appName, mode)
}

// runScript runs a Lua script under a real interpreter with input on stdin
// and returns its stdout; anything on stderr is an error.
func runScript(ctx context.Context, interp, input string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, interpreterPaths[interp], args...)
	cmd.Stdin = strings.NewReader(input)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = time.Second
	what := interp + " " + strings.Join(args, " ")
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s: %w; stderr: %s", what, err, stderr.String())
	}
	if stderr.Len() > 0 {
		return "", fmt.Errorf("%s wrote to stderr: %s", what, stderr.String())
	}
	return stdout.String(), nil
}

// runGopher runs the driver in gopher-lua, with the app loaded from the embedded files.
func runGopher(ctx context.Context, appName, input, mode string) (string, error) {
	L := lua.NewState()
	defer L.Close()
	L.SetContext(ctx)
	drive, err := chunkValue(L, []byte(driverSource), driverPath)
	if err != nil {
		return "", err
	}
	src, err := app.Source(appName)
	if err != nil {
		return "", err
	}
	appFn, err := chunkValue(L, src, appName)
	if err != nil {
		return "", err
	}
	if appFn.Type() != lua.LTFunction {
		return "", fmt.Errorf("gopher-lua: %s returned a %s, want a function", appName, appFn.Type())
	}
	return callForString(L, "drive "+appName+" "+mode, drive, appFn, lua.LString(input), lua.LString(mode))
}

// chunkValue loads src (called name in messages) into L, runs it and returns
// the value it returns.
func chunkValue(L *lua.LState, src []byte, name string) (lua.LValue, error) {
	chunk, err := L.Load(bytes.NewReader(src), "@"+name)
	if err != nil {
		return nil, fmt.Errorf("gopher-lua: loading %s: %w", name, err)
	}
	if err := L.CallByParam(lua.P{Fn: chunk, NRet: 1, Protect: true}); err != nil {
		return nil, fmt.Errorf("gopher-lua: running %s: %w", name, err)
	}
	v := L.Get(-1)
	L.Pop(1)
	return v, nil
}

// callForString calls fn with args in L and returns the string it returns;
// what names the call in messages.
func callForString(L *lua.LState, what string, fn lua.LValue, args ...lua.LValue) (string, error) {
	if err := L.CallByParam(lua.P{Fn: fn, NRet: 1, Protect: true}, args...); err != nil {
		return "", fmt.Errorf("gopher-lua: %s: %w", what, err)
	}
	out, ok := L.Get(-1).(lua.LString)
	if !ok {
		return "", fmt.Errorf("gopher-lua: %s returned a %s", what, L.Get(-1).Type())
	}
	return string(out), nil
}

// interpRun is the transcript of one run on one interpreter in one mode.
type interpRun struct {
	label, out string
	err        error
}

// runEverywhere calls run for gopher-lua and every real interpreter, in every
// driver mode, in parallel, each under execTimeout; gopher-lua's sync run
// comes first.
func runEverywhere(run func(ctx context.Context, interp, mode string) (string, error)) []interpRun {
	var labels [][2]string
	for _, mode := range driveModes {
		labels = append(labels, [2]string{gopherLua, mode})
		for _, interp := range externalInterpreters {
			labels = append(labels, [2]string{interp, mode})
		}
	}
	names := make([]string, len(labels))
	for i, l := range labels {
		names[i] = l[0] + "/" + l[1]
	}
	return runParallel(names, func(ctx context.Context, i int) (string, error) {
		return run(ctx, labels[i][0], labels[i][1])
	})
}

// runParallel calls run for each of labels, in parallel, each under
// execTimeout, and returns the results in the order of labels.
func runParallel(labels []string, run func(ctx context.Context, i int) (string, error)) []interpRun {
	results := make([]interpRun, len(labels))
	var wg sync.WaitGroup
	for i, l := range labels {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), execTimeout)
			defer cancel()
			out, err := run(ctx, i)
			results[i] = interpRun{l, out, err}
		}()
	}
	wg.Wait()
	return results
}

// expectSameTranscripts fails unless every run succeeded with the output of
// the first, and returns the first.
func expectSameTranscripts(name string, results []interpRun) interpRun {
	GinkgoHelper()
	for _, r := range results {
		Expect(r.err).NotTo(HaveOccurred(), "running %s on %s", name, r.label)
	}
	ref := results[0]
	for _, r := range results[1:] {
		if r.out != ref.out {
			Fail(fmt.Sprintf("%s: transcript on %s differs from %s (-%s +%s):\n%s", name, r.label, ref.label,
				ref.label, r.label, cmp.Diff(strings.Split(ref.out, "\n"), strings.Split(r.out, "\n"))))
		}
	}
	return ref
}

// runAll runs appName with the scope and events on every interpreter in every mode,
// checks that all transcripts are identical and returns the parsed transcript.
func runAll(appName string, scope map[string]any, events []map[string]any) []Step {
	GinkgoHelper()
	input := driverInput(scope, events)

	results := runEverywhere(func(ctx context.Context, interp, mode string) (string, error) {
		if interp == gopherLua {
			return runGopher(ctx, appName, input, mode)
		}
		return runExternal(ctx, interp, appName, input, mode)
	})
	ref := expectSameTranscripts(appName, results)
	steps, err := parseTranscript(ref.out)
	Expect(err).NotTo(HaveOccurred(), "parsing the transcript of %s:\n%s", appName, ref.out)
	return steps
}

// ---------------------------------------------------------------------------------------
// Transcripts

// Step is one record of the driver's transcript.
type Step struct {
	Op   string // receive, send, return, error, global
	Sent *Sent  // for send
	Text string // for error (the message) and global (the name)
}

// Sent is a sent event, checked against the LASGI event rules.
type Sent struct {
	Type     string
	Status   int         // http.response.start
	Headers  [][2]string // http.response.start
	Trailers bool        // http.response.start
	Body     string      // http.response.body
	MoreBody bool        // http.response.body
	Group    string      // lasgi.group.join, lasgi.group.leave, lasgi.group.send
	Data     luaTree     // lasgi.group.send
	Text     string      // websocket.send
	Code     int         // websocket.close
	Reason   string      // websocket.close
}

// luaValue is a Lua value decoded from the transcript: string, float64, bool, luaTree or,
// for values the driver cannot show, the name of their type.
type luaTree map[any]any

func parseTranscript(out string) ([]Step, error) {
	if !strings.HasSuffix(out, "\n") {
		return nil, errors.New("transcript does not end with a newline")
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	var steps []Step
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		op, arg, _ := strings.Cut(line, " ")
		switch op {
		case "receive", "return":
			steps = append(steps, Step{Op: op})
		case "global":
			steps = append(steps, Step{Op: op, Text: arg})
		case "error":
			msg, err := hex.DecodeString(strings.TrimPrefix(arg, "s:"))
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", i+1, err)
			}
			steps = append(steps, Step{Op: op, Text: string(msg)})
		case "send":
			var v any
			var err error
			if v, i, err = parseSendBlock(lines, i); err != nil {
				return nil, err
			}
			sent, err := toSent(v)
			if err != nil {
				return nil, fmt.Errorf("send before line %d: %w", i+1, err)
			}
			steps = append(steps, Step{Op: op, Sent: &sent})
		default:
			return nil, fmt.Errorf("line %d: unknown record %q", i+1, line)
		}
	}
	return steps, nil
}

// parseValue rebuilds the value sent from its PATH VALUE lines.
// parseSendBlock reads the value of the "send" record at lines[i], up to its
// "end" line, and returns it with the index of that line.
func parseSendBlock(lines []string, i int) (any, int, error) {
	var body []string
	for i++; i < len(lines) && lines[i] != "end"; i++ {
		body = append(body, lines[i])
	}
	if i == len(lines) {
		return nil, i, errors.New("send without end")
	}
	v, err := parseValue(body)
	if err != nil {
		return nil, i, fmt.Errorf("send before line %d: %w", i+1, err)
	}
	return v, i, nil
}

func parseValue(lines []string) (any, error) {
	var root any
	rootSet := false
	for _, line := range lines {
		path, val, ok := strings.Cut(line, " ")
		if !ok || !strings.HasPrefix(path, "$") {
			return nil, fmt.Errorf("bad value line %q", line)
		}
		v, err := parseScalar(val)
		if err != nil {
			return nil, fmt.Errorf("line %q: %w", line, err)
		}
		keys, err := parsePath(path[1:])
		if err != nil {
			return nil, fmt.Errorf("line %q: %w", line, err)
		}
		if len(keys) == 0 {
			root, rootSet = v, true
			continue
		}
		if !rootSet {
			return nil, fmt.Errorf("line %q before the root", line)
		}
		cur := root
		for _, k := range keys[:len(keys)-1] {
			t, ok := cur.(luaTree)
			if !ok {
				return nil, fmt.Errorf("line %q: parent is not a table", line)
			}
			cur = t[k]
		}
		t, ok := cur.(luaTree)
		if !ok {
			return nil, fmt.Errorf("line %q: parent is not a table", line)
		}
		t[keys[len(keys)-1]] = v
	}
	if !rootSet {
		return nil, errors.New("no value")
	}
	return root, nil
}

func parseScalar(s string) (any, error) {
	switch {
	case s == "t":
		return luaTree{}, nil
	case s == "b:true":
		return true, nil
	case s == "b:false":
		return false, nil
	case strings.HasPrefix(s, "s:"):
		b, err := hex.DecodeString(s[2:])
		return string(b), err
	case strings.HasPrefix(s, "n:"):
		return strconv.ParseFloat(s[2:], 64)
	}
	return "<" + s + ">", nil
}

func parsePath(p string) ([]any, error) {
	var keys []any
	for p != "" {
		switch p[0] {
		case '.':
			end := strings.IndexAny(p[1:], ".[")
			if end < 0 {
				end = len(p) - 1
			}
			keys = append(keys, p[1:1+end])
			p = p[1+end:]
		case '[':
			end := strings.IndexByte(p, ']')
			if end < 0 {
				return nil, fmt.Errorf("bad path %q", p)
			}
			k := p[1:end]
			p = p[end+1:]
			switch {
			case strings.HasPrefix(k, `"`):
				b, err := hex.DecodeString(strings.Trim(k, `"`))
				if err != nil {
					return nil, err
				}
				keys = append(keys, string(b))
			case k == "true" || k == "false":
				keys = append(keys, k == "true")
			case strings.HasPrefix(k, "?"):
				keys = append(keys, "<"+k[1:]+">")
			default:
				f, err := strconv.ParseFloat(k, 64)
				if err != nil {
					return nil, err
				}
				keys = append(keys, f)
			}
		default:
			return nil, fmt.Errorf("bad path %q", p)
		}
	}
	return keys, nil
}

// toSent checks a sent value against the event rules the reference apps follow: the keys
// allowed for its type, with the right value types, and the required ones present.
func toSent(v any) (Sent, error) {
	t, ok := v.(luaTree)
	if !ok {
		return Sent{}, fmt.Errorf("sent %#v, not a table", v)
	}
	var s Sent
	s.Type, ok = t["type"].(string)
	if !ok {
		return Sent{}, fmt.Errorf("event type is %#v, want a string", t["type"])
	}
	var allowed, required []string
	switch s.Type {
	case "http.response.start":
		allowed, required = []string{"type", "status", "headers", "trailers"}, []string{"status", "headers"}
		status, ok := t["status"].(float64)
		if !ok || status != math.Trunc(status) || status < 200 || status > 599 {
			return Sent{}, fmt.Errorf("status is %#v, want an integer 200..599", t["status"])
		}
		s.Status = int(status)
		headers, err := toHeaders(t["headers"])
		if err != nil {
			return Sent{}, err
		}
		s.Headers = headers
		if tr, present := t["trailers"]; present {
			if s.Trailers, ok = tr.(bool); !ok {
				return Sent{}, fmt.Errorf("trailers is %#v, want a boolean", tr)
			}
		}
	case "http.response.body":
		allowed, required = []string{"type", "body", "more_body"}, []string{"body", "more_body"}
		if s.Body, ok = t["body"].(string); !ok {
			return Sent{}, fmt.Errorf("body is %#v, want a string", t["body"])
		}
		if s.MoreBody, ok = t["more_body"].(bool); !ok {
			return Sent{}, fmt.Errorf("more_body is %#v, want a boolean", t["more_body"])
		}
	case "lasgi.group.join", "lasgi.group.leave", "lasgi.group.send":
		allowed, required = []string{"type", "group"}, []string{"group"}
		if s.Group, ok = t["group"].(string); !ok {
			return Sent{}, fmt.Errorf("group is %#v, want a string", t["group"])
		}
		if s.Type == "lasgi.group.send" {
			allowed, required = append(allowed, "data"), append(required, "data")
			if s.Data, ok = t["data"].(luaTree); !ok {
				return Sent{}, fmt.Errorf("data is %#v, want a table", t["data"])
			}
		}
	case "websocket.accept":
		allowed = []string{"type"}
	case "websocket.send":
		allowed, required = []string{"type", "text"}, []string{"text"}
		if s.Text, ok = t["text"].(string); !ok {
			return Sent{}, fmt.Errorf("text is %#v, want a string", t["text"])
		}
	case "websocket.close":
		allowed = []string{"type", "code", "reason"}
		if c, present := t["code"].(float64); present {
			s.Code = int(c)
		}
		s.Reason, _ = t["reason"].(string)
	default:
		return Sent{}, fmt.Errorf("unexpected event type %q", s.Type)
	}
	for _, k := range required {
		if _, present := t[k]; !present {
			return Sent{}, fmt.Errorf("%s event without %s", s.Type, k)
		}
	}
	for k := range t {
		name, _ := k.(string)
		found := false
		for _, a := range allowed {
			found = found || a == name
		}
		if !found {
			return Sent{}, fmt.Errorf("%s event has unexpected key %#v", s.Type, k)
		}
	}
	return s, nil
}

func toHeaders(v any) ([][2]string, error) {
	list, ok := v.(luaTree)
	if !ok {
		return nil, fmt.Errorf("headers is %#v, want a list", v)
	}
	headers := make([][2]string, 0, len(list))
	for i := 1; i <= len(list); i++ {
		pair, ok := list[float64(i)].(luaTree)
		if !ok || len(pair) != 2 {
			return nil, fmt.Errorf("headers[%d] is %#v, want a {name, value} pair (headers: %#v)", i, list[float64(i)], v)
		}
		name, ok1 := pair[1.0].(string)
		value, ok2 := pair[2.0].(string)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("headers[%d] is %#v, want two strings", i, pair)
		}
		headers = append(headers, [2]string{name, value})
	}
	return headers, nil
}

// ---------------------------------------------------------------------------------------
// Building scopes, events and expected transcripts

var (
	recv = Step{Op: "receive"}
	ret  = Step{Op: "return"}
)

func start(contentType string) Step {
	return Step{Op: "send", Sent: &Sent{
		Type: "http.response.start", Status: 200, Headers: [][2]string{{"content-type", contentType}},
	}}
}

func body(b string, more bool) Step {
	return Step{Op: "send", Sent: &Sent{Type: "http.response.body", Body: b, MoreBody: more}}
}

func hdr(name, value string) []any { return []any{name, value} }

func scopeWith(change func(s map[string]any)) map[string]any {
	s := map[string]any{
		"type":         "http",
		"asgi":         map[string]any{"version": "3.0", "spec_version": "2.5"},
		"lasgi":        map[string]any{"version": "1.0"},
		"http_version": "1.1",
		"method":       "GET",
		"scheme":       "http",
		"path":         "/",
		"raw_path":     "/",
		"query_string": "",
		"root_path":    "",
		"headers":      []any{hdr("host", "example.test")},
		"client":       []any{"127.0.0.1", 54321},
		"server":       []any{"127.0.0.1", 8080},
		"state":        map[string]any{},
		"extensions":   map[string]any{"http.response.trailers": map[string]any{}},
	}
	if change != nil {
		change(s)
	}
	return s
}

func req(b string, more bool) map[string]any {
	return map[string]any{"type": "http.request", "body": b, "more_body": more}
}

// allBytes holds every byte value 0x00..0xff once.
var allBytes = func() string {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i)
	}
	return string(b)
}()

func expectSteps(got, want []Step) {
	GinkgoHelper()
	if diff := cmp.Diff(want, got); diff != "" {
		Fail("transcript mismatch (-want +got):\n" + diff)
	}
}

// ---------------------------------------------------------------------------------------
// JSON with the Latin-1 string convention of scope.lua

// checkEscapes checks that the JSON text is printable ASCII and that its escapes are
// exactly \" \\ and \u00xx (lowercase hex) for bytes outside 0x20..0x7e.
func checkEscapes(text string) error {
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c < 0x20 || c > 0x7e {
			return fmt.Errorf("byte 0x%02x at offset %d is not printable ASCII", c, i)
		}
		if c != '\\' {
			continue
		}
		if i+1 >= len(text) {
			return errors.New("trailing backslash")
		}
		switch text[i+1] {
		case '"', '\\':
			i++
		case 'u':
			if i+6 > len(text) || text[i+2:i+4] != "00" || strings.ToLower(text[i+4:i+6]) != text[i+4:i+6] {
				return fmt.Errorf("bad escape %q at offset %d", text[i:min(i+6, len(text))], i)
			}
			b, err := strconv.ParseUint(text[i+4:i+6], 16, 8)
			if err != nil {
				return fmt.Errorf("bad escape %q at offset %d", text[i:i+6], i)
			}
			if b >= 0x20 && b <= 0x7e {
				return fmt.Errorf("printable byte 0x%02x escaped at offset %d", b, i)
			}
			i += 5
		default:
			return fmt.Errorf("escape %q at offset %d is not allowed", text[i:i+2], i)
		}
	}
	return nil
}

func latin1(s string) (string, error) {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xff {
			return "", fmt.Errorf("code point U+%04X outside U+0000..U+00FF in %q", r, s)
		}
		b = append(b, byte(r))
	}
	return string(b), nil
}

// decodeLatin1JSON decodes JSON into map[string]any, []any, string (bytes, Latin-1),
// json.Number, bool and nil, checking that object keys are strictly ascending bytewise.
func decodeLatin1JSON(text string) (any, error) {
	if err := checkEscapes(text); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	v, err := readJSON(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("data after the JSON value (%v)", err)
	}
	return v, nil
}

func readJSON(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			obj := map[string]any{}
			prev, first := "", true
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, err := latin1(kt.(string))
				if err != nil {
					return nil, err
				}
				if !first && k <= prev {
					return nil, fmt.Errorf("object key %q after %q: keys not strictly ascending", k, prev)
				}
				prev, first = k, false
				if obj[k], err = readJSON(dec); err != nil {
					return nil, err
				}
			}
			_, err := dec.Token()
			return obj, err
		case '[':
			arr := []any{}
			for dec.More() {
				v, err := readJSON(dec)
				if err != nil {
					return nil, err
				}
				arr = append(arr, v)
			}
			_, err := dec.Token()
			return arr, err
		}
		return nil, fmt.Errorf("unexpected %v", t)
	case string:
		return latin1(t)
	default:
		return t, nil // json.Number, bool, nil
	}
}

// jsonNumber is the text scope.lua writes for f.
func jsonNumber(f float64) json.Number {
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return json.Number(strconv.FormatInt(int64(f), 10))
	}
	var s string
	for p := 14; p <= 17; p++ {
		s = strconv.FormatFloat(f, 'g', p, 64)
		if back, _ := strconv.ParseFloat(s, 64); back == f {
			break
		}
	}
	return json.Number(s)
}

func jsonKey(k any) string {
	switch k := k.(type) {
	case string:
		return k
	case int:
		return strconv.Itoa(k)
	case float64:
		return string(jsonNumber(k))
	case bool:
		return strconv.FormatBool(k)
	}
	panic(fmt.Sprintf("jsonKey: unsupported %T", k))
}

// asJSON is what scope.lua's encoder makes of the Lua value written by luaLiteral(v).
func asJSON(v any) any {
	switch v := v.(type) {
	case nil, bool, string:
		return v
	case int:
		return json.Number(strconv.Itoa(v))
	case float64:
		return jsonNumber(v)
	case []any:
		if len(v) == 0 {
			return map[string]any{}
		}
		arr := make([]any, len(v))
		for i, e := range v {
			arr[i] = asJSON(e)
		}
		return arr
	case map[string]any:
		obj := map[string]any{}
		for k, e := range v {
			obj[k] = asJSON(e)
		}
		return obj
	case luaTable:
		isArray := true
		for i, kv := range v {
			if k, ok := kv.Key.(int); !ok || k != i+1 {
				isArray = false
			}
		}
		if isArray && len(v) > 0 {
			var list []any
			for _, kv := range v {
				list = append(list, kv.Val)
			}
			return asJSON(list)
		}
		obj := map[string]any{}
		for _, kv := range v {
			obj[jsonKey(kv.Key)] = asJSON(kv.Val)
		}
		return obj
	}
	panic(fmt.Sprintf("asJSON: unsupported %T", v))
}

var scopeKeys = []string{"type", "asgi", "lasgi", "http_version", "method", "scheme", "path", "raw_path",
	"query_string", "root_path", "headers", "client", "server", "state", "extensions"}

// withNulls is asJSON(m) with the given keys present (null when absent).
func withNulls(m map[string]any, keys ...string) any {
	obj := asJSON(m).(map[string]any)
	for _, k := range keys {
		if _, ok := obj[k]; !ok {
			obj[k] = nil
		}
	}
	return obj
}

// expectScopeResponse checks the transcript of scope.lua and the JSON it answered with.
func expectScopeResponse(steps []Step, scope map[string]any, events []map[string]any) {
	GinkgoHelper()
	var wantSteps []Step
	for range events {
		wantSteps = append(wantSteps, recv)
	}
	Expect(steps).To(HaveLen(len(events)+3), "transcript: %v", steps)
	Expect(steps[len(events)+1].Sent).NotTo(BeNil(), "transcript: %v", steps)
	wantSteps = append(wantSteps, start("application/json"), body(steps[len(events)+1].Sent.Body, false), ret)
	expectSteps(steps, wantSteps)

	got, err := decodeLatin1JSON(steps[len(events)+1].Sent.Body)
	Expect(err).NotTo(HaveOccurred(), "decoding the JSON answer:\n%s", steps[len(events)+1].Sent.Body)

	wantEvents := []any{}
	for _, e := range events {
		wantEvents = append(wantEvents, withNulls(e, "type", "body", "more_body"))
	}
	want := map[string]any{"scope": withNulls(scope, scopeKeys...), "events": wantEvents}
	if diff := cmp.Diff(want, got); diff != "" {
		Fail("scope.lua JSON mismatch (-want +got):\n" + diff)
	}
}

// ---------------------------------------------------------------------------------------
// Specs

var _ = Describe("the embedded files", func() {
	It("lists the apps sorted", func() {
		Expect(app.Names()).To(Equal([]string{"echo.lua", "hello.lua", "lifespan.lua", "lint.lua", "longpoll.lua", "probe.lua",
			"scope.lua", "sse.lua", "stream.lua", "ws_chat.lua", "ws_echo.lua"}))
	})

	It("returns each app's source as on disk", func() {
		for _, name := range app.Names() {
			src, err := app.Source(name)
			Expect(err).NotTo(HaveOccurred())
			disk, err := os.ReadFile(name)
			Expect(err).NotTo(HaveOccurred())
			Expect(string(src)).To(Equal(string(disk)), name)
		}
	})

	It("names the missing file and the available ones", func() {
		_, err := app.Source("nope.lua")
		Expect(err).To(MatchError(And(
			ContainSubstring(`"nope.lua"`),
			ContainSubstring("echo.lua, hello.lua, lifespan.lua, lint.lua, longpoll.lua, probe.lua, scope.lua, sse.lua, stream.lua, ws_chat.lua"),
		)))
	})
})

var _ = Describe("hello.lua", func() {
	It("answers Hello World! without calling receive", func() {
		steps := runAll("hello.lua", scopeWith(func(s map[string]any) { s["method"] = "POST" }),
			[]map[string]any{req("ignored", false)})
		expectSteps(steps, []Step{start("text/plain"), body("Hello World!", false), ret})
	})
})

// lifespan.lua's lifespan half (the pool opened and closed) runs on lasgi-serve only
// (cmd/lasgi-serve): the driver plays one call, and the app writes its report on
// stderr, which the driver's runs take as a failure. Its requests run everywhere, with
// the state a lifespan startup leaves.
var _ = Describe("lifespan.lua", func() {
	DescribeTable("answers from the pool in scope.state, sharing it with the other requests",
		func(state map[string]any, want string) {
			steps := runAll("lifespan.lua", scopeWith(func(s map[string]any) { s["state"] = state }),
				[]map[string]any{req("", false)})
			expectSteps(steps, []Step{start("text/plain"), body(want, false), ret})
		},
		Entry("a pool: one query more",
			map[string]any{"lifespan.lua:pool": map[string]any{"number": 2, "open": 4, "queries": 6}}, "pool 2: 4 open, query 7\n"),
		Entry("no lifespan startup, no pool",
			map[string]any{}, "no pool: the server ran no lifespan startup\n"),
	)
})

var _ = Describe("echo.lua", func() {
	DescribeTable("echoes method, path, headers and body",
		func(scope map[string]any, events []map[string]any, want []Step) {
			expectSteps(runAll("echo.lua", scope, events), want)
		},
		Entry("GET with an empty body",
			scopeWith(nil),
			[]map[string]any{req("", false)},
			[]Step{recv, start("text/plain"), body("GET /\nhost: example.test\n\n", false), ret}),
		Entry("POST with a binary body in several chunks, duplicate headers kept in order",
			scopeWith(func(s map[string]any) {
				s["method"] = "POST"
				s["path"] = "/up load/é"
				s["headers"] = []any{
					hdr("host", "example.test"), hdr("x-dup", "1"), hdr("content-type", "application/octet-stream"),
					hdr("x-dup", "2"), hdr("x-empty", ""), hdr("x-bin", "\x00\x7f\x80\xff"),
				}
			}),
			[]map[string]any{req(allBytes[:100], true), req("", true), req(allBytes[100:], true), req("", false)},
			[]Step{recv, recv, recv, recv, start("text/plain"), body("POST /up load/é\n"+
				"host: example.test\nx-dup: 1\ncontent-type: application/octet-stream\nx-dup: 2\n"+
				"x-empty: \nx-bin: \x00\x7f\x80\xff\n\n"+allBytes, false), ret}),
		Entry("a body in 3000 chunks (more pieces than gopher-lua's table.concat takes at once)",
			scopeWith(nil),
			manyChunks(3000),
			append(append(repeatStep(recv, 3000), start("text/plain")),
				body("GET /\nhost: example.test\n\n"+manyChunksBody(3000), false), ret)),
		Entry("an http.request without body and more_body (their defaults)",
			scopeWith(func(s map[string]any) { s["headers"] = []any{} }),
			[]map[string]any{{"type": "http.request"}},
			[]Step{recv, start("text/plain"), body("GET /\n\n", false), ret}),
		Entry("an unknown event is skipped",
			scopeWith(nil),
			[]map[string]any{{"type": "http.unknown"}, req("x", false)},
			[]Step{recv, recv, start("text/plain"), body("GET /\nhost: example.test\n\nx", false), ret}),
		Entry("a disconnect before the body is complete ends the app without a response",
			scopeWith(nil),
			[]map[string]any{req("partial", true)},
			[]Step{recv, recv, ret}),
	)
})

// manyChunks is n http.request events with small distinct bodies.
func manyChunks(n int) []map[string]any {
	events := make([]map[string]any, n)
	for i := range events {
		events[i] = req(fmt.Sprintf("<%d>", i), i < n-1)
	}
	return events
}

func manyChunksBody(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "<%d>", i)
	}
	return b.String()
}

func repeatStep(s Step, n int) []Step {
	steps := make([]Step, n)
	for i := range steps {
		steps[i] = s
	}
	return steps
}

func parts(n int) []Step {
	steps := []Step{start("text/plain")}
	for i := 1; i <= n; i++ {
		steps = append(steps, body(fmt.Sprintf("part %d\n", i), true))
	}
	return append(steps, body("", false), ret)
}

func xs(sizes ...int) []Step {
	steps := []Step{start("text/plain")}
	for _, n := range sizes {
		steps = append(steps, body(strings.Repeat("x", n), true))
	}
	return append(steps, body("", false), ret)
}

func query(qs string) map[string]any {
	return scopeWith(func(s map[string]any) { s["query_string"] = qs })
}

var _ = Describe("stream.lua", func() {
	DescribeTable("streams parts and sizes without reading the request",
		func(scope map[string]any, want []Step) {
			expectSteps(runAll("stream.lua", scope, []map[string]any{req("unread", false)}), want)
		},
		Entry("5 parts by default", query(""), parts(5)),
		Entry("parts=3", query("a=b&parts=3&c"), parts(3)),
		Entry("parts=0", query("parts=0"), parts(0)),
		Entry("parts is capped at 1000", query("parts=5000"), parts(1000)),
		Entry("a parts value that is not a number is ignored", query("parts=-2"), parts(5)),
		Entry("size=0", query("size=0"), xs()),
		Entry("size=65536 is one part", query("size=65536"), xs(65536)),
		Entry("size=200000 comes in 64 KiB parts", query("size=200000&parts=2"), xs(65536, 65536, 65536, 3392)),
	)

	DescribeTable("/echo streams the body back as it is received",
		func(events []map[string]any, want []Step) {
			scope := scopeWith(func(s map[string]any) {
				s["method"] = "POST"
				s["path"] = "/echo"
				s["query_string"] = "parts=2"
			})
			expectSteps(runAll("stream.lua", scope, events), want)
		},
		Entry("several chunks, empty ones skipped",
			[]map[string]any{req(allBytes[:10], true), req("", true), req(allBytes[10:], true), req("end", false)},
			[]Step{recv, start("text/plain"), body(allBytes[:10], true), recv, recv, body(allBytes[10:], true),
				recv, body("end", true), body("", false), ret}),
		Entry("an empty body",
			[]map[string]any{req("", false)},
			[]Step{recv, start("text/plain"), body("", false), ret}),
		Entry("a disconnect in the middle ends the app",
			[]map[string]any{req("abc", true)},
			[]Step{recv, start("text/plain"), body("abc", true), recv, ret}),
		Entry("a disconnect before any body sends nothing",
			[]map[string]any{},
			[]Step{recv, ret}),
	)
})

var _ = Describe("scope.lua", func() {
	It("answers with every scope key and the events, bytes kept exactly", func() {
		scope := scopeWith(func(s map[string]any) {
			s["method"] = "POST"
			s["path"] = "/a b/é\"\\"
			s["raw_path"] = "/a%20b/%C3%A9\"\\\x00\xff"
			s["query_string"] = allBytes
			s["root_path"] = "/root"
			s["http_version"] = "2"
			s["scheme"] = "https"
			s["headers"] = []any{
				hdr("host", "example.test"), hdr("x-dup", "1"), hdr("x-empty", ""), hdr("x-dup", "2"),
				hdr("x-bin", allBytes),
			}
			s["client"] = []any{"::1", 65535}
			s["server"] = []any{"example.test", 443}
			s["state"] = map[string]any{
				"count": 3, "negative": -7, "ratio": 1.5, "tenth": 0.1, "third": 1.0 / 3, "big": 1e20,
				"huge": 12345678901234567.0, "flag": true, "off": false, "empty": map[string]any{},
				"list":   []any{1, "two", []any{3.0}, map[string]any{}},
				"mixed":  luaTable{{1, "a"}, {2, "b"}, {"x", "y"}},
				"sparse": luaTable{{1, "a"}, {3, "c"}},
				"keys":   luaTable{{1.5, "float"}, {true, "bool"}, {-1, "negative"}, {"\x00\xff", "bytes"}},
			}
			s["extra"] = "not a standard key"
		})
		events := []map[string]any{
			req(allBytes[:128], true),
			req("", true),
			{"type": "http.request", "body": allBytes[128:]},
		}
		expectScopeResponse(runAll("scope.lua", scope, events), scope, events)
	})

	It("writes null for absent standard keys and {} for empty tables", func() {
		scope := scopeWith(func(s map[string]any) {
			delete(s, "client")
			delete(s, "server")
			delete(s, "root_path")
			s["headers"] = []any{}
			s["extensions"] = map[string]any{}
		})
		events := []map[string]any{{"type": "http.request"}}
		expectScopeResponse(runAll("scope.lua", scope, events), scope, events)
	})

	It("handles scopes and event lists that make thousands of JSON pieces", func() {
		scope := scopeWith(func(s map[string]any) {
			var headers []any
			for i := 0; i < 1000; i++ {
				headers = append(headers, hdr(fmt.Sprintf("x-h%d", i%7), strconv.Itoa(i)))
			}
			s["headers"] = headers
		})
		events := manyChunks(500)
		expectScopeResponse(runAll("scope.lua", scope, events), scope, events)
	})

	It("returns without a response when the client disconnects", func() {
		steps := runAll("scope.lua", scopeWith(nil), []map[string]any{req("a", true)})
		expectSteps(steps, []Step{recv, recv, ret})
	})
})
