package ginkgosuite

import (
	"context"
	"regexp"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/lasgi/lasgi/conformance"
	"github.com/lasgi/lasgi/fixtures"
)

// Options tune DescribeServer. The zero value runs the whole built-in corpus
// with the default step deadline.
type Options struct {
	Timeout time.Duration       // each network step; 0 means 5 seconds
	Run     *regexp.Regexp      // only cases whose ID or a rule ID matches
	Cases   []*conformance.Case // a corpus of your own instead of the built-in one
	// Strict fails the spec of a case that broke only SHOULD, SHOULD NOT or
	// MAY rules; otherwise such a case passes with its warning added to the
	// spec's report (AddReportEntry) and written to GinkgoWriter.
	Strict bool
	// Launcher starts the server afresh, hosting the probe file it is
	// given, for the cases that must see a server start and stop
	// (lifespan); nil skips them. conformance.CommandLauncher runs a
	// command line, as lasgi-check server --cmd does.
	Launcher conformance.Launcher
}

// DescribeServer registers every conformance case as a Ginkgo spec against
// the server start returns, in the spirit of nettest.TestConn: one call,
// given a factory. start runs once before the first spec and returns the
// server's host:port (it must host the probe app, see `lasgi-check probe`)
// and a function that stops it. Call it at the top level of a test file:
//
//	var _ = ginkgosuite.DescribeServer("my server", func() (string, func()) {
//		return startMyServer("probe.lua")
//	}, ginkgosuite.Options{})
//
// The lifespan cases start a server of their own for each case, through
// opts.Launcher (conformance.CommandLauncher{Command: "my-server --port
// {port} {app}"}, or your own); without one they are skipped.
//
// Each spec is named after its case and labelled with its area (the part of
// the ID before "/") and with every rule ID it checks, so
// `ginkgo --label-filter='http.scope && !http.scope.client'` works. A failed
// case fails its spec with the case's message; a skipped case skips it; a
// case that only warned passes, with the warning in the report, unless
// opts.Strict.
func DescribeServer(name string, start func() (addr string, stop func()), opts Options) bool {
	return Describe(name, Ordered, func() {
		cases := opts.Cases
		var loadErr error
		if cases == nil {
			cases, loadErr = conformance.LoadFS(fixtures.FS, ".")
		}
		if loadErr != nil {
			It("loads the conformance corpus", func() { Fail(loadErr.Error()) })
			return
		}
		cases = conformance.Select(cases, opts.Run)

		checker := &conformance.Checker{Timeout: opts.Timeout, Strict: opts.Strict, Launcher: opts.Launcher}
		BeforeAll(func() {
			addr, stop := start()
			checker.Addr = addr
			if stop != nil {
				DeferCleanup(stop)
			}
		})
		for _, c := range cases {
			c := c
			It(c.ID, Label(caseLabels(c)...), func(ctx SpecContext) {
				r := checker.Run(context.Context(ctx), c)
				switch r.Status {
				case conformance.Failed:
					Fail(r.Message)
				case conformance.Warning:
					AddReportEntry("warning", r.Message)
					GinkgoWriter.Printf("WARNING %s [%s]\n%s\n", c.ID, strings.Join(r.Broken, ", "), r.Message)
				case conformance.Skipped:
					Skip(r.Message)
				}
			})
		}
	})
}

// caseLabels are the case's area and rule IDs, as Ginkgo accepts them.
func caseLabels(c *conformance.Case) []string {
	area, _, _ := strings.Cut(c.ID, "/")
	labels := []string{area}
	for _, r := range c.Rules {
		if r != area {
			labels = append(labels, r)
		}
	}
	return labels
}
