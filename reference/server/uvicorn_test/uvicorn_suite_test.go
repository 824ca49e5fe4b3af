// Package uvicorn_test checks the reference server's HTTP scope side by side
// with uvicorn: the same raw requests go to our server hosting
// reference/app/scope.lua and to uvicorn (Debian's python3-uvicorn, h11
// backend) hosting testdata/scope_app.py, its ASGI twin, and the scope fields
// both report are compared.
package uvicorn_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/reference/app"
	"github.com/lasgi/lasgi/reference/server"
	"github.com/lasgi/lasgi/reference/server/gopherlua"
	"github.com/lasgi/lasgi/reference/server/servertest"
)

func TestUvicorn(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Reference server vs uvicorn suite")
}

const (
	// python is Debian's interpreter, the one python3-uvicorn is installed for
	// (the python3 on PATH may be another one without uvicorn).
	python = "/usr/bin/python3"

	importTimeout  = 10 * time.Second // python3 -c "import uvicorn"
	startTimeout   = 10 * time.Second // uvicorn accepting connections
	stopTimeout    = 5 * time.Second  // uvicorn gone after SIGKILL; our server shut down
	portAttempts   = 3                // fresh ports to try when the one picked is taken meanwhile
	installMessage = "install it with `apt-get install python3-uvicorn`"
)

var (
	ourAddr     string // our server hosting scope.lua
	uvicornAddr string // uvicorn hosting testdata/scope_app.py

	stopUvicorn func() // idempotent
	stopOurs    func() // idempotent
)

var _ = BeforeSuite(func(ctx SpecContext) {
	dir, err := filepath.Abs("testdata")
	Expect(err).NotTo(HaveOccurred())

	checkUvicornInstalled(ctx)

	u, err := startUvicorn(dir)
	if u != nil {
		stopUvicorn = u.stop
		DeferCleanup(u.stop) // also registered in AfterSuite; stop runs once
	}
	if err != nil {
		Fail(err.Error())
	}
	uvicornAddr = u.addr

	ourAddr, stopOurs = startOurs()
	DeferCleanup(stopOurs)
}, NodeTimeout(2*importTimeout+startTimeout))

var _ = AfterSuite(func() {
	if stopUvicorn != nil {
		stopUvicorn()
	}
	if stopOurs != nil {
		stopOurs()
	}
})

// checkUvicornInstalled fails the suite (it does not skip) when Debian's
// python3 cannot import uvicorn and h11: CI installs python3-uvicorn.
func checkUvicornInstalled(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, importTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, python, "-c",
		"import h11, uvicorn; print('uvicorn', uvicorn.__version__, 'h11', h11.__version__)").CombinedOutput()
	if err != nil {
		Fail(fmt.Sprintf("%s cannot import uvicorn and h11 (%v):\n%s\nThis suite compares the reference "+
			"server with uvicorn: %s", python, err, out, installMessage))
	}
	fmt.Fprintf(GinkgoWriter, "comparing with %s", out)
}

type uvicornProc struct {
	addr   string
	cmd    *exec.Cmd
	output *servertest.SyncBuffer
	exited chan struct{} // closed once Wait returned
	once   sync.Once
}

// stop kills uvicorn (by its pid) and waits for it, at most stopTimeout.
func (u *uvicornProc) stop() {
	u.once.Do(func() {
		_ = u.cmd.Process.Kill()
		select {
		case <-u.exited:
		case <-time.After(stopTimeout):
			fmt.Fprintf(GinkgoWriter, "uvicorn (pid %d) still running %v after SIGKILL\n", u.cmd.Process.Pid, stopTimeout)
		}
	})
}

// startUvicorn starts uvicorn on a free port and waits until it accepts
// connections. A non-nil *uvicornProc must be stopped even when err is set.
func startUvicorn(appDir string) (*uvicornProc, error) {
	var lastErr error
	for attempt := 0; attempt < portAttempts; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		u, err := launchUvicorn(appDir, port)
		if err == nil || u == nil {
			return u, err
		}
		u.stop()
		lastErr = err
		// Another process may have taken the port between freePort and uvicorn's bind.
		if !strings.Contains(u.output.String(), "address already in use") {
			return u, err
		}
	}
	return nil, lastErr
}

func launchUvicorn(appDir string, port int) (*uvicornProc, error) {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	cmd := exec.Command(python, "-m", "uvicorn",
		"--host", "127.0.0.1", "--port", strconv.Itoa(port),
		"--app-dir", appDir, "--http", "h11", "--no-access-log", "--lifespan", "off",
		"scope_app:app")
	cmd.Dir = appDir
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1") // no __pycache__ in testdata
	out := &servertest.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	// Should the test binary die without its cleanups, uvicorn goes with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting uvicorn with %s: %w (%s)", python, err, installMessage)
	}
	u := &uvicornProc{addr: addr, cmd: cmd, output: out, exited: make(chan struct{})}
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(u.exited)
	}()

	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-u.exited:
			return u, fmt.Errorf("uvicorn exited before accepting connections on %s (%v); its output:\n%s",
				addr, waitErr, out.String())
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			fmt.Fprintf(GinkgoWriter, "uvicorn (pid %d) listening on %s\n", cmd.Process.Pid, addr)
			return u, nil
		}
		if time.Now().After(deadline) {
			return u, fmt.Errorf("uvicorn did not accept connections on %s within %v; its output:\n%s",
				addr, startTimeout, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// startOurs serves scope.lua with the reference server in-process.
func startOurs() (addr string, stop func()) {
	src, err := app.Source("scope.lua")
	Expect(err).NotTo(HaveOccurred())
	srv, err := servertest.Start("scope.lua", src, gopherlua.Options{Workers: 1}, server.Config{
		ReadTimeout:  ioTimeout,
		WriteTimeout: ioTimeout,
		IdleTimeout:  ioTimeout,
		AppTimeout:   ioTimeout,
	}, GinkgoWriter)
	Expect(err).NotTo(HaveOccurred())
	return srv.Addr, func() {
		if err := srv.Stop(); err != nil {
			fmt.Fprintf(GinkgoWriter, "stopping our server: %v\n", err)
		}
	}
}
