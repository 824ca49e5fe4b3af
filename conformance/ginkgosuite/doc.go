// Package ginkgosuite runs the LASGI conformance corpus as Ginkgo specs and
// offers Gomega matchers for LASGI values, for server and app authors whose
// tests are Ginkgo and Gomega. It is apart from package
// [github.com/lasgi/lasgi/conformance], the checker, so that importing the
// checker does not link a test framework.
//
// [DescribeServer] registers one spec per case against a server that hosts
// the probe app (see `lasgi-check probe`), labelled with the case's area and
// rule IDs, in a test file of a Ginkgo suite:
//
//	var _ = ginkgosuite.DescribeServer("my server", func() (addr string, stop func()) {
//		cmd := exec.Command("my-server", "--port", "9000", "probe.lua")
//		Expect(cmd.Start()).To(Succeed())
//		// ...wait until it listens...
//		return "127.0.0.1:9000", func() { cmd.Process.Kill() }
//	}, ginkgosuite.Options{})
//
// Then `ginkgo --label-filter='http.scope'` runs the cases of one area.
// [MatchEvents] compares receive() events however a body was split, and
// [NameRule] matches an error value naming a rule ("lasgi: <rule>: ...").
package ginkgosuite
