package conformance_test

import (
	"errors"
	"strings"
	"testing/fstest"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/conformance"
	"github.com/lasgi/lasgi/fixtures"
)

// aCase is a valid case; tests break one field at a time.
const aCase = `{"id": "http.scope/x", "rules": ["http.scope.path"], "send": ["GET / HTTP/1.1\r\n\r\n"], "expect": {"responses": [{"status": 200}]}}`

func file(cases ...string) string {
	return `{"section": "http.md#scope", "cases": [` + strings.Join(cases, ",") + `]}`
}

var _ = Describe("the fixture loader", func() {
	It("loads the built-in corpus", func() {
		cases, err := conformance.LoadFS(fixtures.FS, ".")
		Expect(err).NotTo(HaveOccurred())
		Expect(cases).NotTo(BeEmpty())
		for _, c := range cases {
			Expect(c.File).To(HaveSuffix(".json"))
		}
	})

	It("loads a valid file and keeps bytes exact", func() {
		cases, err := conformance.ParseFile("f.json", []byte(file(
			`{"id": "http.scope/bytes", "rules": ["http.scope.raw-path"], "send": ["GET /\u00ff\u0000 HTTP/1.1\r\n\r\n", {"pause_ms": 5}, {"fill": {"size": 10, "chunk": 3}}, {"read": true}, {"await": "HTTP/1.1 \u00ff"}, {"close": true}], "expect": {}}`)))
		Expect(err).NotTo(HaveOccurred())
		Expect(string(cases[0].Send[0].Data)).To(Equal("GET /\xff\x00 HTTP/1.1\r\n\r\n"))
		Expect(cases[0].Send[1].PauseMS).To(Equal(5))
		Expect(cases[0].Send[2].Fill.Size).To(Equal(int64(10)))
		Expect(string(cases[0].Send[4].Await)).To(Equal("HTTP/1.1 \xff"))
	})

	DescribeTable("rejects a malformed fixture naming the file, case and field",
		func(content string, wantParts ...string) {
			_, err := conformance.ParseFile("fixtures/http/bad.json", []byte(content))
			Expect(err).To(HaveOccurred())
			var fe *conformance.FixtureError
			Expect(errors.As(err, &fe)).To(BeTrue(), "a *FixtureError, got %T: %v", err, err)
			Expect(err.Error()).To(HavePrefix("fixtures/http/bad.json"))
			for _, part := range wantParts {
				Expect(err.Error()).To(ContainSubstring(part))
			}
		},
		Entry("broken JSON", "{\n\"section\": \"x\",\n\"cases\": [\n{,}]}", "line 4"),
		Entry("unknown field", file(strings.Replace(aCase, `"rules"`, `"rulez": [], "rules"`, 1)), "rulez"),
		Entry("wrong type", file(strings.Replace(aCase, `["http.scope.path"]`, `"http.scope.path"`, 1)), "rules", "string"),
		Entry("no section", `{"cases": [`+aCase+`]}`, "field section", "missing"),
		Entry("bad ID", file(strings.Replace(aCase, `http.scope/x`, `Not An ID`, 1)), "field id", "area.topic/name"),
		Entry("no rules", file(strings.Replace(aCase, `["http.scope.path"]`, `[]`, 1)), "http.scope/x", "field rules", "at least one rule"),
		Entry("unknown rule", file(strings.Replace(aCase, `http.scope.path`, `http.scope.nope`, 1)), "field rules[0]", "http.scope.nope", "not a rule in the catalog"),
		Entry("duplicate ID in one file", file(aCase, aCase), "case http.scope/x: field id: duplicate ID"),
		Entry("nothing sent", file(strings.Replace(aCase, `["GET / HTTP/1.1\r\n\r\n"]`, `[]`, 1)), "field send"),
		Entry("a step of two kinds", file(strings.Replace(aCase, `["GET / HTTP/1.1\r\n\r\n"]`, `[{"read": true, "close": true}]`, 1)), "field send[0]", "exactly one"),
		Entry("an await step that also reads", file(strings.Replace(aCase, `["GET / HTTP/1.1\r\n\r\n"]`, `["GET / HTTP/1.1\r\n\r\n", {"await": "HTTP/1.1 200", "read": true}]`, 1)), "case http.scope/x: field send[1]", "exactly one", "await"),
		Entry("an empty await step", file(strings.Replace(aCase, `["GET / HTTP/1.1\r\n\r\n"]`, `[{"await": ""}]`, 1)), "case http.scope/x: field send[0]", "exactly one"),
		Entry("an await step too long", file(strings.Replace(aCase, `["GET / HTTP/1.1\r\n\r\n"]`, `[{"await": "`+strings.Repeat("x", 1025)+`"}]`, 1)), "case http.scope/x: field send[0].await", "at most 1024"),
		Entry("an await step of the wrong type", file(strings.Replace(aCase, `["GET / HTTP/1.1\r\n\r\n"]`, `[{"await": true}]`, 1)), "await"),
		Entry("unknown step field", file(strings.Replace(aCase, `["GET / HTTP/1.1\r\n\r\n"]`, `[{"wait": 5}]`, 1)), "wait"),
		Entry("character above U+00FF", file(strings.Replace(aCase, `GET /`, `GET /\u0100`, 1)), "above U+00FF"),
		Entry("unknown probe verb", file(strings.Replace(aCase, `"send"`, `"probe": "drain dance", "send"`, 1)), "field probe", "unknown verb \"dance\""),
		Entry("wrong probe arity", file(strings.Replace(aCase, `"send"`, `"probe": "start", "send"`, 1)), "field probe", "start"),
		Entry("unknown bad kind", file(strings.Replace(aCase, `"send"`, `"probe": "bad:weird", "send"`, 1)), "unknown invalid event \"weird\""),
		Entry("bad framing", file(strings.Replace(aCase, `{"status": 200}`, `{"status": 200, "framing": "smoke"}`, 1)), "expect.responses[0].framing", "smoke"),
		Entry("report none but checks the scope", file(strings.Replace(aCase, `"expect": {`, `"report": "none", "expect": {"scope": {"path": "/"}, `, 1)), "field report"),
		Entry("two probe placeholders", file(strings.Replace(aCase, `GET / HTTP/1.1\r\n\r\n`, `{probe}{probe}`, 1)), "appears 2 times"),
		Entry("no_more_responses without a close", file(strings.Replace(aCase, `"expect": {`, `"expect": {"no_more_responses": true, `, 1)), "expect.no_more_responses", "connection"),
		Entry("one outcome in one_of", file(strings.Replace(aCase, `"expect": {`, `"expect": {"one_of": [{"outcome": "a", "connection": "closed"}], `, 1)), "expect.one_of", "one outcome"),
		Entry("an outcome that does not say what it is", file(strings.Replace(aCase, `"expect": {`, `"expect": {"one_of": [{"connection": "closed"}, {"app_not_called": true}], `, 1)), "one_of[0].outcome", "missing"),
		Entry("field_rules for a field not checked", file(strings.Replace(aCase, `"send"`, `"field_rules": {"scope": ["http.scope.path"]}, "send"`, 1)), "field_rules.scope", "does not check"),
		Entry("field_rules naming a rule not the case's", file(strings.Replace(aCase, `"send"`, `"field_rules": {"responses": ["http.scope.method"]}, "send"`, 1)), "field_rules.responses", "not one of the case's rules"),
		Entry("an unknown lifespan startup", file(strings.Replace(aCase, `"send"`, `"launch": {"startup": "sleep"}, "send"`, 1)), "field launch.startup", `"sleep"`, "hang"),
		Entry("an unknown lifespan shutdown", file(strings.Replace(aCase, `"send"`, `"launch": {"shutdown": "hang"}, "send"`, 1)), "field launch.shutdown", `"hang"`),
		Entry("terminate without launch", file(strings.Replace(aCase, `["GET / HTTP/1.1\r\n\r\n"]`, `[{"terminate": true}]`, 1)), "terminate is for a case with launch"),
		Entry("a launched server's field without launch", file(strings.Replace(aCase, `"expect": {`, `"expect": {"exit": "nonzero", `, 1)), "field expect", "for a case with launch"),
		Entry("an unknown exit", file(strings.Replace(aCase, `"expect": {`, `"launch": {}, "expect": {"exit": "zero", `, 1)), "field expect.exit", `"zero"`),
	)

	It("rejects duplicate IDs across files", func() {
		fsys := fstest.MapFS{
			"a.json": {Data: []byte(file(aCase))},
			"b.json": {Data: []byte(file(aCase))},
		}
		_, err := conformance.LoadFS(fsys, ".")
		Expect(err).To(MatchError(ContainSubstring("b.json: case http.scope/x: field id: duplicate ID, also in a.json")))
	})

	It("rejects an empty corpus", func() {
		_, err := conformance.LoadFS(fstest.MapFS{"README.md": {Data: []byte("hi")}}, ".")
		Expect(err).To(MatchError(ContainSubstring("no fixture files")))
	})
})
