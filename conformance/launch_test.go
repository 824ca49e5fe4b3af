package conformance_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/conformance"
	"github.com/lasgi/lasgi/reference/app"
)

var _ = Describe("CommandLauncher", func() {
	It("returns a server that has not listened yet as one without an address, still running, and kills it", func() {
		l := conformance.CommandLauncher{Command: "sh -c 'echo starting; sleep 30' {port} {app}", ListenWait: 300 * time.Millisecond}
		start := time.Now()
		s, err := l.Launch(context.Background(), "/nonexistent/probe.lua")
		Expect(err).NotTo(HaveOccurred())
		Expect(time.Since(start)).To(BeNumerically("<", 5*time.Second))
		Expect(s.Addr()).To(BeEmpty())
		Consistently(s.Exited(), 100*time.Millisecond).ShouldNot(BeClosed())
		s.Kill()
		Expect(s.Exited()).To(BeClosed())
		Expect(s.ExitCode()).To(Equal(-1))
		Expect(s.Output()).To(ContainSubstring("starting"))
	})

	It("returns a server that exited before it listened with its status and output", func() {
		s, err := conformance.CommandLauncher{Command: "sh -c 'echo no such app >&2; exit 3' {port} {app}"}.Launch(context.Background(), "p.lua")
		Expect(err).NotTo(HaveOccurred())
		Expect(s.Addr()).To(BeEmpty())
		Eventually(s.Exited()).Should(BeClosed())
		Expect(s.ExitCode()).To(Equal(3))
		Expect(s.Output()).To(ContainSubstring("no such app"))
	})

	It("refuses a command without both placeholders", func() {
		_, err := conformance.CommandLauncher{Command: "my-server {app}"}.Launch(context.Background(), "p.lua")
		Expect(err).To(MatchError(ContainSubstring("it must contain {port}")))
	})
})

var _ = Describe("WriteProbe", func() {
	It("writes the probe as it is, or with its lifespan orders on the first line, which keeps the line numbers", func() {
		dir := GinkgoT().TempDir()
		plain, err := conformance.WriteProbe(dir, nil)
		Expect(err).NotTo(HaveOccurred())
		src, _ := os.ReadFile(plain)
		Expect(string(src)).To(HavePrefix("-- LASGI conformance probe"))

		sub := filepath.Join(dir, "x")
		Expect(os.Mkdir(sub, 0o755)).To(Succeed())
		told, err := conformance.WriteProbe(sub, &conformance.ProbeConfig{Startup: "fail", Record: `/tmp/a "b"` + "\n"})
		Expect(err).NotTo(HaveOccurred())
		got, _ := os.ReadFile(told)
		first, _, _ := strings.Cut(string(got), "\n")
		Expect(first).To(HavePrefix(`local lasgi_probe_lifespan = {startup = "fail", shutdown = "", record = "/tmp/a \"b\"\010"} -- LASGI conformance probe`))
		Expect(strings.Count(string(got), "\n")).To(Equal(strings.Count(string(src), "\n")))
	})
})

var _ = Describe("the launched probe", func() {
	It("answers lifespan as told and records it, under the lint, on lua5.1, lua5.4 and luajit", func() {
		lint, err := app.Source("lint.lua")
		Expect(err).NotTo(HaveOccurred())
		for _, lua := range []string{"lua5.1", "lua5.4", "luajit"} {
			dir := GinkgoT().TempDir()
			record := filepath.Join(dir, "record.jsonl")
			probe, err := conformance.WriteProbe(dir, &conformance.ProbeConfig{Record: record})
			Expect(err).NotTo(HaveOccurred())
			k := &conformance.InterpreterChecker{Interpreter: lua, Lint: lint, Timeout: 5 * time.Second}
			results, err := k.RunAll(context.Background(), probe, conformance.AppCasesOf("lifespan"))
			Expect(err).NotTo(HaveOccurred())
			for _, r := range results {
				Expect(r.Status).To(Equal(conformance.Passed), "%s %s: %s", lua, r.Case.ID, r.Message)
			}
			data, err := os.ReadFile(record)
			Expect(err).NotTo(HaveOccurred())
			for _, at := range []string{`"at":"startup"`, `"at":"startup-reply"`, `"at":"shutdown"`, `"at":"shutdown-reply"`, `"at":"call"`, `"at":"call-end"`} {
				Expect(string(data)).To(ContainSubstring(at), lua)
			}
		}
	})
})
