package ginkgosuite

import (
	"fmt"
	"strings"

	"github.com/google/go-cmp/cmp"
	"github.com/onsi/gomega/gcustom"
	"github.com/onsi/gomega/types"

	"github.com/lasgi/lasgi/conformance"
)

// MatchEvents succeeds when the actual []conformance.Event equals want once
// runs of http.request events are merged on both sides by
// conformance.MergeEvents (a server may split a body anywhere); Problems are
// compared too. Its failure message is a go-cmp diff.
func MatchEvents(want ...conformance.Event) types.GomegaMatcher {
	return &eventsMatcher{want: want}
}

type eventsMatcher struct {
	want []conformance.Event
	diff string
}

func (m *eventsMatcher) Match(actual any) (bool, error) {
	got, ok := actual.([]conformance.Event)
	if !ok {
		return false, fmt.Errorf("MatchEvents expects []conformance.Event, got %T", actual)
	}
	m.diff = cmp.Diff(conformance.MergeEvents(m.want), conformance.MergeEvents(got))
	return m.diff == "", nil
}

func (m *eventsMatcher) FailureMessage(any) string {
	return "Expected receive() events to match (-want +got):\n" + m.diff
}

func (m *eventsMatcher) NegatedFailureMessage(any) string {
	return "Expected receive() events not to match, but they did"
}

// NameRule succeeds when the actual error, or string, is a LASGI error
// value naming rule: "lasgi: <rule>: <detail>".
func NameRule(rule string) types.GomegaMatcher {
	return gcustom.MakeMatcher(func(actual any) (bool, error) {
		var msg string
		switch v := actual.(type) {
		case error:
			msg = v.Error()
		case string:
			msg = v
		default:
			return false, fmt.Errorf("NameRule expects an error or a string, got %T", actual)
		}
		return strings.HasPrefix(msg, "lasgi: "+rule+": "), nil
	}).WithMessage("to be a LASGI error naming rule " + rule + ` ("lasgi: ` + rule + `: ...")`)
}
