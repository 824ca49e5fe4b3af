package app_test

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/lasgi/lasgi/conformance"
	"hash/adler32"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	lua "github.com/yuin/gopher-lua"

	"github.com/lasgi/lasgi/reference/app"
	"github.com/lasgi/lasgi/reference/server"
	"github.com/lasgi/lasgi/reference/server/gopherlua"
	"github.com/lasgi/lasgi/reference/server/servertest"
)

// ---------------------------------------------------------------------------------------
// Running probe.lua through testdata/probe_drive.lua (drive.lua plus a simulated server
// that checks the events and can make the client go away)

const probeDriverPath = "testdata/probe_drive.lua"

// probeExchange is one request to the probe: its scope, the events receive() hands out
// (then http.disconnect forever), and after how many accepted sends the client goes away
// (0: never).
type probeExchange struct {
	Scope           map[string]any
	Events          []map[string]any
	DisconnectAfter int
}

// probeScope is scopeWith(nil) with the script in a lasgi-probe header.
func probeScope(script string) map[string]any {
	return scopeWith(func(s map[string]any) {
		s["headers"] = []any{hdr("host", "example.test"), hdr("lasgi-probe", script)}
	})
}

// ex is an exchange running script with the given request events.
func ex(script string, events ...map[string]any) probeExchange {
	return probeExchange{Scope: probeScope(script), Events: events}
}

func probeInput(exs []probeExchange) string {
	list := make([]any, len(exs))
	for i, e := range exs {
		m := map[string]any{"input": driverInput(e.Scope, e.Events)}
		if e.DisconnectAfter > 0 {
			m["disconnect_after"] = e.DisconnectAfter
		}
		list[i] = m
	}
	return "return " + luaLiteral(list) + "\n"
}

func runProbeExternal(ctx context.Context, interp, input, mode string) (string, error) {
	return runScript(ctx, interp, input, probeDriverPath, mode)
}

// runProbeGopher runs the probe driver in gopher-lua with probe.lua from the embedded files.
func runProbeGopher(ctx context.Context, input, mode string) (string, error) {
	L := lua.NewState()
	defer L.Close()
	L.SetContext(ctx)
	src, err := os.ReadFile(probeDriverPath)
	if err != nil {
		return "", err
	}
	run, err := chunkValue(L, src, probeDriverPath)
	if err != nil {
		return "", err
	}
	probe, err := app.Source("probe.lua")
	if err != nil {
		return "", err
	}
	return callForString(L, probeDriverPath+" "+mode, run, lua.LString(probe), lua.LString(input), lua.LString(mode))
}

// runProbe runs the exchanges one after another on one probe instance, on every
// interpreter in every mode, checks that all transcripts are identical and returns the
// parsed transcript of each exchange.
func runProbe(exs ...probeExchange) []probeResult {
	GinkgoHelper()
	input := probeInput(exs)
	results := runEverywhere(func(ctx context.Context, interp, mode string) (string, error) {
		if interp == gopherLua {
			return runProbeGopher(ctx, input, mode)
		}
		return runProbeExternal(ctx, interp, input, mode)
	})
	// The reports say whether the probe ran in a coroutine, which is what
	// the two modes differ in: check that, then compare without it.
	for i := range results {
		inCoroutine := strings.HasSuffix(results[i].label, "/coroutine")
		if strings.Contains(results[i].out, coroutineHex[!inCoroutine]) {
			Fail(fmt.Sprintf("probe.lua on %s: a report says coroutine = %v", results[i].label, !inCoroutine))
		}
		results[i].out = strings.ReplaceAll(results[i].out, coroutineHex[inCoroutine], coroutineHex[false])
	}
	ref := expectSameTranscripts("probe.lua", results)
	parsed, err := parseProbeTranscript(ref.out)
	Expect(err).NotTo(HaveOccurred(), "parsing the probe transcript")
	Expect(parsed).To(HaveLen(len(exs)), "exchanges in the transcript")
	return parsed
}

// coroutineHex is how `"coroutine":true` and `"coroutine":false` appear in a
// transcript (byte strings are written in hex there).
var coroutineHex = map[bool]string{
	true:  hex.EncodeToString([]byte(`"coroutine":true`)),
	false: hex.EncodeToString([]byte(`"coroutine":false`)),
}

// ---------------------------------------------------------------------------------------
// Probe transcripts

// pStep is one record of an exchange's transcript.
type pStep struct {
	Op   string  // receive, send, return, error, global
	Ev   *pEvent // send
	Text string  // error: the message; global: the name
}

// pEvent is an event the probe sent (and the simulated server accepted). The value of a
// lasgi-probe-report header is replaced by reportMark; the decoded report is kept in
// probeResult.HeadReport.
type pEvent struct {
	Type         string
	Status       int
	Headers      [][2]string
	Trailers     bool
	Body         string
	MoreBody     bool
	MoreTrailers bool
	Group        any // lasgi.group.*: as sent (a gbad: event may send no string)
	Data         any // lasgi.group.send
}

const reportMark = "<report>"

// probeResult is the transcript of one exchange.
type probeResult struct {
	Steps      []pStep
	HeadReport any    // the decoded lasgi-probe-report header of the start event, if any
	Body       string // the bodies of the body events, concatenated
}

func parseProbeTranscript(out string) ([]probeResult, error) {
	if !strings.HasSuffix(out, "\n") {
		return nil, errors.New("transcript does not end with a newline")
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	var results []probeResult
	cur := probeResult{}
	for i := 0; i < len(lines); i++ {
		op, arg, _ := strings.Cut(lines[i], " ")
		switch op {
		case "exchange":
			results = append(results, cur)
			cur = probeResult{}
		case "receive", "return":
			cur.Steps = append(cur.Steps, pStep{Op: op})
		case "global":
			cur.Steps = append(cur.Steps, pStep{Op: op, Text: arg})
		case "error":
			v, err := parseScalar(arg)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", i+1, err)
			}
			msg, _ := v.(string)
			cur.Steps = append(cur.Steps, pStep{Op: op, Text: msg})
		case "send":
			var v any
			var err error
			if v, i, err = parseSendBlock(lines, i); err != nil {
				return nil, err
			}
			ev, err := toPEvent(v)
			if err != nil {
				return nil, fmt.Errorf("send before line %d: %w", i+1, err)
			}
			for j, h := range ev.Headers {
				if h[0] != "lasgi-probe-report" {
					continue
				}
				if cur.HeadReport != nil {
					return nil, fmt.Errorf("send before line %d: a second lasgi-probe-report header", i+1)
				}
				rep, err := decodeLatin1JSON(h[1])
				if err != nil {
					return nil, fmt.Errorf("send before line %d: decoding the report header %q: %w", i+1, h[1], err)
				}
				cur.HeadReport = rep
				ev.Headers[j][1] = reportMark
			}
			if ev.Type == "http.response.body" {
				cur.Body += ev.Body
			}
			cur.Steps = append(cur.Steps, pStep{Op: op, Ev: &ev})
		default:
			return nil, fmt.Errorf("line %d: unknown record %q", i+1, lines[i])
		}
	}
	if len(cur.Steps) > 0 {
		return nil, errors.New("transcript does not end with an exchange line")
	}
	return results, nil
}

// toPEvent checks the shape of an event the probe sent: exactly the keys it writes.
func toPEvent(v any) (pEvent, error) {
	t, ok := v.(luaTree)
	if !ok {
		return pEvent{}, fmt.Errorf("sent %#v, not a table", v)
	}
	var e pEvent
	e.Type, _ = t["type"].(string)
	var keys []string
	var err error
	switch e.Type {
	case "http.response.start":
		keys = []string{"status", "type"}
		status, ok := t["status"].(float64)
		if !ok || status != float64(int(status)) {
			return e, fmt.Errorf("status is %#v", t["status"])
		}
		e.Status = int(status)
		if h, present := t["headers"]; present { // absent only in a bad: start
			if e.Headers, err = toHeaders(h); err != nil {
				return e, err
			}
			keys = append(keys, "headers")
		}
		if tr, present := t["trailers"]; present {
			if tr != true {
				return e, fmt.Errorf("trailers is %#v, want true or absent", tr)
			}
			e.Trailers = true
			keys = append(keys, "trailers")
		}
	case "http.response.body":
		keys = []string{"body", "more_body", "type"}
		if e.Body, ok = t["body"].(string); !ok {
			return e, fmt.Errorf("body is %#v", t["body"])
		}
		if e.MoreBody, ok = t["more_body"].(bool); !ok {
			return e, fmt.Errorf("more_body is %#v", t["more_body"])
		}
	case "http.response.trailers":
		keys = []string{"headers", "more_trailers", "type"}
		if e.Headers, err = toHeaders(t["headers"]); err != nil {
			return e, err
		}
		if e.MoreTrailers, ok = t["more_trailers"].(bool); !ok {
			return e, fmt.Errorf("more_trailers is %#v", t["more_trailers"])
		}
	case "lasgi.group.join", "lasgi.group.leave", "lasgi.group.send":
		keys = []string{"group", "type"}
		e.Group = t["group"]
		if d, present := t["data"]; present {
			e.Data = d
			keys = append(keys, "data")
		}
	default:
		return e, fmt.Errorf("unexpected event %#v", v)
	}
	var got []string
	for k := range t {
		s, _ := k.(string)
		got = append(got, s)
	}
	sort.Strings(got)
	sort.Strings(keys)
	if !cmp.Equal(got, keys) {
		return e, fmt.Errorf("%s event has keys %q, want %q", e.Type, got, keys)
	}
	return e, nil
}

// Steps of expected transcripts.

func pStart(status int, headers ...[2]string) pStep {
	if headers == nil {
		headers = [][2]string{}
	}
	return pStep{Op: "send", Ev: &pEvent{Type: "http.response.start", Status: status, Headers: headers}}
}

// pStartR is a start whose headers end with the report header.
func pStartR(status int, headers ...[2]string) pStep {
	return pStart(status, append(headers, [2]string{"lasgi-probe-report", reportMark})...)
}

func pBody(b string, more bool) pStep {
	return pStep{Op: "send", Ev: &pEvent{Type: "http.response.body", Body: b, MoreBody: more}}
}

func pTrailers(headers ...[2]string) pStep {
	if headers == nil {
		headers = [][2]string{}
	}
	return pStep{Op: "send", Ev: &pEvent{Type: "http.response.trailers", Headers: headers}}
}

func pError(msg string) pStep { return pStep{Op: "error", Text: msg} }

var (
	pRecv = pStep{Op: "receive"}
	pRet  = pStep{Op: "return"}
)

// pAnswer is a complete text answer (a 400 or 404 from the probe, not the script).
func pAnswer(status int, contentType, body string) []pStep {
	return []pStep{pStart(status, [2]string{"content-type", contentType}), pBody(body, false), pRet}
}

func expectPSteps(got, want []pStep) {
	GinkgoHelper()
	if diff := cmp.Diff(want, got); diff != "" {
		Fail("probe transcript mismatch (-want +got):\n" + diff)
	}
}

// ---------------------------------------------------------------------------------------
// Expected reports

// fillBytes is what fill:n sends.
func fillBytes(n int) string {
	return strings.Repeat("0123456789abcdef", n/16+1)[:n]
}

// pSend is an entry of a report's sends, its error reduced to errorKind's.
type pSend struct {
	Action string
	OK     bool
	Error  string
}

// errorKind reduces an error text to the rule ID of a "lasgi: <rule>: ..." error,
// "disconnected" for a disconnected error, and leaves other texts as they are.
func errorKind(s string) string {
	rest, ok := strings.CutPrefix(s, "lasgi: ")
	if !ok {
		return s
	}
	rule, _, ok := strings.Cut(rest, ": ")
	if !ok {
		return s
	}
	return rule
}

// sendsOf returns the sends of a decoded report, checking their shape.
func sendsOf(report any) []pSend {
	GinkgoHelper()
	m, ok := report.(map[string]any)
	Expect(ok).To(BeTrue(), "report %#v is not an object", report)
	list, ok := m["sends"].([]any)
	Expect(ok).To(BeTrue(), "sends %#v is not an array", m["sends"])
	out := []pSend{}
	for _, e := range list {
		obj, ok := e.(map[string]any)
		Expect(ok).To(BeTrue(), "sends entry %#v", e)
		Expect(obj).To(HaveLen(3), "sends entry %#v", e)
		s := pSend{}
		s.Action, ok = obj["action"].(string)
		Expect(ok).To(BeTrue(), "sends entry %#v: action", e)
		s.OK, ok = obj["ok"].(bool)
		Expect(ok).To(BeTrue(), "sends entry %#v: ok", e)
		if s.OK {
			Expect(obj["error"]).To(BeNil(), "sends entry %#v: error", e)
		} else {
			text, ok := obj["error"].(string)
			Expect(ok).To(BeTrue(), "sends entry %#v: error", e)
			s.Error = errorKind(text)
		}
		out = append(out, s)
	}
	return out
}

// expectedReport is the report of an exchange with the scope, the events the probe
// received and the sends entries (nil: none); full reports carry the body values.
func expectedReport(scope map[string]any, received []map[string]any, sends []any, full bool) map[string]any {
	events := []any{}
	seen := 0
	var body []byte
	for _, e := range received {
		rec := map[string]any{"type": nil, "more_body": nil, "len": nil}
		if t, ok := e["type"]; ok {
			rec["type"] = asJSON(t)
		}
		if m, ok := e["more_body"]; ok {
			rec["more_body"] = asJSON(m)
		}
		if b, ok := e["body"].(string); ok {
			rec["len"] = asJSON(len(b))
			seen += len(b)
			if full && seen <= 65536 {
				rec["body"] = b
			}
			if e["type"] == "http.request" {
				body = append(body, b...)
			}
		}
		events = append(events, rec)
	}
	if sends == nil {
		sends = []any{}
	}
	return map[string]any{
		"scope":  withNulls(scope, scopeKeys...),
		"events": events,
		"body":   map[string]any{"len": asJSON(len(body)), "adler32": asJSON(int(adler32.Checksum(body)))},
		"sends":  sends,
		// Transcripts are compared with the coroutine flag normalised to
		// false (see runProbe); the server tests set it to true.
		"coroutine": false,
	}
}

func expectReport(got any, want map[string]any) {
	GinkgoHelper()
	// Where the script came from is checked by its own specs.
	if m, ok := got.(map[string]any); ok {
		trimmed := make(map[string]any, len(m))
		for k, v := range m {
			if k != "script" && k != "script_from" {
				trimmed[k] = v
			}
		}
		got = trimmed
	}
	if diff := cmp.Diff(any(want), got); diff != "" {
		Fail("probe report mismatch (-want +got):\n" + diff)
	}
}

// fetched decodes the JSON of a report:T answer.
func fetched(r probeResult) any {
	GinkgoHelper()
	Expect(r.Steps).To(HaveLen(3), "report answer: %v", r.Steps)
	Expect(r.Steps[0].Ev).To(Equal(pStart(200, [2]string{"content-type", "application/json"}).Ev))
	v, err := decodeLatin1JSON(r.Body)
	Expect(err).NotTo(HaveOccurred(), "decoding the report %q", r.Body)
	return v
}

// ---------------------------------------------------------------------------------------
// The probe in the reference server

// ioDeadline bounds every network step.
const ioDeadline = 10 * time.Second

type probeServer struct {
	addr string
	log  *servertest.SyncBuffer // the server's error log
}

// startProbeServer serves probe.lua on loopback with one worker until the spec ends.
func startProbeServer() *probeServer {
	GinkgoHelper()
	src, err := app.Source("probe.lua")
	Expect(err).NotTo(HaveOccurred())
	s, err := servertest.Start("probe.lua", src, gopherlua.Options{Workers: 1}, server.Config{}, GinkgoWriter)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { Expect(s.Stop()).To(Succeed()) })
	return &probeServer{addr: s.Addr, log: s.Log}
}

func (s *probeServer) dial() net.Conn {
	GinkgoHelper()
	c, err := net.DialTimeout("tcp", s.addr, ioDeadline)
	Expect(err).NotTo(HaveOccurred())
	Expect(c.SetDeadline(time.Now().Add(ioDeadline))).To(Succeed())
	DeferCleanup(func() { _ = c.Close() })
	return c
}

// wireResponse is a response read off the wire.
type wireResponse struct {
	Status  int
	Header  http.Header
	Body    string
	Trailer http.Header
	Chunked bool
}

// report decodes the lasgi-probe-report header.
func (r *wireResponse) report() any {
	GinkgoHelper()
	values := r.Header.Values("lasgi-probe-report")
	Expect(values).To(HaveLen(1), "lasgi-probe-report headers")
	v, err := decodeLatin1JSON(values[0])
	Expect(err).NotTo(HaveOccurred(), "decoding the report header %q", values[0])
	return v
}

func readWireResponse(br *bufio.Reader) *wireResponse {
	GinkgoHelper()
	res, err := http.ReadResponse(br, &http.Request{Method: "GET"})
	Expect(err).NotTo(HaveOccurred())
	body, err := io.ReadAll(res.Body)
	Expect(err).NotTo(HaveOccurred())
	return &wireResponse{
		Status: res.StatusCode, Header: res.Header, Body: string(body), Trailer: res.Trailer,
		Chunked: len(res.TransferEncoding) > 0 && res.TransferEncoding[0] == "chunked",
	}
}

// request sends a request with the script (none when script is "") and the body on a
// new connection, writing the body while the response is read, and reads the response.
func (s *probeServer) request(method, script, body string, extra ...string) *wireResponse {
	GinkgoHelper()
	c := s.dial()
	var head strings.Builder
	fmt.Fprintf(&head, "%s /probe?x=1 HTTP/1.1\r\nHost: probe.test\r\n", method)
	if script != "" {
		fmt.Fprintf(&head, "lasgi-probe: %s\r\n", script)
	}
	for _, h := range extra {
		head.WriteString(h + "\r\n")
	}
	if body != "" || method == "POST" {
		fmt.Fprintf(&head, "Content-Length: %d\r\n", len(body))
	}
	head.WriteString("\r\n")
	written := make(chan error, 1)
	go func() {
		_, err := io.WriteString(c, head.String()+body)
		written <- err
	}()
	res := readWireResponse(bufio.NewReader(c))
	Eventually(written, ioDeadline).Should(Receive(BeNil()))
	return res
}

// fetchReport asks for the report kept under token, again on a new connection while the
// answer is 404 (the exchange may still be finishing), until ioDeadline.
func (s *probeServer) fetchReport(token string) any {
	GinkgoHelper()
	deadline := time.Now().Add(ioDeadline)
	// 404 until the exchange starts; a report marked running is partial, so
	// wait for the call to end, as lasgi-check does.
	res := s.request("GET", "report:"+token, "")
	for (res.Status == 404 || strings.Contains(res.Body, `"running":true`)) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		res = s.request("GET", "report:"+token, "")
	}
	Expect(res.Status).To(Equal(200), "report:%s answered %d %q", token, res.Status, res.Body)
	Expect(res.Header.Get("content-type")).To(Equal("application/json"))
	v, err := decodeLatin1JSON(res.Body)
	Expect(err).NotTo(HaveOccurred(), "decoding the report %q", res.Body)
	return v
}

// mapOf returns v as a JSON object.
func mapOf(v any) map[string]any {
	GinkgoHelper()
	m, ok := v.(map[string]any)
	Expect(ok).To(BeTrue(), "%#v is not a JSON object", v)
	return m
}

// jsonInt is a decoded JSON number as an int.
func jsonInt(v any) int {
	GinkgoHelper()
	n, ok := v.(json.Number)
	Expect(ok).To(BeTrue(), "%#v is not a JSON number", v)
	i, err := n.Int64()
	Expect(err).NotTo(HaveOccurred())
	return int(i)
}

// beforeStartEntries are the probe's invalid events a server refuses before
// the response starts in an http scope, each with the rule it must name
// (conformance.BadKinds).
func beforeStartEntries() []TableEntry {
	var entries []TableEntry
	for _, b := range conformance.BadKinds {
		if b.Rule != "" && b.Scope() == "http" {
			entries = append(entries, Entry(b.Kind, b.Kind, b.Rule))
		}
	}
	return entries
}
