//go:build lua54 || luajit

package clua_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/conformance/cli"
	"github.com/lasgi/lasgi/reference/server/clua"
)

// The app side on this engine: lasgi-check app --engine runs its cases on
// it in process, and must judge as it does on gopher: the reference apps
// pass, every seeded fault is caught naming its rule.
var _ = Describe("lasgi-check app --engine "+clua.Name, func() {
	check := func(args ...string) (int, string) {
		var out bytes.Buffer
		code := cli.Main(append([]string{"app", "--engine", clua.Name}, args...), &out, &out)
		return code, out.String()
	}

	It("passes the reference apps", func() {
		apps, err := filepath.Glob("../../app/*.lua")
		Expect(err).NotTo(HaveOccurred())
		var files []string
		for _, a := range apps {
			if filepath.Base(a) != "lint.lua" { // a middleware, not an app
				files = append(files, a)
			}
		}
		Expect(files).NotTo(BeEmpty())
		code, out := check(files...)
		Expect(code).To(Equal(0), out)
	})

	It("catches every seeded fault, naming its rule", func() {
		faults, err := filepath.Glob("../../app/testdata/faults/*.lua")
		Expect(err).NotTo(HaveOccurred())
		Expect(len(faults)).To(BeNumerically(">=", 30))
		var missed []string
		for _, f := range faults {
			src, err := os.ReadFile(f)
			Expect(err).NotTo(HaveOccurred())
			first, _, _ := strings.Cut(string(src), "\n")
			rule, ok := strings.CutPrefix(first, "-- fault: ")
			Expect(ok).To(BeTrue(), f)
			// Named in a failure's or (a SHOULD rule's) warning's rules.
			_, out := check("--timeout", "300ms", f)
			if !strings.Contains(out, "["+rule) {
				missed = append(missed, filepath.Base(f)+": "+rule)
			}
		}
		Expect(missed).To(BeEmpty())
	})
})
