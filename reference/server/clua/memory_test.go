//go:build lua54 || luajit

package clua

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/reference/app"
	"github.com/lasgi/lasgi/reference/server/engine"
)

// What one worker's Lua state holds once hello.lua is loaded, as its
// allocator counts it (docs/performance.md records the figure). The bound
// is loose: it fails only if a state's base cost grows past reason.
var _ = Describe("a "+Name+" worker's state", func() {
	It("holds hello.lua in under 256 KiB", func() {
		src, err := app.Source("hello.lua")
		Expect(err).NotTo(HaveOccurred())
		e, err := Load("hello.lua", src, engine.Options{Workers: 1})
		Expect(err).NotTo(HaveOccurred())
		defer e.Close()
		w := e.workers[0]
		w.vm.Lock()
		used := int(w.c.used)
		w.vm.Unlock()
		GinkgoWriter.Printf("%s: one worker state with hello.lua: %d bytes\n", Name, used)
		AddReportEntry("state bytes", used)
		Expect(used).To(BeNumerically("<", 256<<10))
	})
})
