package app_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/reference/app"
	"github.com/lasgi/lasgi/reference/server"
	"github.com/lasgi/lasgi/reference/server/bridge"
	"github.com/lasgi/lasgi/reference/server/engine"
	"github.com/lasgi/lasgi/reference/server/groups"
	"github.com/lasgi/lasgi/reference/server/servertest"
)

// ws_chat.lua and longpoll.lua over real WebSocket and HTTP on 127.0.0.1, on every
// engine this binary has that carries lasgi.groups, with two workers so that the
// members of a group sit on both. The hub is the test's, so that a test can wait
// until the members it made have joined.

// startGroupsApp serves the reference app name on engineName with two workers and
// hub as its groups, until the spec ends. It skips, saying why, on an engine that
// does not carry groups.
func startGroupsApp(engineName, name string, hub groups.Hub) *servertest.Server {
	GinkgoHelper()
	src, err := app.Source(name)
	Expect(err).NotTo(HaveOccurred())
	eng, err := engine.Load(engineName, name, src, engine.Options{Workers: 1})
	Expect(err).NotTo(HaveOccurred())
	carries := bridge.CarriesGroups(eng)
	Expect(eng.Close()).To(Succeed())
	if !carries {
		Skip("engine " + engineName + " does not carry lasgi.groups")
	}
	s, err := servertest.StartOn(engineName, name, src, engine.Options{Workers: 2}, server.Config{Groups: hub}, GinkgoWriter)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { Expect(s.Stop()).To(Succeed()) })
	return s
}

// chatClient is one socket in a room.
type chatClient struct {
	c   *websocket.Conn
	ctx context.Context
}

func dialChat(ctx context.Context, addr, path string) *chatClient {
	GinkgoHelper()
	c, _, err := websocket.Dial(ctx, "ws://"+addr+path, nil)
	Expect(err).NotTo(HaveOccurred(), "dial %s", path)
	DeferCleanup(func() { c.CloseNow() })
	return &chatClient{c, ctx}
}

func (c *chatClient) say(text string) {
	GinkgoHelper()
	Expect(c.c.Write(c.ctx, websocket.MessageText, []byte(text))).To(Succeed())
}

// next reads the next text message.
func (c *chatClient) next() string {
	GinkgoHelper()
	typ, data, err := c.c.Read(c.ctx)
	Expect(err).NotTo(HaveOccurred())
	Expect(typ).To(Equal(websocket.MessageText))
	return string(data)
}

// quiet checks that nothing comes within d.
func (c *chatClient) quiet(d time.Duration) {
	GinkgoHelper()
	ctx, cancel := context.WithTimeout(c.ctx, d)
	defer cancel()
	_, data, err := c.c.Read(ctx)
	Expect(err).To(HaveOccurred(), "got %q", data)
	// A read cut short by its context closes the socket: this one is done.
}

var _ = Describe("ws_chat.lua and longpoll.lua", func() {
	for _, engineName := range engine.Names() {
		Describe("on engine "+engineName, func() {
			var ctx context.Context
			BeforeEach(func() {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(context.Background(), 30*time.Second)
				DeferCleanup(cancel)
			})

			It("ws_chat.lua: a message reaches every socket in its room, in order, and none elsewhere", func() {
				hub := groups.NewLocal()
				s := startGroupsApp(engineName, "ws_chat.lua", hub)
				a, b, c := dialChat(ctx, s.Addr, "/room/lobby"), dialChat(ctx, s.Addr, "/room/lobby"), dialChat(ctx, s.Addr, "/room/lobby")
				other := dialChat(ctx, s.Addr, "/room/other")
				Eventually(func() int { return hub.Members("room.lobby") }, 5*time.Second, 5*time.Millisecond).Should(Equal(3))
				Eventually(func() int { return hub.Members("room.other") }, 5*time.Second, 5*time.Millisecond).Should(Equal(1))

				const n = 50
				var want []string
				for i := 0; i < n; i++ {
					want = append(want, fmt.Sprintf("a says %d", i))
					a.say(want[i])
				}
				b.say("b says hi")
				for name, cl := range map[string]*chatClient{"a": a, "b": b, "c": c} {
					var fromA []string
					sawB := false
					for len(fromA) < n || !sawB {
						m := cl.next()
						if m == "b says hi" {
							sawB = true
						} else {
							fromA = append(fromA, m)
						}
					}
					Expect(cmp.Diff(want, fromA)).To(BeEmpty(), "socket %s: a's messages in the order sent", name)
				}
				other.quiet(300 * time.Millisecond)
				Expect(s.Log.String()).To(BeEmpty())
			})

			It("ws_chat.lua: answers binary and too-large messages to the sender alone, and a socket leaving leaves the room", func() {
				hub := groups.NewLocal()
				s := startGroupsApp(engineName, "ws_chat.lua", hub)
				a, b := dialChat(ctx, s.Addr, "/room/r1"), dialChat(ctx, s.Addr, "/room/r1")
				Eventually(func() int { return hub.Members("room.r1") }, 5*time.Second, 5*time.Millisecond).Should(Equal(2))
				Expect(a.c.Write(ctx, websocket.MessageBinary, []byte{1, 2})).To(Succeed())
				Expect(a.next()).To(Equal("ws_chat.lua: text messages only"))
				a.c.SetReadLimit(1 << 20)
				a.say(strings.Repeat("x", 65536-19+1))
				Expect(a.next()).To(Equal("ws_chat.lua: message too large (65517 bytes at most)"))
				a.say(strings.Repeat("y", 65536-19))
				b.c.SetReadLimit(1 << 20)
				Expect(b.next()).To(HaveLen(65536 - 19))
				Expect(b.c.Close(websocket.StatusNormalClosure, "")).To(Succeed())
				Eventually(func() int { return hub.Members("room.r1") }, 5*time.Second, 5*time.Millisecond).Should(Equal(1))
				a.next() // its own long message
				a.say("still here")
				Expect(a.next()).To(Equal("still here"))
			})

			It("ws_chat.lua: denies other paths and answers http", func() {
				s := startGroupsApp(engineName, "ws_chat.lua", groups.NewLocal())
				_, res, err := websocket.Dial(ctx, "ws://"+s.Addr+"/lobby", nil)
				Expect(err).To(HaveOccurred())
				Expect(res.StatusCode).To(Equal(http.StatusForbidden))
				res, err = http.Get("http://" + s.Addr + "/")
				Expect(err).NotTo(HaveOccurred())
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				Expect(res.StatusCode).To(Equal(200))
				Expect(string(body)).To(Equal("ws_chat.lua: connect a WebSocket to /room/NAME\n"))
			})

			It("longpoll.lua: a publish reaches every poll waiting, a poll with nothing times out with 204", func() {
				hub := groups.NewLocal()
				s := startGroupsApp(engineName, "longpoll.lua", hub)
				type answer struct {
					status int
					body   string
				}
				polls := make(chan answer, 2)
				for i := 0; i < 2; i++ {
					go func() {
						defer GinkgoRecover()
						status, body := httpDo("GET", "http://"+s.Addr+"/poll/news?timeout=20", "")
						polls <- answer{status, body}
					}()
				}
				Eventually(func() int { return hub.Members("poll.news") }, 5*time.Second, 5*time.Millisecond).Should(Equal(2))
				status, body := httpDo("POST", "http://"+s.Addr+"/publish/news", "breaking\x00news")
				Expect([]any{status, body}).To(Equal([]any{202, "longpoll.lua: published\n"}))
				for i := 0; i < 2; i++ {
					Eventually(polls, 5*time.Second).Should(Receive(Equal(answer{200, "breaking\x00news"})))
				}
				Eventually(func() int { return hub.Members("poll.news") }, 5*time.Second, 5*time.Millisecond).Should(Equal(0))

				start := time.Now()
				status, _ = httpDo("GET", "http://"+s.Addr+"/poll/news?timeout=0.2", "")
				Expect(status).To(Equal(204))
				Expect(time.Since(start)).To(BeNumerically(">=", 200*time.Millisecond))
				Expect(s.Log.String()).To(BeEmpty())
			})

			It("both: say so when the server cannot reach its groups, and go on", func() {
				hub := &failingHub{Local: groups.NewLocal()}
				chat := startGroupsApp(engineName, "ws_chat.lua", hub)
				a := dialChat(ctx, chat.Addr, "/room/lobby")
				Eventually(func() int { return hub.Members("room.lobby") }, 5*time.Second, 5*time.Millisecond).Should(Equal(1))
				hub.down.Store(true)
				a.say("anyone?")
				Expect(a.next()).To(Equal("ws_chat.lua: not sent: " + errGroupsDown.Error()))
				b := dialChat(ctx, chat.Addr, "/room/lobby")
				Expect(b.next()).To(Equal("ws_chat.lua: cannot join the room: " + errGroupsDown.Error()))
				_, _, err := b.c.Read(ctx)
				Expect(websocket.CloseStatus(err)).To(Equal(websocket.StatusInternalError))
				hub.down.Store(false)
				a.say("back")
				Expect(a.next()).To(Equal("back"))

				poll := startGroupsApp(engineName, "longpoll.lua", hub)
				hub.down.Store(true)
				status, body := httpDo("POST", "http://"+poll.Addr+"/publish/news", "x")
				Expect([]any{status, body}).To(Equal([]any{503, "longpoll.lua: not published: " + errGroupsDown.Error() + "\n"}))
			})

			It("longpoll.lua: refuses what it cannot do", func() {
				s := startGroupsApp(engineName, "longpoll.lua", groups.NewLocal())
				for _, tc := range []struct {
					method, target, body string
					status               int
				}{
					{"GET", "/poll/news?timeout=301", "", 400},
					{"GET", "/poll/news?timeout=-1", "", 400},
					{"GET", "/elsewhere", "", 404},
					{"GET", "/poll/" + strings.Repeat("t", 95), "", 404},
					{"POST", "/poll/news", "", 405},
					{"GET", "/publish/news", "", 405},
					{"POST", "/publish/news", strings.Repeat("z", 65536-19+1), 413},
				} {
					status, _ := httpDo(tc.method, "http://"+s.Addr+tc.target, tc.body)
					Expect(status).To(Equal(tc.status), "%s %s", tc.method, tc.target)
				}
			})
		})
	}
})

// httpDo makes one request and returns the status and body.
func httpDo(method, url, body string) (int, string) {
	GinkgoHelper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	Expect(err).NotTo(HaveOccurred())
	client := &http.Client{Timeout: 30 * time.Second}
	res, err := client.Do(req)
	Expect(err).NotTo(HaveOccurred())
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	Expect(err).NotTo(HaveOccurred())
	return res.StatusCode, string(b)
}

// errGroupsDown is what failingHub says while down.
var errGroupsDown = errors.New("lasgi: groups.send.unavailable: the test's hub is down")

// failingHub is a Local hub whose Join and Publish fail while down is set,
// as a hub across processes does while its service is unreachable.
type failingHub struct {
	*groups.Local
	down atomic.Bool
}

func (h *failingHub) Join(group string, m groups.Member) error {
	if h.down.Load() {
		return errGroupsDown
	}
	return h.Local.Join(group, m)
}

func (h *failingHub) Publish(group, data string) error {
	if h.down.Load() {
		return errGroupsDown
	}
	return h.Local.Publish(group, data)
}
