package conformance

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/lasgi/lasgi/spec"
)

// Status is the outcome of a case.
type Status string

const (
	Passed  Status = "passed"
	Failed  Status = "failed"
	Warning Status = "warning" // only rules that do not bind (SHOULD, SHOULD NOT, MAY) were broken
	Skipped Status = "skipped"
)

// Result is the outcome of one case.
type Result struct {
	Case    *Case
	Status  Status
	Message string // why it failed, warned or was skipped, with the rules' sentences
	// Broken are the rules of the case whose checks failed, in the case's
	// order; their levels in the catalog made Status Failed or Warning.
	Broken  []string
	Elapsed time.Duration

	unanswered bool // the case expected a response and none came
}

// Checker runs cases against a server hosting the probe. The zero value is
// not usable: Addr is required.
type Checker struct {
	Addr    string        // host:port of the server under test
	Timeout time.Duration // each network step; 0 means 5 seconds
	// CaseTimeout bounds a whole case, its steps and report fetches
	// together: a server that answers each step just inside its deadline
	// still ends the case. 0 means 6 step timeouts. A case with Launch has
	// 5 step timeouts more, for the server's start and end.
	CaseTimeout time.Duration
	// Strict makes a case that broke only SHOULD, SHOULD NOT or MAY rules
	// fail instead of warn.
	Strict bool
	// GiveUpAfter stops RunAll once this many cases in a row expected a
	// response and got none (a server that accepts and never answers): the
	// rest are not run, and StopReason says why. 0 means 5; negative, never.
	GiveUpAfter int
	// Launcher starts the server under test afresh for the cases that
	// must see it start and stop (lifespan); nil skips them.
	Launcher Launcher
	// Parallel is how many cases RunAll runs at once; 0 or 1, one after
	// another. The cases are independent (each its own connections and
	// token, a launched server its own port), so any number is correct;
	// more than the server's CPUs can make its timing cases warn.
	Parallel int

	stopReason string

	tokens atomic.Uint64
}

func (k *Checker) caseTimeout() time.Duration {
	if k.CaseTimeout <= 0 {
		return 6 * k.timeout()
	}
	return k.CaseTimeout
}

// StopReason says why the last RunAll gave up before the end ("" when it
// did not): the server answered none of several cases in a row.
func (k *Checker) StopReason() string { return k.stopReason }

func (k *Checker) timeout() time.Duration {
	if k.Timeout <= 0 {
		return 5 * time.Second
	}
	return k.Timeout
}

// Run runs c and checks what happened against c.Expect.
func (k *Checker) Run(ctx context.Context, c *Case) Result {
	start := time.Now()
	res := Result{Case: c}
	limit := k.caseTimeout()
	if c.Launch != nil {
		// Starting the server (two step deadlines at most), waiting for it
		// to exit (one) and to stop when asked (two) come on top.
		limit += 5 * k.timeout()
	}
	caseCtx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	obs, err := k.Observe(caseCtx, c)
	if err != nil && ctx.Err() == nil && caseCtx.Err() != nil {
		what := fmt.Sprintf("--case-timeout %v", limit)
		if c.Launch != nil {
			what = fmt.Sprintf("its deadline %v (--case-timeout and five step deadlines for the server's start and end)", limit)
		}
		err = fmt.Errorf("the case ran past %s, each step within its own %v deadline: the server is answering too slowly (%w)", what, k.timeout(), err)
	}
	res.unanswered = c.maxResponses() > 0 && (obs == nil || len(obs.Responses) == 0)
	switch {
	case errors.Is(err, errSkip):
		res.Status, res.Message = Skipped, err.Error()
		res.unanswered = false // a case not run asked the server nothing
	default:
		var findings []finding
		if err != nil {
			findings = []finding{{fieldCase, err.Error()}}
		} else {
			findings = compare(c, obs)
		}
		res.Status, res.Broken = verdict(c, findings, k.Strict)
		if err == nil && obs.noProbe != nil {
			res.Status = Failed // a setup failure, not a finding of some level
		}
		if res.Status != Passed {
			res.Message = explain(c, res.Broken, texts(findings), obs)
		}
	}
	res.Elapsed = time.Since(start)
	return res
}

// errSkip wraps reasons a case cannot be judged on this server.
var errSkip = errors.New("skipped")

type skipError struct{ msg string }

func (e *skipError) Error() string { return e.msg }
func (e *skipError) Is(t error) bool {
	return t == errSkip
}

func texts(fs []finding) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.text
	}
	return out
}

// explain builds a failure message: what went wrong, then the sentence of
// each rule broken (the case's rules when none is named), with its level.
func explain(c *Case, broken []string, problems []string, obs *Observation) string {
	var b strings.Builder
	for _, p := range problems {
		b.WriteString(p)
		if !strings.HasSuffix(p, "\n") {
			b.WriteByte('\n')
		}
	}
	if obs != nil {
		for _, n := range obs.notes {
			b.WriteString("note: " + n + "\n")
		}
	}
	if len(broken) == 0 {
		broken = c.Rules
	}
	for _, id := range broken {
		r, _ := spec.Lookup(id)
		fmt.Fprintf(&b, "rule %s (%s, %s): %s\n", r.ID, r.Level, r.Section, r.Text)
	}
	return strings.TrimRight(b.String(), "\n")
}
