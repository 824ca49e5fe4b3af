package conformance_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"strings"
	"time"

	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/conformance"
)

func someResults() []conformance.Result {
	mk := func(id, file string, rules ...string) *conformance.Case {
		return &conformance.Case{ID: id, Rules: rules, File: file}
	}
	return []conformance.Result{
		{Case: mk("http.scope/a", "http/scope.json", "http.scope.path"), Status: conformance.Passed, Elapsed: time.Millisecond},
		{Case: mk("http.scope/b", "http/scope.json", "http.scope.raw-path", "http.scope.path"), Status: conformance.Failed, Broken: []string{"http.scope.raw-path"}, Message: "scope differs\n<diff & stuff>", Elapsed: 2 * time.Millisecond},
		{Case: mk("http.malformed/w", "http/malformed.json", "http.malformed", "http.malformed.close"), Status: conformance.Warning, Broken: []string{"http.malformed.close"}, Message: "stayed open"},
		{Case: mk("http.response/c", "http/response.json", "http.body.chunked"), Status: conformance.Skipped, Message: "not offered"},
	}
}

var _ = Describe("reports", func() {
	It("text ends with the N passed, N failed, N warnings, N skipped line and explains failures and warnings", func() {
		var b bytes.Buffer
		Expect(conformance.WriteText(&b, someResults())).To(Succeed())
		lines := strings.Split(strings.TrimSpace(b.String()), "\n")
		Expect(lines[len(lines)-1]).To(Equal("1 passed, 1 failed, 1 warnings, 1 skipped"))
		Expect(b.String()).To(ContainSubstring("FAILED http.scope/b [http.scope.raw-path]\n    scope differs\n"))
		Expect(b.String()).To(ContainSubstring("WARNING http.malformed/w [http.malformed.close]\n    stayed open\n"))
		Expect(b.String()).To(ContainSubstring("SKIPPED http.response/c"))
		Expect(b.String()).NotTo(ContainSubstring("http.scope/a"))
	})

	It("JSON has the documented shape", func() {
		var b bytes.Buffer
		Expect(conformance.WriteJSON(&b, someResults())).To(Succeed())
		var got map[string]any
		Expect(json.Unmarshal(b.Bytes(), &got)).To(Succeed())
		want := map[string]any{
			"summary": map[string]any{"total": 4.0, "passed": 1.0, "failed": 1.0, "warnings": 1.0, "skipped": 1.0},
			"cases": []any{
				map[string]any{"id": "http.scope/a", "rules": []any{"http.scope.path"}, "broken": []any{}, "status": "passed", "message": ""},
				map[string]any{"id": "http.scope/b", "rules": []any{"http.scope.raw-path", "http.scope.path"}, "broken": []any{"http.scope.raw-path"}, "status": "failed", "message": "scope differs\n<diff & stuff>"},
				map[string]any{"id": "http.malformed/w", "rules": []any{"http.malformed", "http.malformed.close"}, "broken": []any{"http.malformed.close"}, "status": "warning", "message": "stayed open"},
				map[string]any{"id": "http.response/c", "rules": []any{"http.body.chunked"}, "broken": []any{}, "status": "skipped", "message": "not offered"},
			},
		}
		if d := cmp.Diff(want, got); d != "" {
			Fail("JSON report (-want +got):\n" + d)
		}
	})

	It("JUnit is well-formed XML where every testcase has a name and a classname", func() {
		var b bytes.Buffer
		Expect(conformance.WriteJUnit(&b, "lasgi-check.server", someResults())).To(Succeed())
		type testcase struct {
			Name      string  `xml:"name,attr"`
			Classname string  `xml:"classname,attr"`
			Failure   *string `xml:"failure"`
			Skipped   *string `xml:"skipped"`
			SystemOut string  `xml:"system-out"`
		}
		var doc struct {
			XMLName  xml.Name `xml:"testsuites"`
			Tests    int      `xml:"tests,attr"`
			Failures int      `xml:"failures,attr"`
			Skipped  int      `xml:"skipped,attr"`
			Suites   []struct {
				Name  string     `xml:"name,attr"`
				Tests int        `xml:"tests,attr"`
				Cases []testcase `xml:"testcase"`
			} `xml:"testsuite"`
		}
		Expect(xml.Unmarshal(b.Bytes(), &doc)).To(Succeed())
		Expect([]int{doc.Tests, doc.Failures, doc.Skipped}).To(Equal([]int{4, 1, 1}))
		Expect(doc.Suites).To(HaveLen(3))
		n := 0
		for _, s := range doc.Suites {
			Expect(s.Tests).To(Equal(len(s.Cases)))
			for _, c := range s.Cases {
				n++
				Expect(c.Name).NotTo(BeEmpty())
				Expect(c.Classname).To(HavePrefix("lasgi-check.server."))
				if c.Name == "http.malformed/w" {
					// A warning passes, with its finding where CI reporters show output.
					Expect(c.Failure).To(BeNil())
					Expect(c.SystemOut).To(Equal("WARNING [http.malformed.close]\nstayed open"))
				}
			}
		}
		Expect(n).To(Equal(4))
		Expect(b.String()).To(ContainSubstring("&lt;diff &amp; stuff&gt;"))
	})
})
