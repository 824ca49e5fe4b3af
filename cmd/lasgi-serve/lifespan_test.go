package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"
)

// appFile writes src to app.lua in a temporary directory and returns its path.
func appFile(src string) string {
	GinkgoHelper()
	path := filepath.Join(GinkgoT().TempDir(), "app.lua")
	Expect(os.WriteFile(path, []byte(src), 0o644)).To(Succeed())
	return path
}

// exits runs lasgi-serve to its end and returns the session; it fails
// unless the process ends within limit.
func exits(limit time.Duration, args ...string) *gexec.Session {
	GinkgoHelper()
	session, err := gexec.Start(exec.Command(binary, append([]string{"--port", "0"}, args...)...), GinkgoWriter, GinkgoWriter)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { session.Kill().Wait(5 * time.Second) })
	Eventually(session, limit).Should(gexec.Exit())
	return session
}

// lifespanLua answers lifespan.startup with startup (Lua statements, which
// send the reply) and lifespan.shutdown with shutdown; http scopes get
// handler.
func lifespanLua(startup, shutdown, handler string) string {
	return `
local stderr = io.stderr
return function(scope, receive, send)
  if scope.type == "lifespan" then
    receive()
    ` + startup + `
    local ev = receive()
    ` + shutdown + `
    return
  end
  ` + handler + `
end`
}

const complete = `send({type = "lifespan.startup.complete"})`

var _ = Describe("lasgi-serve --lifespan", func() {
	It("on: exits with code 3, naming each worker and the app's message, when the startup fails", func() {
		app := appFile(lifespanLua(`send({type = "lifespan.startup.failed", message = "database unreachable"})`, "", ""))
		session := exits(10*time.Second, "--lifespan", "on", "--workers", "2", app)
		Expect(session.ExitCode()).To(Equal(3))
		stderr := string(session.Err.Contents())
		Expect(stderr).To(ContainSubstring("lasgi-serve: not serving: worker 0: lifespan startup failed: the app sent lifespan.startup.failed: database unreachable"))
		Expect(stderr).To(ContainSubstring("lasgi-serve: worker 1: lifespan startup failed: the app sent lifespan.startup.failed: database unreachable"))
		Expect(string(session.Out.Contents())).NotTo(ContainSubstring("serving"), "never listened")
	})

	It("exits with code 3 when the app does not reply to lifespan.startup within --lifespan-timeout", func() {
		app := appFile(lifespanLua(`receive()`, "", ""))
		start := time.Now()
		session := exits(10*time.Second, "--lifespan-timeout", "300ms", app)
		Expect(session.ExitCode()).To(Equal(3))
		Expect(time.Since(start)).To(BeNumerically("<", 3*time.Second))
		Expect(string(session.Err.Contents())).To(ContainSubstring(
			"the app did not reply to lifespan.startup within --lifespan-timeout 300ms (lifespan.startup.timeout)"))
	})

	It("auto, the default: serves an app that raises for a lifespan scope, after one log line", func() {
		session, url := start("--workers", "2")
		_, body := get(url + "/")
		Expect(body).To(Equal("Hello World!"))
		stderr := string(session.Err.Contents())
		Expect(strings.Count(stderr, "lifespan: the app does not support it")).To(Equal(1), stderr)
		Expect(stderr).To(ContainSubstring("hello.lua serves http scopes only, not lifespan"))
		session.Signal(syscall.SIGTERM)
		Eventually(session, 10*time.Second).Should(gexec.Exit(0))
	})

	It("off: the app never sees a lifespan scope, and every scope gets an empty state", func() {
		app := appFile(`
local seen = {}
return function(scope, receive, send)
  seen[#seen + 1] = scope.type
  local n = 0
  for _ in pairs(scope.state) do n = n + 1 end
  send({type = "http.response.start", status = 200})
  send({type = "http.response.body", body = table.concat(seen, ",") .. " state keys " .. n})
end`)
		session, url := start("--lifespan", "off", "--workers", "1", app)
		get(url + "/")
		_, body := get(url + "/")
		Expect(body).To(Equal("http,http state keys 0"))
		session.Signal(syscall.SIGTERM)
		Eventually(session, 10*time.Second).Should(gexec.Exit(0))
		Expect(string(session.Err.Contents())).NotTo(ContainSubstring("lifespan"))
	})

	It("on SIGTERM, sends lifespan.shutdown once the request in flight has finished, and exits 0 by --shutdown-timeout", func() {
		app := appFile(lifespanLua(complete,
			`stderr:write("app: ", ev.type, "\n") send({type = "lifespan.shutdown.complete"})`, `
  local body = ""
  repeat local ev = receive(); body = body .. ev.body until not ev.more_body
  stderr:write("app: request done\n")
  send({type = "http.response.start", status = 200})
  send({type = "http.response.body", body = body})`))
		session, url := start("--lifespan", "on", "--workers", "2", "--shutdown-timeout", "3s", app)
		c, err := net.DialTimeout("tcp", strings.TrimPrefix(url, "http://"), 5*time.Second)
		Expect(err).NotTo(HaveOccurred())
		defer c.Close()
		Expect(c.SetDeadline(time.Now().Add(10 * time.Second))).To(Succeed())
		_, err = io.WriteString(c, "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nsl")
		Expect(err).NotTo(HaveOccurred())
		time.Sleep(200 * time.Millisecond) // the app waits for the rest of the body
		sent := time.Now()
		session.Signal(syscall.SIGTERM)
		time.Sleep(500 * time.Millisecond)
		Expect(string(session.Err.Contents())).NotTo(ContainSubstring("app: "), "no shutdown while the request is in flight")
		_, err = io.WriteString(c, "ow")
		Expect(err).NotTo(HaveOccurred())
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		Expect(err).NotTo(HaveOccurred())
		body, _ := io.ReadAll(res.Body)
		Expect(string(body)).To(Equal("slow"))
		Eventually(session, 5*time.Second).Should(gexec.Exit(0))
		Expect(time.Since(sent)).To(BeNumerically("<", 3100*time.Millisecond))
		var lines []string
		for _, l := range strings.Split(string(session.Err.Contents()), "\n") {
			if strings.HasPrefix(l, "app: ") {
				lines = append(lines, l)
			}
		}
		Expect(lines).To(Equal([]string{"app: request done", "app: lifespan.shutdown", "app: lifespan.shutdown"}), "one shutdown per worker, after the request")
	})

	DescribeTable("exits 1 after a shutdown that was not clean, saying why, by --shutdown-timeout",
		func(shutdown string, args []string, want string) {
			app := appFile(lifespanLua(complete, shutdown, ""))
			session, _ := start(append(args, app)...)
			sent := time.Now()
			session.Signal(syscall.SIGTERM)
			Eventually(session, 10*time.Second).Should(gexec.Exit(1))
			Expect(time.Since(sent)).To(BeNumerically("<", 2*time.Second))
			Expect(string(session.Err.Contents())).To(ContainSubstring(want))
		},
		Entry("lifespan.shutdown.failed", `send({type = "lifespan.shutdown.failed", message = "pool would not close"})`, []string{"--workers", "1"},
			"lasgi-serve: shutdown: worker 0: lifespan shutdown failed: the app sent lifespan.shutdown.failed: pool would not close"),
		Entry("no reply within --lifespan-timeout", `receive()`, []string{"--workers", "1", "--lifespan-timeout", "300ms"},
			"no reply to lifespan.shutdown within --lifespan-timeout 300ms"),
		Entry("no reply before --shutdown-timeout, shorter than --lifespan-timeout", `receive()`, []string{"--workers", "1", "--shutdown-timeout", "1s"},
			"no reply to lifespan.shutdown before the shutdown ran out of time (--shutdown-timeout 1s passed)"),
		Entry("a reply that never comes, in Go code the watchdog cannot stop", `string.find(string.rep("a", 16), string.rep("a*", 16) .. "b")`,
			[]string{"--workers", "1", "--busy-timeout", "30s", "--shutdown-timeout", "1s"},
			"lasgi-serve: shutdown: the workers' lifespan shutdown was still running after --shutdown-timeout 1s: cut"),
	)

	It("serves reference/app/lifespan.lua: a pool in each worker, opened at startup, shared by its requests, closed at SIGTERM", func() {
		session, url := start("--workers", "2", filepath.Join("..", "..", "reference", "app", "lifespan.lua"))
		var queries []string
		for range 6 {
			status, body := get(url + "/")
			Expect(status).To(Equal(200))
			Expect(body).To(MatchRegexp(`^pool 1: 4 open, query \d+\n$`))
			queries = append(queries, strings.Fields(body)[5])
		}
		sort.Strings(queries)
		Expect(queries).To(Equal([]string{"1", "1", "2", "2", "3", "3"}), "each worker's requests share its pool")
		session.Signal(syscall.SIGTERM)
		Eventually(session, 10*time.Second).Should(gexec.Exit(0))
		Expect(strings.Count(string(session.Err.Contents()), "lifespan.lua: pool 1 closed: 4 connections, 3 queries served\n")).To(Equal(2))
	})

	DescribeTable("refuses bad lifespan flags with exit code 2",
		func(args []string, message string) {
			session := exits(10*time.Second, args...)
			Expect(session.ExitCode()).To(Equal(2))
			Expect(string(session.Err.Contents())).To(ContainSubstring(message))
		},
		Entry("an unknown mode", []string{"--lifespan", "yes"}, `--lifespan must be auto, on or off, got "yes"`),
		Entry("a zero timeout", []string{"--lifespan-timeout", "0s"}, "--lifespan-timeout must be positive, got 0s"),
	)
})
