package conformance_test

import (
	"bytes"
	"encoding/json"
	"io"
	"os/exec"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// The packages a program links to check or serve LASGI: none of them may
// bring a test framework along. Ginkgo users have conformance/ginkgosuite.
var frameworkFree = []string{
	"github.com/lasgi/lasgi/conformance",
	"github.com/lasgi/lasgi/conformance/cli",
	"github.com/lasgi/lasgi/spec",
	"github.com/lasgi/lasgi/spec/event",
	"github.com/lasgi/lasgi/reference/server",
	"github.com/lasgi/lasgi/reference/server/bridge",
	"github.com/lasgi/lasgi/reference/server/engine",
	"github.com/lasgi/lasgi/reference/server/engines",
	"github.com/lasgi/lasgi/reference/server/gopherlua",
}

var testFrameworks = []string{"github.com/onsi/ginkgo", "github.com/onsi/gomega"}

func isTestFramework(path string) bool {
	for _, m := range testFrameworks {
		if path == m || strings.HasPrefix(path, m+"/") {
			return true
		}
	}
	return false
}

// importGraph is what each package of roots and their dependencies
// imports, from `go list -deps -json` (non-test files only, as a program
// built from roots links them).
func importGraph(roots ...string) map[string][]string {
	GinkgoHelper()
	goTool, err := exec.LookPath("go")
	Expect(err).NotTo(HaveOccurred(), "the go command is needed to list the packages' dependencies")
	cmd := exec.Command(goTool, append([]string{"list", "-deps", "-json=ImportPath,Imports,Error"}, roots...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	Expect(err).NotTo(HaveOccurred(), "go list -deps: %s", stderr.String())
	graph := map[string][]string{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p struct {
			ImportPath string
			Imports    []string
			Error      *struct{ Err string }
		}
		if err := dec.Decode(&p); err != nil {
			Expect(err).To(Equal(io.EOF), "go list -json output")
			break
		}
		Expect(p.Error).To(BeNil(), "go list: package %s", p.ImportPath)
		graph[p.ImportPath] = p.Imports
	}
	for _, r := range roots {
		Expect(graph).To(HaveKey(r), "go list did not list %s", r)
	}
	return graph
}

// frameworkChain returns the shortest import chain from root to a test
// framework's package ("" when there is none), as "a -> b -> c".
func frameworkChain(graph map[string][]string, root string) string {
	from := map[string]string{root: ""}
	queue := []string{root}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if isTestFramework(p) {
			chain := []string{p}
			for q := from[p]; q != ""; q = from[q] {
				chain = append([]string{q}, chain...)
			}
			return strings.Join(chain, " -> ")
		}
		for _, q := range graph[p] {
			if _, seen := from[q]; !seen {
				from[q] = p
				queue = append(queue, q)
			}
		}
	}
	return ""
}

var _ = Describe("dependencies", func() {
	It("keep test frameworks out of the checker, its command line, the spec and the server", func() {
		graph := importGraph(frameworkFree...)
		var found []string
		for _, root := range frameworkFree {
			if chain := frameworkChain(graph, root); chain != "" {
				found = append(found, root+" depends on a test framework: "+chain)
			}
		}
		if len(found) > 0 {
			Fail("non-test files must not import Ginkgo or Gomega, not even indirectly (DescribeServer and the matchers live in conformance/ginkgosuite):\n" + strings.Join(found, "\n"))
		}
	})

	It("are seen through: conformance/ginkgosuite is found to depend on Ginkgo", func() {
		const suite = "github.com/lasgi/lasgi/conformance/ginkgosuite"
		Expect(frameworkChain(importGraph(suite), suite)).To(HavePrefix(suite + " -> github.com/onsi/"))
	})
})
