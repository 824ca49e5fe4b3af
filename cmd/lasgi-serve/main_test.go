package main

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"
)

func TestLasgiServe(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "lasgi-serve")
}

var binary string

var _ = BeforeSuite(func() {
	var err error
	binary, err = gexec.Build("github.com/lasgi/lasgi/cmd/lasgi-serve")
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(gexec.CleanupBuildArtifacts)
})

var listening = regexp.MustCompile(`on (http://127\.0\.0\.1:\d+)\n`)

// start runs lasgi-serve and returns its base URL once it listens.
func start(args ...string) (*gexec.Session, string) {
	GinkgoHelper()
	cmd := exec.Command(binary, append([]string{"--port", "0"}, args...)...)
	session, err := gexec.Start(cmd, GinkgoWriter, GinkgoWriter)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { session.Kill().Wait(5 * time.Second) })
	Eventually(session.Out, 10*time.Second).Should(gbytesSay(listening))
	return session, listening.FindStringSubmatch(string(session.Out.Contents()))[1]
}

func gbytesSay(re *regexp.Regexp) OmegaMatcher {
	return WithTransform(func(b interface{ Contents() []byte }) bool { return re.Match(b.Contents()) }, BeTrue())
}

func get(url string) (int, string) {
	GinkgoHelper()
	client := &http.Client{Timeout: 5 * time.Second}
	res, err := client.Get(url)
	Expect(err).NotTo(HaveOccurred())
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	Expect(err).NotTo(HaveOccurred())
	return res.StatusCode, string(body)
}

var _ = Describe("lasgi-serve", func() {
	It("serves the built-in hello.lua with no arguments and stops cleanly on SIGTERM", func() {
		session, url := start()
		Expect(session.Out.Contents()).To(ContainSubstring("serving hello.lua (built in)"))
		status, body := get(url + "/")
		Expect(status).To(Equal(200))
		Expect(body).To(Equal("Hello World!"))
		session.Signal(syscall.SIGTERM)
		Eventually(session, 10*time.Second).Should(gexec.Exit(0))
	})

	It("serves on the engine --engine names, lists the engines in --help, and refuses one it lacks with exit code 2", func() {
		session, url := start("--engine", "gopher", "--workers", "1")
		Expect(session.Out.Contents()).To(ContainSubstring("(engine gopher)"))
		_, body := get(url + "/")
		Expect(body).To(Equal("Hello World!"))
		session.Terminate()
		Eventually(session, 10*time.Second).Should(gexec.Exit(0))

		help, err := gexec.Start(exec.Command(binary, "--help"), GinkgoWriter, GinkgoWriter)
		Expect(err).NotTo(HaveOccurred())
		Eventually(help, 10*time.Second).Should(gexec.Exit(0))
		Expect(string(help.Err.Contents())).To(MatchRegexp(`engines \(--engine\) this binary has:\n  gopher +gopher-lua`))

		unknown, err := gexec.Start(exec.Command(binary, "--engine", "no-such-engine", "--port", "0"), GinkgoWriter, GinkgoWriter)
		Expect(err).NotTo(HaveOccurred())
		Eventually(unknown, 10*time.Second).Should(gexec.Exit(2))
		Expect(string(unknown.Err.Contents())).To(And(ContainSubstring(`unknown engine "no-such-engine"`), ContainSubstring("this binary has gopher"),
			ContainSubstring("-tags lua54"), ContainSubstring("-tags luajit")))
	})

	It("serves an app file, which may require modules next to it", func() {
		dir := GinkgoT().TempDir()
		Expect(os.WriteFile(filepath.Join(dir, "greeting.lua"), []byte(`return {text = "hi from a module"}`), 0o644)).To(Succeed())
		app := filepath.Join(dir, "app.lua")
		Expect(os.WriteFile(app, []byte(`
local greeting = require("greeting")
return function(scope, receive, send)
  send({type = "http.response.start", status = 200})
  send({type = "http.response.body", body = greeting.text .. " at " .. scope.root_path})
end`), 0o644)).To(Succeed())
		session, url := start("--workers", "3", "--root-path", "/api", app)
		Expect(session.Out.Contents()).To(ContainSubstring("with 3 workers"))
		_, body := get(url + "/x")
		Expect(body).To(Equal("hi from a module at /api"))
		session.Interrupt()
		Eventually(session, 10*time.Second).Should(gexec.Exit(0))
	})

	It("keeps --shutdown-timeout as a promise, though a request is stuck in Go code the watchdog cannot stop", func() {
		app := filepath.Join(GinkgoT().TempDir(), "app.lua")
		Expect(os.WriteFile(app, []byte(`
return function(scope, receive, send)
  if scope.type ~= "http" then error("http only", 0) end -- not at lifespan startup
  -- backtracks inside gopher-lua's Go code for tens of seconds
  string.find(string.rep("a", 16), string.rep("a*", 16) .. "b")
end`), 0o644)).To(Succeed())
		session, url := start("--workers", "1", "--busy-timeout", "30s", "--shutdown-timeout", "1s", app)
		go func() {
			defer GinkgoRecover()
			client := &http.Client{Timeout: 20 * time.Second}
			if res, err := client.Get(url + "/"); err == nil {
				res.Body.Close()
			}
		}()
		time.Sleep(200 * time.Millisecond) // the request is in string.find
		sent := time.Now()
		session.Signal(syscall.SIGTERM)
		Eventually(session, 10*time.Second).Should(gexec.Exit(1))
		Expect(time.Since(sent)).To(BeNumerically("<", 2*time.Second), "exited at the shutdown timeout")
		Expect(string(session.Err.Contents())).To(ContainSubstring("--shutdown-timeout 1s"))
	})

	DescribeTable("refuses bad input with exit code 2 and a message naming the problem",
		func(src string, args []string, message string) {
			if src != "" {
				app := filepath.Join(GinkgoT().TempDir(), "app.lua")
				Expect(os.WriteFile(app, []byte(src), 0o644)).To(Succeed())
				args = append(args, app)
			}
			session, err := gexec.Start(exec.Command(binary, args...), GinkgoWriter, GinkgoWriter)
			Expect(err).NotTo(HaveOccurred())
			Eventually(session, 10*time.Second).Should(gexec.Exit(2))
			Expect(string(session.Err.Contents())).To(ContainSubstring(message))
		},
		Entry("missing file", "", []string{"/nonexistent/app.lua"}, "/nonexistent/app.lua"),
		Entry("not callable", "return 42", nil, "lasgi: core.app.callable: "),
		Entry("syntax error", "return function(", nil, "app.lua"),
		Entry("error while loading", `error("cannot start")`, nil, "cannot start"),
		Entry("two files", "", []string{"a.lua", "b.lua"}, "one app file at most"),
		Entry("zero workers", "", []string{"--workers", "0"}, "--workers must be at least 1"),
		Entry("tiny memory budget", "", []string{"--max-vm-bytes", "1000"}, "--max-vm-bytes must be at least 1 MiB"),
		Entry("bad port", "", []string{"--port", "70000"}, "--port must be 0..65535"),
		Entry("unknown flag", "", []string{"--nope"}, "flag provided but not defined: -nope"),
	)

	It("says where it listens when the port is taken", func() {
		_, url := start()
		port := url[strings.LastIndex(url, ":")+1:]
		session, err := gexec.Start(exec.Command(binary, "--port", port), GinkgoWriter, GinkgoWriter)
		Expect(err).NotTo(HaveOccurred())
		Eventually(session, 10*time.Second).Should(gexec.Exit(2))
		Expect(string(session.Err.Contents())).To(ContainSubstring("address already in use"))
	})
})
