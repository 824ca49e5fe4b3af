package conformance_test

import (
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/conformance"
	"github.com/lasgi/lasgi/conformance/cli"
)

// The project's own suite runs the whole corpus against the reference
// server, the way a server author's CI would run it against theirs.
var _ = conformance.DescribeServer("the reference server", func() (string, func()) {
	addr, stop, err := cli.StartReference(2)
	Expect(err).NotTo(HaveOccurred())
	return addr, stop
}, conformance.SuiteOptions{})
