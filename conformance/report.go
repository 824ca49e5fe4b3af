package conformance

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"
)

// WriteText writes a readable report: every failure, warning and skip with
// the rules it broke and its message, then the closing line
// "N passed, N failed, N warnings, N skipped".
func WriteText(w io.Writer, results []Result) error {
	var b strings.Builder
	for _, r := range results {
		if r.Status == Passed {
			continue
		}
		fmt.Fprintf(&b, "\n%s %s [%s]\n", strings.ToUpper(string(r.Status)), r.Case.ID, strings.Join(shownRules(r), ", "))
		for _, line := range strings.Split(r.Message, "\n") {
			fmt.Fprintf(&b, "    %s\n", line)
		}
	}
	fmt.Fprintf(&b, "\n%s\n", Summarize(results))
	_, err := io.WriteString(w, b.String())
	return err
}

// shownRules are the rules a report names for a result: the ones it broke,
// or the case's when it broke none of them by name.
func shownRules(r Result) []string {
	if len(r.Broken) > 0 {
		return r.Broken
	}
	return r.Case.Rules
}

// jsonReport is the documented JSON shape.
type jsonReport struct {
	Summary Summary    `json:"summary"`
	Cases   []jsonCase `json:"cases"`
}

type jsonCase struct {
	ID      string   `json:"id"`
	Rules   []string `json:"rules"`
	Broken  []string `json:"broken"` // the rules whose checks failed; [] when it passed
	Status  Status   `json:"status"`
	Message string   `json:"message"`
}

// WriteJSON writes {"summary": {...}, "cases": [{"id", "rules", "broken", "status", "message"}]};
// status is passed, failed, warning or skipped.
func WriteJSON(w io.Writer, results []Result) error {
	rep := jsonReport{Summary: Summarize(results), Cases: []jsonCase{}}
	for _, r := range results {
		broken := r.Broken
		if broken == nil {
			broken = []string{}
		}
		rep.Cases = append(rep.Cases, jsonCase{ID: r.Case.ID, Rules: r.Case.Rules, Broken: broken, Status: r.Status, Message: r.Message})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes JUnit XML: one testsuite per fixture file, one testcase
// per case (name: the case ID; classname: the suite and the file). A
// warning is a passing testcase with its finding in system-out: JUnit has no
// such outcome, and CI reporters reject attributes of their own.
func WriteJUnit(w io.Writer, suite string, results []Result) error {
	top := junitSuites{Name: suite}
	index := map[string]int{}
	var total time.Duration
	for _, r := range results {
		sec := r.Case.section()
		i, ok := index[sec]
		if !ok {
			i = len(top.Suites)
			index[sec] = i
			top.Suites = append(top.Suites, junitSuite{Name: suite + "." + sec})
		}
		s := &top.Suites[i]
		jc := junitCase{Name: r.Case.ID, Classname: suite + "." + sec, Time: seconds(r.Elapsed)}
		first, _, _ := strings.Cut(r.Message, "\n")
		switch r.Status {
		case Failed:
			jc.Failure = &junitMessage{Message: first, Type: "lasgi." + strings.Join(shownRules(r), ","), Text: r.Message}
			s.Failures++
			top.Failures++
		case Warning:
			jc.SystemOut = "WARNING [" + strings.Join(shownRules(r), ", ") + "]\n" + r.Message
		case Skipped:
			jc.Skipped = &junitMessage{Message: first}
			s.Skipped++
			top.Skipped++
		}
		s.Tests++
		top.Tests++
		total += r.Elapsed
		s.Cases = append(s.Cases, jc)
	}
	for i := range top.Suites {
		var d time.Duration
		for _, r := range results {
			if suite+"."+r.Case.section() == top.Suites[i].Name {
				d += r.Elapsed
			}
		}
		top.Suites[i].Time = seconds(d)
	}
	top.Time = seconds(total)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(top); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }
