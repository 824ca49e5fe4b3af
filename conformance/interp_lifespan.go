package conformance

import (
	"fmt"
	"strings"
	"time"

	"github.com/lasgi/lasgi/spec/event"
)

// The harness's side of the lifespan cases (harness.lua's lifespan_functions):
// the scope it hands over, and how its lines are judged, by judgeLifespan as
// on the embedded VM.

// lifespanScopeLua is a lifespan scope (spec/lifespan.md#scope) as the
// reference engine builds it (gopherlua/lifespan_tables.go): no connection
// keys, no extensions, a new empty state.
func lifespanScopeLua(version string) string {
	return fmt.Sprintf("{type = %s, asgi = {version = %s, spec_version = %s}, lasgi = {version = %s}, state = {}}",
		luaQuote(event.ScopeLifespan), luaQuote(event.ASGIVersion), luaQuote(event.LifespanSpecVersion), luaQuote(version))
}

// harnessLife is a lifespan line of the harness: where the call stood when
// it ended, and the message of lifespan.startup.failed.
type harnessLife struct{ phase, message string }

// judgeInterpLifespan turns the lines of a lifespan case into its result:
// how the lifespan call ended, then the problems of its http exchange (sub,
// nil when it was not played), as playLifespan gives them.
func judgeInterpLifespan(c *AppCase, life harnessLife, status, detail string, timeout time.Duration, warnings, sub []string, strict bool) Result {
	e := lifespanEnd{phase: life.phase, message: life.message}
	switch status {
	case "ok":
		e.how = lifeReturned
	case "waiting":
		e.how = lifeWaiting
	case "error", "ended":
		e.how, e.err = lifeRaised, detail
		if rule := lintRuleInError.FindStringSubmatch(detail); rule != nil {
			e.rule = fmt.Sprintf("lasgi: %s: the lint stopped the app: %s", rule[1], detail)
		} else if sub := ruleInError.FindStringSubmatch(detail); sub != nil && !strings.Contains(detail, "lasgi: disconnected:") {
			e.rule = raisedProblem(sub[1], detail)
		}
	default:
		e.how = lifeTimeout
	}
	if e.phase == "" {
		e.phase = lifeStartup // no lifespan line: nothing is known to have been replied
	}
	problems := append(append(warnings, judgeLifespan(e, timeout)...), sub...)
	return appResult(c, problems, strict, 0)
}
