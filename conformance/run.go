package conformance

import (
	"context"
	"fmt"
	"regexp"
	"sync"
)

// Selectable is a case that --run can pick: a server case or an app case.
type Selectable interface {
	matches(re *regexp.Regexp) bool
}

// Select returns the cases whose ID or one of whose rule IDs matches re (all
// cases when re is nil). It takes server cases ([]*Case) and app cases
// ([]*AppCase) alike.
func Select[C Selectable](cases []C, re *regexp.Regexp) []C {
	if re == nil {
		return cases
	}
	var out []C
	for _, c := range cases {
		if c.matches(re) {
			out = append(out, c)
		}
	}
	return out
}

func (c *Case) matches(re *regexp.Regexp) bool    { return idOrRuleMatches(re, c.ID, c.Rules) }
func (c *AppCase) matches(re *regexp.Regexp) bool { return idOrRuleMatches(re, c.ID, c.Rules) }

func idOrRuleMatches(re *regexp.Regexp, id string, rules []string) bool {
	if re.MatchString(id) {
		return true
	}
	for _, r := range rules {
		if re.MatchString(r) {
			return true
		}
	}
	return false
}

// Ping reports whether the server accepts a TCP connection.
func (k *Checker) Ping() error {
	w, err := dialWire(k.Addr, k.timeout())
	if err != nil {
		return err
	}
	w.close()
	return nil
}

// Summary counts results.
type Summary struct {
	Total    int `json:"total"`
	Passed   int `json:"passed"`
	Failed   int `json:"failed"`
	Warnings int `json:"warnings"` // cases that broke only SHOULD, SHOULD NOT or MAY rules
	Skipped  int `json:"skipped"`
}

// Summarize counts results by status.
func Summarize(results []Result) Summary {
	s := Summary{Total: len(results)}
	for _, r := range results {
		switch r.Status {
		case Passed:
			s.Passed++
		case Failed:
			s.Failed++
		case Warning:
			s.Warnings++
		case Skipped:
			s.Skipped++
		}
	}
	return s
}

// String is the closing line of every report.
func (s Summary) String() string {
	return fmt.Sprintf("%d passed, %d failed, %d warnings, %d skipped", s.Passed, s.Failed, s.Warnings, s.Skipped)
}

// RunAll runs cases, one after another or Parallel at a time, calling
// progress (if not nil) after each, in the cases' order. A cancelled ctx
// fails the rest quickly.
func (k *Checker) RunAll(ctx context.Context, cases []*Case, progress func(i int, r Result)) []Result {
	giveUp, silent := k.GiveUpAfter, 0
	if giveUp == 0 {
		giveUp = 5
	}
	var mu sync.Mutex
	deadSince := "" // the case at which the server stopped accepting connections
	play := func(i int) Result {
		c := cases[i]
		mu.Lock()
		dead := deadSince
		mu.Unlock()
		if dead != "" {
			if k.Ping() != nil {
				return notRun(c, "the server stopped accepting connections during case "+dead)
			}
			mu.Lock()
			deadSince = ""
			mu.Unlock()
		}
		r := k.Run(ctx, c)
		if r.Status == Failed && k.Ping() != nil {
			mu.Lock()
			deadSince = c.ID
			mu.Unlock()
			r.Message += "\nthe server no longer accepts connections after this case"
		}
		return r
	}
	// judge sees the results in order: a run of cases that got no answer
	// stops the run.
	judge := func(i int, r Result) string {
		if r.unanswered {
			silent++
		} else {
			silent = 0
		}
		if giveUp > 0 && silent >= giveUp {
			return fmt.Sprintf("the server answered none of the %d cases up to %s: it accepts connections but does not answer (is it running the probe app?)", silent, cases[i].ID)
		}
		return ""
	}
	var results []Result
	results, k.stopReason = runCases(ctx, len(cases), k.Parallel, play, judge,
		func(i int, why string) Result { return notRun(cases[i], why) }, progress)
	return results
}

// notRun is the result of a case left out of a run, and why.
func notRun(c *Case, why string) Result {
	return Result{Case: c, Status: Failed, Message: "not run: " + why}
}
