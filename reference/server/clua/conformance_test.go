//go:build lua54 || luajit

package clua_test

import (
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/conformance/cli"
	"github.com/lasgi/lasgi/conformance/ginkgosuite"
	"github.com/lasgi/lasgi/reference/server/clua"
	"github.com/lasgi/lasgi/reference/server/servertest"
)

// The whole server corpus against the reference server on this engine:
// the corpus is engine-independent, so every case must pass as on gopher.
var _ = ginkgosuite.DescribeServer("the reference server on "+clua.Name, func() (string, func()) {
	addr, stop, err := cli.StartReferenceOn(clua.Name, 2)
	Expect(err).NotTo(HaveOccurred())
	return addr, stop
}, ginkgosuite.Options{Launcher: launcher()})

func launcher() servertest.Launcher {
	l := servertest.NewLauncher(2)
	l.Engine = clua.Name
	return l
}
