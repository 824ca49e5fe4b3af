package conformance

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Case is one recorded exchange: the raw request as sent on the wire, what
// the probe is told to do, and what must come out. fixtures/README.md
// documents every field.
type Case struct {
	ID       string   `json:"id"`
	Rules    []string `json:"rules"`
	Note     string   `json:"note,omitempty"`
	Requires []string `json:"requires,omitempty"` // extensions the server must offer
	Probe    string   `json:"probe,omitempty"`    // the probe script; "" for the default
	Report   string   `json:"report,omitempty"`   // "head" (default), "kept" or "none"
	// Launch makes the case start the server under test afresh (a
	// Launcher), its probe told what to do in its lifespan call.
	Launch *Launch `json:"launch,omitempty"`
	Send   []Step  `json:"send"`
	Expect Expect  `json:"expect"`
	// FieldRules says which of Rules each expect field checks, for a case
	// whose rules are not all checked by every field: a finding about a
	// field breaks the rules listed for it, or else the rules listed for no
	// field. A case's verdict comes from the levels of the rules it broke.
	FieldRules map[string][]string `json:"field_rules,omitempty"`

	File string `json:"-"` // where it was loaded from
}

// Step is one thing the client does: write bytes, pause, read a response,
// close, write a generated body, or wait for bytes from the server.
type Step struct {
	Conn    int   `json:"conn,omitempty"` // which client connection: 0 (default) to 3, opened on first use
	Data    Bytes `json:"data,omitempty"`
	Repeat  int   `json:"repeat,omitempty"` // write Data this many times (default once)
	PauseMS int   `json:"pause_ms,omitempty"`
	Read    bool  `json:"read,omitempty"`  // read the next response now
	Close   bool  `json:"close,omitempty"` // close the connection
	Fill    *Fill `json:"fill,omitempty"`
	// Await reads from the connection until these bytes have come, within
	// the step deadline; what was read stays for the next read step.
	Await Bytes `json:"await,omitempty"`
	// Frame sends a WebSocket frame (after a handshake); ReadFrames reads
	// this many frames from the server now.
	Frame      *FrameStep `json:"frame,omitempty"`
	ReadFrames int        `json:"read_frames,omitempty"`
	// Terminate asks a launched server to shut down, as SIGTERM does, and
	// goes on at once.
	Terminate bool `json:"terminate,omitempty"`
}

// maxAwait bounds an await step's bytes (they must show up in the client's
// read buffer).
const maxAwait = 1024

// Fill generates a body instead of spelling it out: Size bytes of the
// pattern 0123456789abcdef, raw or as chunks of Chunk bytes (then the final
// zero-size chunk follows).
type Fill struct {
	Size  int64 `json:"size"`
	Chunk int   `json:"chunk,omitempty"`
}

// A step that is only data is written as a plain string.
func (s Step) MarshalJSON() ([]byte, error) {
	if s.Conn == 0 && s.Repeat == 0 && s.PauseMS == 0 && !s.Read && !s.Close && s.Fill == nil && s.Await == "" && s.Frame == nil && s.ReadFrames == 0 && !s.Terminate {
		return s.Data.MarshalJSON()
	}
	type plain Step
	return json.Marshal(plain(s))
}

func (s *Step) UnmarshalJSON(data []byte) error {
	if len(data) > 0 && data[0] == '"' {
		*s = Step{}
		return s.Data.UnmarshalJSON(data)
	}
	type plain Step
	var p plain
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	if err := d.Decode(&p); err != nil {
		return err
	}
	*s = Step(p)
	return nil
}

// Expect is what must be observed. A field that is present is checked; a
// field that is absent is not. `lasgi-check record` fills in every present
// field with what the server did.
type Expect struct {
	Responses    []Response     `json:"responses,omitempty"`
	Frames       []Frame        `json:"frames,omitempty"` // WebSocket frames from the server after the handshake
	Scope        map[string]any `json:"scope,omitempty"`  // subset of the probe's scope report
	Events       []Event        `json:"events,omitempty"` // receive() events, bodies merged (see README)
	Body         *BodySum       `json:"body,omitempty"`   // all request bodies the app received
	Sends        []SendResult   `json:"sends,omitempty"`
	Coroutine    *bool          `json:"coroutine,omitempty"`  // the app ran in a coroutine of its own
	Connection   string         `json:"connection,omitempty"` // "closed": the server must close it
	AppNotCalled bool           `json:"app_not_called,omitempty"`
	// NoMoreResponses: the server sends nothing after the responses listed
	// (with connection "closed", whose close proves that nothing followed).
	NoMoreResponses bool `json:"no_more_responses,omitempty"`
	// A launched server's (lifespan_fixture.go): how it exited, whether it
	// served, each Lua state's lifespan record, when its calls ran, and the
	// probe's state report.
	Exit                string           `json:"exit,omitempty"`
	Served              *bool            `json:"served,omitempty"`
	Record              []map[string]any `json:"record,omitempty"`
	CallsAfterStartup   bool             `json:"calls_after_startup,omitempty"`
	CallsBeforeShutdown bool             `json:"calls_before_shutdown,omitempty"`
	Lifespan            map[string]any   `json:"lifespan,omitempty"`
	// ElapsedMinMS and ElapsedMaxMS bound how long the exchange took, in
	// milliseconds, from its first step until the responses and frames
	// were read (Observation.Elapsed): a server that waits too little, or
	// too long (timers_protocol.go).
	ElapsedMinMS *int64 `json:"elapsed_min_ms,omitempty"`
	ElapsedMaxMS *int64 `json:"elapsed_max_ms,omitempty"`
	// GroupMessages and GroupDropped sum up the lasgi.group.message events
	// the probe received, for a case with too many to list as events
	// (groups_protocol.go).
	GroupMessages *GroupMessages `json:"group_messages,omitempty"`
	GroupDropped  *[][2]int      `json:"group_dropped,omitempty"`
	// OneOf lists outcomes the spec permits alike: at least one must be
	// observed in full, on top of the fields above. Each says what it is.
	OneOf   []Expect `json:"one_of,omitempty"`
	Outcome string   `json:"outcome,omitempty"` // in a one_of entry: which permitted outcome this is
}

// Response is one HTTP response read off the wire.
type Response struct {
	Status  *int       `json:"status,omitempty"`
	Headers [][2]Bytes `json:"headers,omitempty"` // must appear, in this relative order
	Absent  []string   `json:"absent,omitempty"`  // header names that must not appear
	Single  []string   `json:"single,omitempty"`  // header names that must appear exactly once
	Body    *Bytes     `json:"body,omitempty"`
	BodySum *BodySum   `json:"body_sum,omitempty"`
	// BodyMax bounds the body's length, BodyLacks names strings it must
	// not contain: for a body the spec leaves open within limits.
	BodyMax   *int64     `json:"body_max,omitempty"`
	BodyLacks []Bytes    `json:"body_lacks,omitempty"`
	Framing   string     `json:"framing,omitempty"` // "length", "chunked", "close" or "none"
	Trailers  [][2]Bytes `json:"trailers,omitempty"`
	// Truncated: the connection closed before the body's framing ended.
	Truncated *bool `json:"truncated,omitempty"`
}

// Event is a receive() event as the probe reports it.
type Event struct {
	Type     string `json:"type"`
	Body     Bytes  `json:"body,omitempty"`
	MoreBody bool   `json:"more_body,omitempty"`
	// websocket.receive's message and websocket.disconnect's code and
	// reason.
	Text   *Bytes `json:"text,omitempty"`
	Bytes  *Bytes `json:"bytes,omitempty"`
	Code   *int   `json:"code,omitempty"`
	Reason *Bytes `json:"reason,omitempty"`
	// lasgi.group.message's group, data (decoded JSON: objects, lists,
	// Bytes, float64 and bool) and dropped (groups_protocol.go).
	Group   *Bytes `json:"group,omitempty"`
	Data    any    `json:"data,omitempty"`
	Dropped *int   `json:"dropped,omitempty"`
	// Problems the probe saw in the event itself: receive() returning other
	// than one value, a missing or mistyped key. Empty for a sound event.
	Problems []string `json:"problems,omitempty"`
}

// BodySum stands for a body too long to spell out.
type BodySum struct {
	Len     int64  `json:"len"`
	Adler32 uint32 `json:"adler32"`
}

// SendResult is the outcome of a probe send: Error is the rule ID the error
// must name, "disconnected" for the disconnected error, or "" for success.
type SendResult struct {
	Action string `json:"action"`
	Error  string `json:"error"`
}

// Framings and connection states a fixture may name.
var (
	framings    = []string{"length", "chunked", "close", "none"}
	reportKinds = []string{"", "head", "kept", "none"}
	connections = []string{"", "closed"}
	idPattern   = regexp.MustCompile(`^[a-z0-9]+(\.[a-z0-9-]+)*/[a-z0-9][a-z0-9.-]*$`)
)

// FixtureError says which file, case and field of a fixture is wrong.
type FixtureError struct {
	File  string
	Case  string // ID, or "#n" when the case has no usable ID
	Field string
	Msg   string
}

func (e *FixtureError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Case != "" {
		b.WriteString(": case " + e.Case)
	}
	if e.Field != "" {
		b.WriteString(": field " + e.Field)
	}
	b.WriteString(": " + e.Msg)
	return b.String()
}

// fixtureFile is the shape of one fixture file.
type fixtureFile struct {
	Section string  `json:"section"` // the spec section the file covers, e.g. "http.md#scope"
	Cases   []*Case `json:"cases"`
}

// LoadFS loads every *.json fixture file under dir in fsys, in path order,
// and checks each case. The first problem found is returned as a
// *FixtureError naming the file, the case and the field.
func LoadFS(fsys fs.FS, dir string) ([]*Case, error) {
	var files []string
	err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".json") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var all []*Case
	seen := map[string]string{}
	for _, f := range files {
		data, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, err
		}
		cases, err := ParseFile(f, data)
		if err != nil {
			return nil, err
		}
		for _, c := range cases {
			if prev, dup := seen[c.ID]; dup {
				return nil, &FixtureError{File: f, Case: c.ID, Field: "id", Msg: "duplicate ID, also in " + prev}
			}
			seen[c.ID] = f
		}
		all = append(all, cases...)
	}
	if len(all) == 0 {
		return nil, &FixtureError{File: dir, Msg: "no fixture files (*.json)"}
	}
	return all, nil
}

// ParseFile parses and checks one fixture file.
func ParseFile(name string, data []byte) ([]*Case, error) {
	var f fixtureFile
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	if err := d.Decode(&f); err != nil {
		return nil, &FixtureError{File: name, Field: jsonErrorField(err), Msg: jsonErrorMsg(data, err)}
	}
	if d.More() {
		return nil, &FixtureError{File: name, Msg: "data after the top-level object"}
	}
	if f.Section == "" {
		return nil, &FixtureError{File: name, Field: "section", Msg: "missing: name the spec section the file covers"}
	}
	seen := map[string]bool{}
	for i, c := range f.Cases {
		if c == nil {
			return nil, &FixtureError{File: name, Case: "#" + strconv.Itoa(i+1), Msg: "null case"}
		}
		c.File = name
		if err := c.check(); err != nil {
			var fe *FixtureError
			if errors.As(err, &fe) {
				fe.File = name
				if fe.Case == "" {
					fe.Case = "#" + strconv.Itoa(i+1)
				}
			}
			return nil, err
		}
		if seen[c.ID] {
			return nil, &FixtureError{File: name, Case: c.ID, Field: "id", Msg: "duplicate ID in this file"}
		}
		seen[c.ID] = true
	}
	return f.Cases, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// jsonErrorField and jsonErrorMsg turn encoding/json's errors into a field
// name and a message with a line number.
func jsonErrorField(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return te.Field
	}
	return ""
}

func jsonErrorMsg(data []byte, err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("line %d: %v", lineOf(data, se.Offset), err)
	case errors.As(err, &te):
		return fmt.Sprintf("line %d: %s where %s was expected", lineOf(data, te.Offset), te.Value, te.Type)
	}
	return err.Error()
}

func lineOf(data []byte, offset int64) int {
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	return bytes.Count(data[:offset], []byte("\n")) + 1
}

// section is the fixture file's base name without .json, for report suites.
func (c *Case) section() string { return strings.TrimSuffix(path.Base(c.File), ".json") }

// anyExpect reports whether the case's expect or one of its permitted
// outcomes satisfies f: what the checker must observe for the case.
func (c *Case) anyExpect(f func(*Expect) bool) bool {
	if f(&c.Expect) {
		return true
	}
	for i := range c.Expect.OneOf {
		if f(&c.Expect.OneOf[i]) {
			return true
		}
	}
	return false
}

func (c *Case) needsReport() bool {
	return len(c.Requires) > 0 || c.anyExpect((*Expect).needsReport)
}

// sendsProbe reports whether some step carries the probe placeholder.
func (c *Case) sendsProbe() bool {
	for _, s := range c.Send {
		if strings.Contains(string(s.Data), ProbePlaceholder) {
			return true
		}
	}
	return false
}

func (c *Case) wantsAppNotCalled() bool {
	return c.anyExpect(func(e *Expect) bool { return e.AppNotCalled })
}

func (c *Case) wantsClosed() bool {
	return c.anyExpect(func(e *Expect) bool { return e.Connection == "closed" })
}

// maxResponses is the most responses an outcome of the case expects.
func (c *Case) maxResponses() int {
	n := 0
	c.anyExpect(func(e *Expect) bool { n = max(n, len(e.Responses)); return false })
	return n
}
