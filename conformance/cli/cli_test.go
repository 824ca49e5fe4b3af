package cli_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/conformance/cli"
	"github.com/lasgi/lasgi/reference/app"
	"github.com/lasgi/lasgi/reference/server/gopherlua"
)

func TestCLI(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "lasgi-check")
}

// run calls lasgi-check in-process and returns exit code, stdout, stderr.
func run(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := cli.Main(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// fakeServer accepts connections and hands each to handle; it stops with
// the spec.
func fakeServer(handle func(net.Conn)) string {
	GinkgoHelper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(ln.Close)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				handle(c)
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

var _ = Describe("lasgi-check server", func() {
	It("passes the built-in reference server and ends with the summary line (four cases at a time)", func() {
		code, out, _ := run("server", "--parallel", "4")
		Expect(code).To(Equal(cli.ExitPassed), out)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		Expect(lines[len(lines)-1]).To(MatchRegexp(`^\d+ passed, 0 failed, 0 warnings, 0 skipped$`))
		Expect(out).To(ContainSubstring("passed  http.scope/path-percent-space"))
	})

	It("refuses --parallel below 1", func() {
		code, _, errOut := run("server", "--parallel", "0")
		Expect(code).To(Equal(cli.ExitUsage))
		Expect(errOut).To(ContainSubstring("--parallel must be at least 1, got 0"))
	})

	It("writes JSON and JUnit reports to --out", func() {
		dir := GinkgoT().TempDir()
		code, _, errOut := run("server", "--run", "http.scope/", "--format", "json", "--out", filepath.Join(dir, "r.json"))
		Expect(code).To(Equal(cli.ExitPassed))
		Expect(errOut).To(MatchRegexp(`\d+ passed, 0 failed, 0 warnings, 0 skipped`))
		var rep struct {
			Summary struct{ Total, Passed, Failed, Skipped int }
			Cases   []struct {
				ID, Status, Message string
				Rules               []string
			}
		}
		data, err := os.ReadFile(filepath.Join(dir, "r.json"))
		Expect(err).NotTo(HaveOccurred())
		Expect(json.Unmarshal(data, &rep)).To(Succeed())
		Expect(rep.Summary.Total).To(Equal(len(rep.Cases)))
		Expect(rep.Summary.Passed).To(Equal(rep.Summary.Total))
		for _, c := range rep.Cases {
			Expect(c.ID).To(HavePrefix("http.scope/"))
			Expect(c.Rules).NotTo(BeEmpty())
		}

		code, _, _ = run("server", "--run", "^http.malformed/garbage", "--format", "junit", "--out", filepath.Join(dir, "r.xml"))
		Expect(code).To(Equal(cli.ExitPassed))
		data, err = os.ReadFile(filepath.Join(dir, "r.xml"))
		Expect(err).NotTo(HaveOccurred())
		var suites struct {
			Tests int `xml:"tests,attr"`
		}
		Expect(xml.Unmarshal(data, &suites)).To(Succeed())
		Expect(suites.Tests).To(Equal(1))
	})

	It("selects by rule ID with --run", func() {
		code, out, _ := run("server", "--run", `^http\.scope\.query-string$`)
		Expect(code).To(Equal(cli.ExitPassed))
		Expect(out).To(ContainSubstring("http.scope/query-raw-escapes"))
		Expect(out).NotTo(ContainSubstring("http.scope/path-plain"))
	})

	It("gives up with exit code 2 on a server that accepts connections and never answers, instead of timing out every case", func() {
		url := fakeServer(func(c net.Conn) {
			io.Copy(io.Discard, c) // reads everything, answers nothing
		})
		start := time.Now()
		code, out, errOut := run("server", "--url", url, "--timeout", "200ms")
		Expect(code).To(Equal(cli.ExitUsage), out)
		Expect(errOut).To(ContainSubstring("gave up: the server answered none of the 5 cases up to"))
		Expect(out).To(ContainSubstring("not run: the server answered none"))
		Expect(time.Since(start)).To(BeNumerically("<", 30*time.Second), "the corpus at one step timeout a case took minutes")
	})

	It("ends a case whose server drips its answer inside each step deadline, at --case-timeout", func() {
		url := fakeServer(func(c net.Conn) {
			br := bufio.NewReader(c)
			for {
				line, err := br.ReadString('\n')
				if err != nil || line == "\r\n" {
					break
				}
			}
			c.Write([]byte("HTTP/1.1 200 OK\r\n"))
			for {
				time.Sleep(100 * time.Millisecond)
				if _, err := c.Write([]byte("x-drip: 1\r\n")); err != nil {
					return
				}
			}
		})
		start := time.Now()
		code, out, _ := run("server", "--url", url, "--timeout", "300ms", "--case-timeout", "1s", "--run", "^http.scope/path-plain$")
		Expect(code).To(Equal(cli.ExitFailed), out)
		Expect(out).To(ContainSubstring("the case ran past --case-timeout 1s, each step within its own 300ms deadline"))
		Expect(time.Since(start)).To(BeNumerically("<", 5*time.Second))
	})

	It("fails, with useful messages, a server that is not running the probe", func() {
		url := fakeServer(func(c net.Conn) {
			br := bufio.NewReader(c)
			for {
				// Answer each request head with a fixed response.
				for {
					line, err := br.ReadString('\n')
					if err != nil {
						return
					}
					if line == "\r\n" {
						break
					}
				}
				c.Write([]byte("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"))
			}
		})
		code, out, _ := run("server", "--url", url, "--timeout", "300ms", "--run", "http.scope/path-plain|http.response/status-599")
		Expect(code).To(Equal(cli.ExitFailed))
		Expect(out).To(ContainSubstring("is the server running the probe app (lasgi-check probe)?"))
		Expect(out).To(ContainSubstring("status: expected 599, got 200"))
		Expect(out).To(ContainSubstring("rule http.start.status-range"))
		Expect(out).To(HaveSuffix("0 passed, 2 failed, 0 warnings, 0 skipped\n"))
	})

	It("never hangs on a server that accepts and says nothing, or sends garbage", func() {
		silent := fakeServer(func(c net.Conn) { time.Sleep(5 * time.Second) })
		garbage := fakeServer(func(c net.Conn) { c.Write(bytes.Repeat([]byte("garbage\x00"), 1000)) })
		endless := fakeServer(func(c net.Conn) {
			c.Write([]byte("HTTP/1.1 200 OK\r\n\r\n"))
			for {
				if _, err := c.Write(bytes.Repeat([]byte("x"), 1<<16)); err != nil {
					return
				}
			}
		})
		for _, url := range []string{silent, garbage, endless} {
			done := make(chan int, 1)
			var out string
			go func() {
				var code int
				code, out, _ = run("server", "--url", url, "--timeout", "200ms", "--run", "^http.scope/path-plain$|^http.response/status-599$")
				done <- code
			}()
			Eventually(done, 30*time.Second).Should(Receive(Equal(cli.ExitFailed)))
			Expect(out).To(MatchRegexp(`timed out|malformed status line|closed|reset|probe`))
			Expect(out).To(HaveSuffix("0 passed, 2 failed, 0 warnings, 0 skipped\n"))
		}
	})

	It("refuses bad usage with exit code 2", func() {
		for _, args := range [][]string{
			{},
			{"frobnicate"},
			{"server", "--format", "xml"},
			{"server", "--url", "ftp://x"},
			{"server", "--run", "("},
			{"server", "--run", "no-such-case-or-rule"},
			{"app", "--run", "("},
			{"app", "--run", "no-such-case-or-rule"},
			{"server", "--timeout", "-1s"},
			{"server", "extra"},
			{"server", "--fixtures", "/nonexistent"},
			{"record"},
		} {
			code, _, errOut := run(args...)
			Expect(code).To(Equal(cli.ExitUsage), "%v", args)
			Expect(errOut).NotTo(BeEmpty(), "%v", args)
		}
	})

	It("runs the built-in server on the engine --engine names, and refuses one this binary lacks or --engine beside --url/--cmd", func() {
		code, out, _ := run("server", "--engine", "gopher", "--run", `^http\.scope\.query-string$`)
		Expect(code).To(Equal(cli.ExitPassed), out)
		Expect(out).To(ContainSubstring("http.scope/query-raw-escapes"))

		code, _, errOut := run("server", "--engine", "no-such-engine")
		Expect(code).To(Equal(cli.ExitUsage))
		Expect(errOut).To(ContainSubstring(`unknown engine "no-such-engine"`))
		Expect(errOut).To(ContainSubstring("gopher"))
		Expect(errOut).To(ContainSubstring("-tags lua54"))
		Expect(errOut).To(ContainSubstring("-tags luajit"))

		for _, args := range [][]string{
			{"server", "--engine", "gopher", "--url", "http://127.0.0.1:1"},
			{"server", "--engine", "gopher", "--cmd", "true {port} {app}"},
		} {
			code, _, errOut := run(args...)
			Expect(code).To(Equal(cli.ExitUsage), "%v", args)
			Expect(errOut).To(ContainSubstring("--engine picks the engine of the built-in reference server"), "%v", args)
		}
	})

	It("refuses to start on a server that cannot be reached, as a setup error", func() {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		addr := ln.Addr().String()
		ln.Close()
		code, _, errOut := run("server", "--url", "http://"+addr, "--timeout", "200ms")
		Expect(code).To(Equal(cli.ExitUsage))
		Expect(errOut).To(ContainSubstring("nothing to check: connect to " + addr))
	})

	It("says when the server dies during the run, and does not run the rest against nothing", func() {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		go func() {
			// Accept the checker's ping and one case, then go away.
			for i := 0; i < 2; i++ {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
			ln.Close()
		}()
		code, out, _ := run("server", "--url", "http://"+ln.Addr().String(), "--timeout", "200ms", "--run", "^http.scope/path-")
		Expect(code).To(Equal(cli.ExitFailed))
		Expect(out).To(ContainSubstring("the server no longer accepts connections after this case"))
		// Which case notices first depends on when the listener closes.
		Expect(out).To(MatchRegexp(`not run: the server stopped accepting connections during case http\.scope/path-`))
	})

	It("says plainly when the server does not pass the probe its script", func() {
		// A middlebox that drops the lasgi-probe header in front of the
		// reference server: the probe runs its default script.
		addr, stop, err := cli.StartReference(1)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(stop)
		url := fakeServer(func(c net.Conn) {
			up, err := net.Dial("tcp", addr)
			if err != nil {
				return
			}
			defer up.Close()
			go func() {
				// Forward the head line by line without the probe header,
				// then the rest (the body) as it is.
				defer up.Close()
				br := bufio.NewReader(c)
				for {
					line, err := br.ReadString('\n')
					if err != nil {
						return
					}
					if !strings.HasPrefix(strings.ToLower(line), "lasgi-probe:") {
						up.Write([]byte(line))
					}
					if line == "\r\n" {
						break
					}
				}
				br.WriteTo(up)
			}()
			buf := make([]byte, 32<<10)
			for {
				n, err := up.Read(buf)
				if n > 0 {
					c.Write(buf[:n])
				}
				if err != nil {
					return
				}
			}
		})
		code, out, _ := run("server", "--url", url, "--timeout", "3s", "--run", "^http.send/status-string$|^http.request/content-length-body$")
		Expect(code).To(Equal(cli.ExitFailed))
		Expect(out).To(ContainSubstring("the probe never got its script: the lasgi-probe request header did not reach the app"))
		Expect(out).To(ContainSubstring("not a report: the probe did not get its script"))
	})
})

var _ = Describe("lasgi-check list, probe and record", func() {
	It("lists cases and rules", func() {
		code, out, _ := run("list")
		Expect(code).To(Equal(cli.ExitPassed))
		Expect(out).To(MatchRegexp(`(?m)^\d+ cases:$`))
		Expect(out).To(MatchRegexp(`(?m)^  http\.scope/path-percent-space +http\.scope\.path http\.scope\.raw-path$`))
		Expect(out).To(MatchRegexp(`(?m)^  http\.scope\.path +MUST +server +\d+$`))
	})

	It("prints the probe app", func() {
		code, out, _ := run("probe")
		Expect(code).To(Equal(cli.ExitPassed))
		src, err := app.Source("probe.lua")
		Expect(err).NotTo(HaveOccurred())
		Expect(out).To(Equal(string(src)))
	})

	It("records a fixture file against the reference server", func() {
		file := filepath.Join(GinkgoT().TempDir(), "new.json")
		Expect(os.WriteFile(file, []byte(`{"section": "http.md#scope", "cases": [
  {"id": "http.scope/new", "rules": ["http.scope.path"], "send": ["GET /x%20y HTTP/1.1\r\nhost: t\r\n{probe}\r\n"],
   "expect": {"responses": [{"status": 0}], "scope": {"path": null}}}]}`), 0o644)).To(Succeed())
		code, out, errOut := run("record", file)
		Expect(code).To(Equal(cli.ExitPassed), errOut)
		Expect(out).To(ContainSubstring("recorded 1 cases"))
		data, err := os.ReadFile(file)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(data)).To(ContainSubstring(`"status": 200`))
		Expect(string(data)).To(ContainSubstring(`"path": "/x y"`))
		code, out, _ = run("server", "--fixtures", filepath.Dir(file))
		Expect(code).To(Equal(cli.ExitPassed))
		Expect(out).To(HaveSuffix("1 passed, 0 failed, 0 warnings, 0 skipped\n"))
	})
})

var _ = Describe("lasgi-check app", func() {
	It("passes the reference apps when given no file", func() {
		code, out, _ := run("app", "--timeout", "30s") // generous for a loaded machine
		Expect(code).To(Equal(cli.ExitPassed), out)
		Expect(out).To(ContainSubstring("passed  hello.lua app.http/get"))
		Expect(out).To(MatchRegexp(`\n\d+ passed, 0 failed, 0 warnings, 0 skipped\n$`))
	})

	It("warns, exit code 0, of a well-behaved app that returns for scopes it does not serve; --strict fails it", func() {
		app := filepath.Join(GinkgoT().TempDir(), "quiet.lua")
		Expect(os.WriteFile(app, []byte(`return function(scope, receive, send)
  if scope.type ~= "http" then return end -- the commonest first line of a Lua app
  send({type = "http.response.start", status = 200, headers = {{"content-type", "text/plain"}}})
  send({type = "http.response.body", body = "hello"})
end
`), 0o644)).To(Succeed())
		for _, lua := range []string{"", "lua5.4"} {
			args := []string{"app", "--run", "^app\\.scope/"}
			if lua != "" {
				args = append(args, "--lua", lua)
			}
			args = append(args, app)
			code, out, _ := run(args...)
			Expect(code).To(Equal(cli.ExitPassed), "%s\n%s", lua, out)
			Expect(out).To(ContainSubstring("WARNING " + app + " app.scope/unknown-type [core.app.scope-type]"))
			Expect(out).To(ContainSubstring("rule core.app.scope-type (SHOULD, "))
			Expect(out).To(MatchRegexp(`\n0 passed, 0 failed, 2 warnings, 0 skipped\n$`))

			code, out, _ = run(append([]string{"app", "--strict"}, args[1:]...)...)
			Expect(code).To(Equal(cli.ExitFailed), "%s\n%s", lua, out)
			Expect(out).To(MatchRegexp(`\n0 passed, 2 failed, 0 warnings, 0 skipped\n$`))
		}
	})

	It("fails an app that calls os.exit, instead of ending with it, and runs apps sandboxed unless --sandbox=false", func() {
		dir := GinkgoT().TempDir()
		exit := filepath.Join(dir, "exit.lua")
		Expect(os.WriteFile(exit, []byte(`return function(scope, receive, send)
  if scope.type ~= "http" then error("http only", 0) end
  os.exit(0)
end
`), 0o644)).To(Succeed())
		// The app raises "sandboxed" when every function the sandbox removes
		// (gopherlua.Sandboxed, the list the harness must match) is gone.
		var gone []string
		for lib, names := range gopherlua.Sandboxed {
			for _, name := range names {
				gone = append(gone, fmt.Sprintf("%s.%s == nil", lib, name))
			}
		}
		probe := filepath.Join(dir, "sandbox.lua")
		Expect(os.WriteFile(probe, []byte(`return function(scope, receive, send)
  if scope.type ~= "http" then error("http only", 0) end
  repeat local ev = receive() until ev.type ~= "http.request" or not ev.more_body
  if `+strings.Join(gone, " and ")+` then error("sandboxed", 0) end
  send({type = "http.response.start", status = 200})
  send({type = "http.response.body", body = "ok"})
end
`), 0o644)).To(Succeed())
		for _, lua := range []string{"", "lua5.4"} {
			args := []string{"app", "--run", "^app\\.http/get$"}
			if lua != "" {
				args = append(args, "--lua", lua)
			}
			code, out, _ := run(append(args, exit)...)
			Expect(code).To(Equal(cli.ExitFailed), "%s\n%s", lua, out)
			Expect(out).To(ContainSubstring("lasgi: os.exit is not available to an app"))
			Expect(out).To(MatchRegexp(`\n0 passed, 1 failed, 0 warnings, 0 skipped\n$`))

			code, out, _ = run(append(args, probe)...)
			Expect(code).To(Equal(cli.ExitFailed), "%s\n%s", lua, out)
			Expect(out).To(ContainSubstring("sandboxed"))
			code, out, _ = run(append(append([]string{}, args...), "--sandbox=false", probe)...)
			Expect(code).To(Equal(cli.ExitPassed), "%s\n%s", lua, out)
		}
	})

	It("keeps what an app prints out of the report, and bounded", func() {
		app := filepath.Join(GinkgoT().TempDir(), "loud.lua")
		Expect(os.WriteFile(app, []byte(`print(string.rep("x", 1000000)) -- at load time
io.write("y"):write("z")
return function(scope, receive, send)
  if scope.type ~= "http" then error("http only", 0) end
  print("in a call")
  io.write(string.rep("w", 100000))
  repeat local ev = receive() until ev.type ~= "http.request" or not ev.more_body
  send({type = "http.response.start", status = 200})
  send({type = "http.response.body", body = "ok"})
end
`), 0o644)).To(Succeed())
		for _, lua := range []string{"", "lua5.4"} {
			args := []string{"app", "--run", "^app\\.http/get$", "--format", "json"}
			if lua != "" {
				args = append(args, "--lua", lua)
			}
			code, out, errOut := run(append(args, app)...)
			Expect(code).To(Equal(cli.ExitPassed), "%s\n%s", lua, out)
			var report map[string]any
			Expect(json.Unmarshal([]byte(out), &report)).To(Succeed(), "%s: the report is JSON and nothing else", lua)
			Expect(len(errOut)).To(BeNumerically("<", 200<<10), "%s: the app's output is bounded", lua)
		}
	})

	It("stops a run at --run-timeout, reporting the cases left as not run, exit code 2 (embedded and lua5.4)", func() {
		hang := filepath.Join(GinkgoT().TempDir(), "hang.lua")
		Expect(os.WriteFile(hang, []byte("return function(scope, receive, send) while true do end end\n"), 0o644)).To(Succeed())
		for _, lua := range []string{"", "lua5.4"} {
			args := []string{"app", "--timeout", "200ms", "--run-timeout", "1s"}
			if lua != "" {
				args = append(args, "--lua", lua)
			}
			start := time.Now()
			code, out, errOut := run(append(args, hang)...)
			elapsed := time.Since(start)
			Expect(code).To(Equal(cli.ExitUsage), "%s\n%s", lua, out)
			Expect(errOut).To(MatchRegexp(`gave up: the run passed --run-timeout 1s; \d+ of \d+ cases not run`), lua)
			Expect(out).To(ContainSubstring("not run: the run passed --run-timeout 1s"), lua)
			// Every case at one step timeout takes over 30 s.
			Expect(elapsed).To(BeNumerically("<", 10*time.Second), lua)
			AddReportEntry("--run-timeout 1s "+lua, elapsed.String())
		}
		code, _, errOut := run("app", "--run-timeout", "-1s")
		Expect(code).To(Equal(cli.ExitUsage))
		Expect(errOut).To(ContainSubstring("--run-timeout must not be negative"))
	})

	It("fails a broken app naming the rule, in JSON too", func() {
		file := filepath.Join("..", "..", "reference", "app", "testdata", "faults", "status-string.lua")
		out := filepath.Join(GinkgoT().TempDir(), "r.json")
		code, _, _ := run("app", "--run", "app.http/get$", "--format", "json", "--out", out, file)
		Expect(code).To(Equal(cli.ExitFailed))
		data, err := os.ReadFile(out)
		Expect(err).NotTo(HaveOccurred())
		var rep struct {
			Cases []struct {
				Rules   []string
				Status  string
				Message string
			}
		}
		Expect(json.Unmarshal(data, &rep)).To(Succeed())
		Expect(rep.Cases).To(HaveLen(1))
		Expect(rep.Cases[0].Status).To(Equal("failed"))
		Expect(rep.Cases[0].Rules[0]).To(Equal("http.start.status-type"))
		Expect(rep.Cases[0].Message).To(ContainSubstring(`lasgi: http.start.status-type: status must be an integer, got string "200"`))
	})

	It("selects app cases by a single rule ID with --run, as the server command does", func() {
		hello := filepath.Join("..", "..", "reference", "app", "hello.lua")
		code, out, _ := run("app", "--run", `^http\.disconnect\.app-return$`, hello)
		Expect(code).To(Equal(cli.ExitPassed), out)
		Expect(out).To(MatchRegexp(`\n[1-9]\d* passed, 0 failed, 0 warnings, 0 skipped\n$`))
		// app.http/no-trailers-extension checks http.trailers.offered and
		// core.extensions.offered-only: a pattern across the two matches
		// neither.
		code, _, errOut := run("app", "--run", `offered core`, hello)
		Expect(code).To(Equal(cli.ExitUsage))
		Expect(errOut).To(ContainSubstring("matches no case and no rule ID"))
	})

	It("checks on the engine --engine names, and refuses one this binary lacks or --engine beside --lua", func() {
		hello := filepath.Join("..", "..", "reference", "app", "hello.lua")
		code, out, _ := run("app", "--engine", "gopher", "--run", `^http\.disconnect\.app-return$`, hello)
		Expect(code).To(Equal(cli.ExitPassed), out)
		Expect(out).To(MatchRegexp(`\n[1-9]\d* passed, 0 failed, 0 warnings, 0 skipped\n$`))

		code, _, errOut := run("app", "--engine", "no-such-engine", hello)
		Expect(code).To(Equal(cli.ExitUsage))
		Expect(errOut).To(ContainSubstring(`unknown engine "no-such-engine"`))
		Expect(errOut).To(ContainSubstring("gopher"))
		Expect(errOut).To(ContainSubstring("-tags lua54"))

		code, _, errOut = run("app", "--engine", "gopher", "--lua", "lua5.4", hello)
		Expect(code).To(Equal(cli.ExitUsage))
		Expect(errOut).To(ContainSubstring("--engine and --lua exclude each other"))
	})

	It("fails an app file that returns no callable, naming core.app.callable", func() {
		file := filepath.Join("..", "..", "reference", "app", "testdata", "faults", "not-callable.lua")
		code, out, _ := run("app", file)
		Expect(code).To(Equal(cli.ExitFailed))
		Expect(out).To(ContainSubstring("lasgi: core.app.callable: "))
	})

	It("refuses bad usage with exit code 2", func() {
		for _, args := range [][]string{
			{"app", "/nonexistent/app.lua"},
			{"app", "--lua", "no-such-lua"},
			{"app", "--format", "xml"},
			{"app", "--run", "nothing-matches-this"},
		} {
			code, _, errOut := run(args...)
			Expect(code).To(Equal(cli.ExitUsage), "%v", args)
			Expect(errOut).NotTo(BeEmpty(), "%v", args)
		}
	})
})

var _ = Describe("lasgi-check app --lua and lint", func() {
	It("checks apps under real interpreters, through the lint", func() {
		fault := filepath.Join("..", "..", "reference", "app", "testdata", "faults", "status-string.lua")
		for _, interp := range []string{"lua5.1", "lua5.4", "luajit"} {
			code, out, _ := run("app", "--lua", interp, "--timeout", "2s", "--run", `^app\.(http|disconnect|scope)/`)
			Expect(code).To(Equal(cli.ExitPassed), "%s:\n%s", interp, out)
			Expect(out).To(ContainSubstring("passed  echo.lua app.http/post-many-pieces"))

			code, out, _ = run("app", "--lua", interp, "--run", "app.http/get$", fault)
			Expect(code).To(Equal(cli.ExitFailed), interp)
			Expect(out).To(ContainSubstring("lasgi-lint: http.start.status-type: "), interp)
			Expect(out).To(ContainSubstring("[http.start.status-type]"), interp)
		}
	})

	It("prints the lint middleware", func() {
		code, out, _ := run("lint")
		Expect(code).To(Equal(cli.ExitPassed))
		src, err := app.Source("lint.lua")
		Expect(err).NotTo(HaveOccurred())
		Expect(out).To(Equal(string(src)))
	})
})
