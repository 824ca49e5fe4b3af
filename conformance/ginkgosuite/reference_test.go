package ginkgosuite_test

import (
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/conformance/cli"
	"github.com/lasgi/lasgi/conformance/ginkgosuite"
	"github.com/lasgi/lasgi/reference/server/servertest"
)

// The project's own suite runs the whole corpus against the reference
// server, the way a server author's CI would run it against theirs.
var _ = ginkgosuite.DescribeServer("the reference server", func() (string, func()) {
	addr, stop, err := cli.StartReference(2)
	Expect(err).NotTo(HaveOccurred())
	return addr, stop
}, ginkgosuite.Options{Launcher: servertest.NewLauncher(2)})
