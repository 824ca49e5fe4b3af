package conformance

// Go native fuzz targets for the fixture loader and the probe-report
// decoder. `go test` runs their seeds (testdata/fuzz/ and the f.Add calls)
// as plain tests; scripts/test fuzzes each for a few seconds, scripts/fuzz
// for longer (docs/reliability.md, "Fuzzing").

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/lasgi/lasgi/fixtures"
)

// fuzzName is the file name the fuzzed fixtures are parsed under.
const fuzzName = "fixtures/http/fuzz.json"

// FuzzParseFile: ParseFile never panics; it fails with a *FixtureError that
// names the file and says what is wrong, or gives cases that are well formed
// and survive what `lasgi-check record` does with them: written back the way
// RecordFile writes a file, they load again as the same cases (but for
// empty lists, see checksEmpty).
func FuzzParseFile(f *testing.F) {
	f.Add([]byte(`{"section": "http.md#scope", "cases": [{"id": "http.scope/x", "rules": ["http.scope.path"], "send": ["GET /\u00ff HTTP/1.1\r\n\r\n", {"pause_ms": 5}, {"fill": {"size": 10, "chunk": 3}}, {"read": true}, {"await": "HTTP/1.1 \u00ff"}, {"close": true}], "expect": {"scope": {"path": "/\u00ff", "client": "{client}"}, "responses": [{"status": 200, "body": "ok\u0000"}]}}]}`))
	f.Add([]byte(`{"section": "x", "cases": [null]}`))
	f.Add([]byte("{\n\"section\": \"x\",\n\"cases\": [\n{,}]}"))
	f.Add([]byte(`{"section": "x", "cases": []} {}`))
	f.Add([]byte(`{"section": "x", "cases": [{"id": "http.scope/x", "rules": ["http.scope.path"], "send": ["GET / HTTP/1.1\r\n\r\n"], "expect": {"events": []}, "field_rules": {"events": ["http.scope.path"]}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		cases, err := ParseFile(fuzzName, data)
		if err != nil {
			var fe *FixtureError
			if !errors.As(err, &fe) || fe.File != fuzzName || fe.Msg == "" || !strings.HasPrefix(err.Error(), fuzzName+": ") {
				t.Fatalf("not a *FixtureError naming the file: %T %q", err, err)
			}
			return
		}
		for _, c := range cases {
			if c.File != fuzzName || !idPattern.MatchString(c.ID) || len(c.Rules) == 0 || len(c.Send) == 0 {
				t.Fatalf("a case that should not have loaded: %+v", c)
			}
		}
		if slices.ContainsFunc(cases, checksEmpty) {
			return // written back it would not check the same (see checksEmpty)
		}
		written := recordedFile(t, cases)
		again, err := ParseFile(fuzzName, written)
		if err != nil {
			t.Fatalf("the file written back does not load: %v\n%s", err, written)
		}
		if d := cmp.Diff(cases, again, cmpopts.EquateEmpty()); d != "" {
			t.Fatalf("the file written back loads as other cases (-first +again):\n%s", d)
		}
	})
}

// recordedFile writes cases back as RecordFile does: scope values as byte
// strings, indented, HTML characters unescaped.
func recordedFile(t *testing.T, cases []*Case) []byte {
	out := fixtureFile{Section: "http.md#fuzz"}
	for _, c := range cases {
		w := *c
		w.Expect = recordedExpect(c.Expect)
		for i := range w.Expect.OneOf {
			w.Expect.OneOf[i] = recordedExpect(c.Expect.OneOf[i])
		}
		out.Cases = append(out.Cases, &w)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		t.Fatalf("a loaded file does not encode: %v", err)
	}
	return buf.Bytes()
}

// recordedExpect is e with its scope's strings wrapped in Bytes (a copy,
// one_of a new list).
func recordedExpect(e Expect) Expect {
	if e.Scope != nil {
		e.Scope = asBytes(e.Scope).(map[string]any)
	}
	e.OneOf = append([]Expect(nil), e.OneOf...)
	return e
}

// checksEmpty reports whether c's expect (or an outcome of it) checks
// responses, scope, events or sends with an empty list or object: "events":
// [] checks that no event came, but the encoder drops empty fields
// (omitempty), so RecordFile would write the case back checking nothing
// there, or, when field_rules names the field, failing to load. A known
// gap of the writer, not of the loader: such cases are not written back.
func checksEmpty(c *Case) bool {
	return c.anyExpect(func(e *Expect) bool {
		return e.Responses != nil && len(e.Responses) == 0 || e.Scope != nil && len(e.Scope) == 0 ||
			e.Events != nil && len(e.Events) == 0 || e.Sends != nil && len(e.Sends) == 0
	})
}

// fuzzCases are the corpus's cases, for judging fuzzed reports.
var fuzzCases = sync.OnceValues(func() ([]*Case, error) { return LoadFS(fixtures.FS, ".") })

// FuzzDecodeReport: decodeReportJSON never panics, and a report it decodes
// is what it stands for: written back with its strings as byte strings, it
// decodes to the same value. What the checker makes of it (observed, and
// compare against a case of the corpus) never panics and is bounded by the
// report: no more events or sends, nor event-body bytes, than it has bytes.
func FuzzDecodeReport(f *testing.F) {
	f.Add([]byte(`{}`), uint8(0))
	f.Add([]byte(`[]`), uint8(1))
	f.Add([]byte(`{"scope": "\u0100"}`), uint8(2))
	f.Add([]byte(`{"events":[{"type":"http.request","more_body":true,"body":"a\u00ff","len":2},{"type":"http.request","body":"b","values":2},{}],"sends":[{"action":"bad:x","ok":false,"error":""},{"action":"bad:y","ok":false,"error":"lasgi: http.start.status-type: x"}],"scope":{"headers":[["lasgi-probe","x"],"bad",["a"]],"client":["127.0.0.1",1.5e3]},"body":{"len":"1","adler32":-1},"coroutine":1,"script_from":"header"} trailing`), uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, pick uint8) {
		rep, err := decodeReportJSON(data)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("an error without a message")
			}
			return
		}
		if rep != nil {
			enc, err := json.Marshal(asBytes(rep))
			if err != nil {
				t.Fatalf("a decoded report does not encode: %v", err)
			}
			again, err := decodeReportJSON(enc)
			if err != nil || !cmp.Equal(rep, again) {
				t.Fatalf("%s decodes to %v, %v; first %v", enc, again, err, rep)
			}
		}
		obs := &Observation{}
		if rep != nil {
			obs.Report = newProbeReport(rep)
		}
		got := observed(obs)
		bodyBytes := 0
		for _, ev := range got.Events {
			bodyBytes += len(ev.Body)
		}
		if len(got.Events) > len(data) || len(got.Sends) > len(data) || bodyBytes > len(data) {
			t.Fatalf("%d events, %d sends, %d body bytes from a report of %d bytes", len(got.Events), len(got.Sends), bodyBytes, len(data))
		}
		if _, err := json.Marshal(got); err != nil {
			t.Fatalf("what the report shows does not encode: %v", err)
		}
		scriptFrom(obs)
		cases, err := fuzzCases()
		if err != nil {
			t.Fatal(err)
		}
		for _, fd := range compare(cases[int(pick)%len(cases)], obs) {
			if fd.text == "" {
				t.Fatalf("a finding without text about %s", fd.field)
			}
		}
	})
}
