package cli_test

import (
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"

	"github.com/lasgi/lasgi/conformance/cli"
)

var _ = Describe("lasgi-check server --cmd", Ordered, func() {
	var serve string
	BeforeAll(func() { // one build of lasgi-serve for every spec
		var err error
		serve, err = gexec.Build("github.com/lasgi/lasgi/cmd/lasgi-serve")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(gexec.CleanupBuildArtifacts)
	})

	It("starts the server under test on the probe it writes, checks it, and stops it", func() {
		code, out, errOut := run("server", "--cmd", serve+" --port {port} --workers 1 {app}", "--run", `^(websocket\.|http\.scope/)`)
		Expect(code).To(Equal(cli.ExitPassed), errOut+out)
		Expect(out).To(MatchRegexp(`\n\d+ passed, 0 failed, 0 warnings, 0 skipped\n$`))
		Expect(out).To(ContainSubstring("passed  websocket.send/echo"))
	})

	It("starts the server afresh for each lifespan case, and skips those cases with --url", func() {
		code, out, errOut := run("server", "--cmd", serve+" --port {port} --workers 2 --lifespan-timeout 1s {app}", "--run", `^lifespan\.`)
		Expect(code).To(Equal(cli.ExitPassed), errOut+out)
		Expect(out).To(MatchRegexp(`\n10 passed, 0 failed, 0 warnings, 0 skipped\n$`))

		addr, stop, err := cli.StartReference(1)
		Expect(err).NotTo(HaveOccurred())
		defer stop()
		code, out, errOut = run("server", "--url", "http://"+addr, "--run", `^lifespan\.`, "--format", "json")
		Expect(code).To(Equal(cli.ExitPassed), errOut+out)
		Expect(out).To(ContainSubstring(`"skipped": 10`))
		Expect(out).To(ContainSubstring("run it with lasgi-check server --cmd"))
	})

	It("says what the server printed when it exits before it listens", func() {
		code, _, errOut := run("server", "--cmd", serve+" --port {port} --workers 0 {app}")
		Expect(code).To(Equal(cli.ExitUsage))
		Expect(errOut).To(ContainSubstring("exited (exit status 2) before it listened"))
		Expect(errOut).To(ContainSubstring("--workers must be at least 1"))
	})

	It("refuses a template without both placeholders, or with another, or beside --url", func() {
		for args, msg := range map[*[]string]string{
			{"--cmd", serve + " {app}"}:                                      "it must contain {port}",
			{"--cmd", serve + " --port {port}"}:                              "it must contain {port}",
			{"--cmd", serve + " --port {port} {app} {host}"}:                 "the only placeholders are {port} and {app}",
			{"--cmd", serve + " --port {port} {app}", "--url", "http://x:1"}: "--cmd and --url exclude each other",
		} {
			code, _, errOut := run(append([]string{"server"}, *args...)...)
			Expect(code).To(Equal(cli.ExitUsage), errOut)
			Expect(errOut).To(ContainSubstring(msg))
		}
	})

	It("leaves no probe file behind", func() {
		// Only --cmd's own directories: the app checker and the lifespan
		// cases make theirs too, in test packages running meanwhile.
		before, _ := filepath.Glob(filepath.Join(os.TempDir(), "lasgi-check-cmd-*"))
		code, _, errOut := run("server", "--cmd", serve+" --port {port} --workers 1 {app}", "--run", "^http.scope/path")
		Expect(code).To(Equal(cli.ExitPassed), errOut)
		after, _ := filepath.Glob(filepath.Join(os.TempDir(), "lasgi-check-cmd-*"))
		Expect(after).To(ConsistOf(before))
	})
})
