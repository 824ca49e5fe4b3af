package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/coder/websocket"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// startRedis runs a real redis-server (the Debian package's) on a free
// loopback port, without persistence, for the spec, and returns its
// redis:// URL.
func startRedis() string {
	GinkgoHelper()
	const bin = "/usr/bin/redis-server"
	if _, err := os.Stat(bin); err != nil {
		Fail(bin + " is missing: apt-get install -y redis-server")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	addr := ln.Addr().String()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	cmd := exec.Command(bin, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", GinkgoT().TempDir(), "--daemonize", "no", "--loglevel", "warning")
	cmd.Stdout, cmd.Stderr = GinkgoWriter, GinkgoWriter
	Expect(cmd.Start()).To(Succeed())
	DeferCleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	Eventually(func() (string, error) {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return "", err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(time.Second))
		fmt.Fprint(c, "PING\r\n")
		return bufio.NewReader(c).ReadString('\n')
	}).WithTimeout(10 * time.Second).Should(Equal("+PONG\r\n"))
	return "redis://" + addr
}

var _ = Describe("lasgi-serve --groups", func() {
	It("shares ws_chat.lua's rooms between two processes on one Redis", func() {
		redisURL := startRedis()
		_, url1 := start("--groups", redisURL, "--workers", "2", "../../reference/app/ws_chat.lua")
		_, url2 := start("--groups", redisURL, "--workers", "2", "../../reference/app/ws_chat.lua")
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		dial := func(url string) *websocket.Conn {
			GinkgoHelper()
			c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(url, "http")+"/room/lobby", nil)
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(func() { c.CloseNow() })
			return c
		}
		// next reads c's text messages until want, and fails on a
		// message that is neither want nor in skip.
		next := func(c *websocket.Conn, want string, skip ...string) {
			GinkgoHelper()
			for {
				_, data, err := c.Read(ctx)
				Expect(err).NotTo(HaveOccurred())
				if string(data) == want {
					return
				}
				Expect(skip).To(ContainElement(string(data)))
			}
		}
		say := func(c *websocket.Conn, text string) {
			GinkgoHelper()
			Expect(c.Write(ctx, websocket.MessageText, []byte(text))).To(Succeed())
		}
		c1, c2 := dial(url1), dial(url2)
		// A socket's own message coming back says its call has joined
		// the room (the app joins before it reads any message).
		say(c1, "one is here")
		next(c1, "one is here")
		say(c2, "two is here")
		next(c2, "two is here", "one is here")
		next(c1, "two is here")

		say(c1, "hello from one")
		next(c1, "hello from one")
		next(c2, "hello from one")
		say(c2, "hello from two")
		next(c2, "hello from two")
		next(c1, "hello from two")

		// Another room hears none of it.
		other, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(url2, "http")+"/room/other", nil)
		Expect(err).NotTo(HaveOccurred())
		defer other.CloseNow()
		say(other, "elsewhere")
		next(other, "elsewhere")
		say(c1, "lobby only")
		next(c2, "lobby only")
		next(c1, "lobby only")
		say(other, "still elsewhere")
		next(other, "still elsewhere")
	})

	It("exits 2 at once, saying why, when Redis does not answer, and offers no groups with off", func() {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		addr := ln.Addr().String()
		ln.Close()
		started := time.Now()
		out, err := exec.Command(binary, "--port", "0", "--groups", "redis://"+addr).CombinedOutput()
		Expect(time.Since(started)).To(BeNumerically("<", 5*time.Second))
		Expect(err).To(HaveOccurred())
		Expect(err.(*exec.ExitError).ExitCode()).To(Equal(2))
		Expect(string(out)).To(ContainSubstring("--groups: groups: Redis at " + addr + " does not answer PING"))

		out, err = exec.Command(binary, "--port", "0", "--groups", "redis").CombinedOutput()
		Expect(err).To(HaveOccurred())
		Expect(string(out)).To(ContainSubstring(`"redis" names no hub`))

		_, url := start("--groups", "off", "../../reference/app/ws_chat.lua")
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(url, "http")+"/room/lobby", nil)
		Expect(err).NotTo(HaveOccurred())
		defer c.CloseNow()
		_, _, err = c.Read(ctx)
		Expect(websocket.CloseStatus(err)).To(Equal(websocket.StatusInternalError))
		Expect(err).To(MatchError(ContainSubstring("needs the lasgi.groups extension")))
	})
})
