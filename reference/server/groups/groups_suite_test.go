package groups_test

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/reference/server/groups"
)

func TestGroups(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "groups")
}

// redisServer is a real redis-server (the Debian package's) on a free
// loopback port, with no persistence, so that the Redis hub is tested
// against the thing it will meet and not an imitation.
type redisServer struct {
	port int
	dir  string
	cmd  *exec.Cmd
	log  lockedBuffer
}

// lockedBuffer is redis-server's output, written by exec's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

const redisBinary = "/usr/bin/redis-server"

// startRedis starts a redis-server for the current spec and stops it
// when the spec ends.
func startRedis() *redisServer {
	GinkgoHelper()
	if _, err := os.Stat(redisBinary); err != nil {
		Fail(redisBinary + " is missing: apt-get install -y redis-server")
	}
	r := &redisServer{port: freePort(), dir: GinkgoT().TempDir()}
	r.start()
	DeferCleanup(r.stop)
	return r
}

func (r *redisServer) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(r.port)) }
func (r *redisServer) URL() string  { return "redis://" + r.Addr() }

// start runs redis-server on r.port (again, after stop) and waits until
// it answers PING.
func (r *redisServer) start() {
	GinkgoHelper()
	r.cmd = exec.Command(redisBinary, "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", r.dir, "--daemonize", "no", "--loglevel", "warning")
	r.cmd.Stdout, r.cmd.Stderr = &r.log, &r.log
	Expect(r.cmd.Start()).To(Succeed())
	Eventually(r.ping).WithTimeout(10*time.Second).WithPolling(20*time.Millisecond).
		Should(Succeed(), func() string { return "redis-server did not answer PING:\n" + r.log.String() })
}

// stop kills redis-server as a crash would and waits for it to go.
func (r *redisServer) stop() {
	if r.cmd == nil {
		return
	}
	r.cmd.Process.Signal(syscall.SIGCONT) // in case a spec paused it
	r.cmd.Process.Kill()
	r.cmd.Wait()
	r.cmd = nil
}

// pause and resume stop and start the process without closing its
// sockets: a Redis that no longer answers.
func (r *redisServer) pause()  { Expect(r.cmd.Process.Signal(syscall.SIGSTOP)).To(Succeed()) }
func (r *redisServer) resume() { Expect(r.cmd.Process.Signal(syscall.SIGCONT)).To(Succeed()) }

// ping speaks RESP itself, so the helper depends on nothing under test.
func (r *redisServer) ping() error {
	line, err := r.command("PING")
	if err == nil && line != "+PONG" {
		err = fmt.Errorf("PING answered %q", line)
	}
	return err
}

// numsub is how many subscribers Redis counts on channel.
func (r *redisServer) numsub(channel string) (int, error) {
	c, err := net.DialTimeout("tcp", r.Addr(), time.Second)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	fmt.Fprintf(c, "*3\r\n$6\r\nPUBSUB\r\n$6\r\nNUMSUB\r\n$%d\r\n%s\r\n", len(channel), channel)
	rd := bufio.NewReader(c)
	var lines []string
	for len(lines) < 4 { // *2, $len, channel, :count
		l, err := rd.ReadString('\n')
		if err != nil {
			return 0, err
		}
		lines = append(lines, l[:len(l)-2])
	}
	return strconv.Atoi(lines[3][1:])
}

// publish PUBLISHes payload, any bytes, as a client other than a hub
// would, and returns how many subscribers Redis gave it to.
func (r *redisServer) publish(channel, payload string) (int, error) {
	c, err := net.DialTimeout("tcp", r.Addr(), time.Second)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	fmt.Fprintf(c, "*3\r\n$7\r\nPUBLISH\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", len(channel), channel, len(payload), payload)
	l, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return 0, err
	}
	if l[0] != ':' {
		return 0, fmt.Errorf("PUBLISH answered %q", l)
	}
	return strconv.Atoi(l[1 : len(l)-2])
}

func (r *redisServer) command(cmd string) (string, error) {
	c, err := net.DialTimeout("tcp", r.Addr(), time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := fmt.Fprintf(c, "%s\r\n", cmd); err != nil {
		return "", err
	}
	l, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return "", err
	}
	return l[:len(l)-2], nil
}

func freePort() int {
	GinkgoHelper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// recorder is a Member that keeps what it is delivered.
type recorder struct {
	mu  sync.Mutex
	got []delivery
}

type delivery struct{ Group, Data string }

func (r *recorder) Deliver(group, data string) {
	r.mu.Lock()
	r.got = append(r.got, delivery{group, data})
	r.mu.Unlock()
}

// Got is a copy of the deliveries so far.
func (r *recorder) Got() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]delivery(nil), r.got...)
}

// Datas is the data of the deliveries so far: for data that is
// {text = T}, T.
func (r *recorder) Datas() []string {
	var s []string
	for _, d := range r.Got() {
		s = append(s, textOf(d.Data))
	}
	return s
}

// text is {text = s} in the data encoding: what a Redis hub carries.
func text(s string) string {
	e := groups.NewEncoder(1 << 20)
	mark, _ := e.Open()
	e.String("text")
	e.String(s)
	e.Close(mark, 1)
	return e.Data()
}

// textOf is T of data that is {text = T}, else data itself.
func textOf(data string) string {
	if v, err := groups.Decode(data); err == nil {
		if m, ok := v.(map[any]any); ok && len(m) == 1 {
			if t, ok := m["text"].(string); ok {
				return t
			}
		}
	}
	return data
}

func (r *recorder) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}
