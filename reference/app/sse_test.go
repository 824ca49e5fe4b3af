package app_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/reference/app"
	"github.com/lasgi/lasgi/reference/server/bridge"
	"github.com/lasgi/lasgi/reference/server/engine"
	_ "github.com/lasgi/lasgi/reference/server/engines" // every engine this binary has
	"github.com/lasgi/lasgi/spec/event"
)

// sse.lua is tested three ways: on a virtual clock under every interpreter (the
// pacing arithmetic, heartbeats, stalls, the query and the refusals, exactly), over
// real HTTP on every engine this binary has (the head, the pace on a real clock, the
// client leaving), and through a bridge.Call whose scope offers no timers.

var _ = Describe("sse.lua", func() {
	Describe("on a virtual clock, under lua5.1, lua5.4, luajit and gopher-lua", func() {
		var driverFile string
		BeforeEach(func() {
			driverFile = filepath.Join(GinkgoT().TempDir(), "sse_drive.lua")
			Expect(os.WriteFile(driverFile, []byte(sseDriver), 0o644)).To(Succeed())
		})

		DescribeTable("paces its events, heartbeats and answers",
			func(run sseRun, want []string) {
				input := run.input()
				interps := append([]string{gopherLua}, externalInterpreters...)
				runs := runParallel(interps, func(ctx context.Context, i int) (string, error) {
					return runSSEDriver(ctx, interps[i], driverFile, input)
				})
				for _, r := range runs {
					Expect(r.err).NotTo(HaveOccurred(), r.label)
					got := strings.Split(strings.TrimSuffix(r.out, "\n"), "\n")
					if diff := cmp.Diff(want, got); diff != "" {
						Fail(fmt.Sprintf("%s: transcript mismatch (-want +got):\n%s\ninput: %s", r.label, diff, input))
					}
				}
			},
			Entry("count=3 at interval 0.1: each wait the interval, the data the whole seconds",
				sseRun{query: "interval=0.1&count=3"}, sseTicks(0.1, 0, 3, true)),
			Entry("a late server delays the events, it does not shorten the next wait",
				sseRun{query: "count=3&interval=0.1", late: 0.002}, sseTicks(0.1, 0.002, 3, true)),
			Entry("interval 1 by default; count=0 is the head and the heartbeat",
				sseRun{query: "count=0"}, []string{sseBody(0), sseHead(0), sseBeat(0), `last ""` + sseAt(0), sseReturn(0)}),
			Entry("the default interval is 1 second",
				sseRun{query: "count=2"}, sseTicks(1, 0, 2, true)),
			Entry("the first value of a parameter counts; other parameters are ignored",
				sseRun{query: "a=b&interval=0.5&interval=x&count=1&count=y&c"}, sseTicks(0.5, 0, 1, true)),
			Entry("the bounds are included: interval=.05",
				sseRun{query: "interval=.05&count=1"}, sseTicks(0.05, 0, 1, true)),
			Entry("the bounds are included: interval=60.",
				sseRun{query: "interval=60.&count=1&heartbeat=60"}, sseTicks(60, 0, 1, true)),
			Entry("heartbeats every 15 s when the interval is longer; the ticks keep their place",
				sseRun{query: "interval=40&count=2"}, []string{
					sseBody(0), sseHead(0), sseBeat(0),
					sseWait(15, 0, "lasgi.timeout"), sseBeat(15),
					sseWait(15, 15, "lasgi.timeout"), sseBeat(30),
					sseWait(10, 30, "lasgi.timeout"), sseEvent(1, 40, false),
					sseWait(15, 40, "lasgi.timeout"), sseBeat(55),
					sseWait(15, 55, "lasgi.timeout"), sseBeat(70),
					sseWait(10, 70, "lasgi.timeout"), sseEvent(2, 80, true),
					sseReturn(80),
				}),
			Entry("heartbeat=0.2 with interval 0.5",
				sseRun{query: "interval=0.5&heartbeat=0.2&count=1"}, []string{
					sseBody(0), sseHead(0), sseBeat(0),
					sseWait(0.2, 0, "lasgi.timeout"), sseBeat(0.2),
					sseWait(0.2, 0.2, "lasgi.timeout"), sseBeat(0.4),
					sseWait(0.1, 0.4, "lasgi.timeout"), sseEvent(1, 0.5, true),
					sseReturn(0.5),
				}),
			Entry("a stall os.time() proves is taken back by a shorter wait (interval 5)",
				sseRun{query: "interval=5&count=3&heartbeat=60", lateAt: map[int]float64{2: 2.6}}, []string{
					sseBody(0), sseHead(0), sseBeat(0),
					sseWait(5, 0, "lasgi.timeout"), sseEvent(1, 5, false),
					// 12.6 s have passed, os.time() proves 11 (1012 - 1000 - 1): 4 s to tick 3
					sseWait(5, 5, "lasgi.timeout"), sseEvent(2, 12.6, false),
					sseWait(4, 12.6, "lasgi.timeout"), sseEvent(3, 16.6, true),
					sseReturn(16.6),
				}),
			Entry("ticks missed by a whole interval are dropped, not sent in a burst",
				sseRun{query: "interval=0.5&count=3", lateAt: map[int]float64{2: 3}}, []string{
					sseBody(0), sseHead(0), sseBeat(0),
					sseWait(0.5, 0, "lasgi.timeout"), sseEvent(1, 0.5, false),
					// 4 s have passed, os.time() proves 3: tick 2 goes at once, the
					// ticks at 1.5 .. 3 are dropped, tick 3 is the one at 3.5
					sseWait(0.5, 0.5, "lasgi.timeout"), sseEvent(2, 4, false),
					sseWait(0.5, 4, "lasgi.timeout"), sseEvent(3, 4.5, true),
					sseReturn(4.5),
				}),
			Entry("the client leaving ends the wait, and the app returns without another send",
				sseRun{query: "interval=0.1", leave: 0.25}, []string{
					sseBody(0), sseHead(0), sseBeat(0),
					sseWait(0.1, 0, "lasgi.timeout"), sseEvent(1, 0.1, false),
					sseWait(0.1, 0.1, "lasgi.timeout"), sseEvent(2, 0.2, false),
					sseWait(0.1, 0.2, "http.disconnect"),
					sseReturn(0.25),
				}),
			Entry("a client leaving in a long quiet period is heard at once",
				sseRun{query: "interval=60&heartbeat=60", leave: 7}, []string{
					sseBody(0), sseHead(0), sseBeat(0),
					sseWait(60, 0, "http.disconnect"),
					sseReturn(7),
				}),
			Entry("a request body is read to its end before the response",
				sseRun{query: "count=1&interval=0.1", events: []map[string]any{req("ab", true), req("", true), req("c", false)}},
				append([]string{"receive -" + sseAt(0) + " -> http.request", "receive -" + sseAt(0) + " -> http.request"},
					sseTicks(0.1, 0, 1, true)...)),
			Entry("a client leaving before the body's end gets nothing",
				sseRun{events: []map[string]any{req("ab", true)}, leave: 0.5}, []string{
					"receive -" + sseAt(0) + " -> http.request",
					"receive -" + sseAt(0) + " -> http.disconnect",
					sseReturn(0.5),
				}),
			Entry("HEAD: the head as a stream with no body, without receive()",
				sseRun{method: "HEAD", query: "interval=0.1"}, []string{
					sseHead(0), `more ""` + sseAt(0), `last ""` + sseAt(0), sseReturn(0),
				}),
			Entry("POST: 405", sseRun{method: "POST"}, sseAnswer(405, "GET or HEAD only", "allow: GET, HEAD")),
			Entry("interval below 0.05: 400", sseRun{query: "interval=0.04"}, sseAnswer(400, sseBadInterval)),
			Entry("interval above 60: 400", sseRun{query: "interval=60.5"}, sseAnswer(400, sseBadInterval)),
			Entry("interval with an exponent: 400", sseRun{query: "interval=1e-1"}, sseAnswer(400, sseBadInterval)),
			Entry("interval with a sign: 400", sseRun{query: "interval=+1"}, sseAnswer(400, sseBadInterval)),
			Entry("interval percent-encoded: 400", sseRun{query: "interval=0%2E5"}, sseAnswer(400, sseBadInterval)),
			Entry("interval empty: 400", sseRun{query: "interval="}, sseAnswer(400, sseBadInterval)),
			Entry("interval a point: 400", sseRun{query: "interval=."}, sseAnswer(400, sseBadInterval)),
			Entry("heartbeat 0: 400", sseRun{query: "heartbeat=0"},
				sseAnswer(400, "heartbeat must be a decimal number of seconds from 0.05 to 60")),
			Entry("count negative: 400", sseRun{query: "count=-1"},
				sseAnswer(400, "count must be a whole number from 0 to 1000000000")),
			Entry("count past 10^9: 400", sseRun{query: "count=1000000001"},
				sseAnswer(400, "count must be a whole number from 0 to 1000000000")),
			Entry("count with leading zeros", sseRun{query: "interval=0.1&count=0000000000002"}, sseTicks(0.1, 0, 2, true)),
			Entry("count of 400 digits: 400", sseRun{query: "count=" + strings.Repeat("9", 400)},
				sseAnswer(400, "count must be a whole number from 0 to 1000000000")),
			Entry("interval of 400 digits: 400", sseRun{query: "interval=" + strings.Repeat("9", 400)}, sseAnswer(400, sseBadInterval)),
			Entry("count not whole: 400", sseRun{query: "count=1.0"},
				sseAnswer(400, "count must be a whole number from 0 to 1000000000")),
			Entry("a scope without extensions: raises before anything is sent",
				sseRun{scope: func(s map[string]any) { delete(s, "extensions") }, noEvent: true},
				sseError(`sse.lua needs the lasgi.timers extension (scope.extensions[\034lasgi.timers\034]), which this server does not offer`)),
			Entry("a scope whose extensions lack lasgi.timers: raises",
				sseRun{scope: func(s map[string]any) {
					s["extensions"] = map[string]any{"http.response.trailers": map[string]any{}}
				}, noEvent: true},
				sseError(`sse.lua needs the lasgi.timers extension (scope.extensions[\034lasgi.timers\034]), which this server does not offer`)),
			Entry("a websocket scope: raises", sseRun{scope: func(s map[string]any) { s["type"] = "websocket" }, noEvent: true},
				sseError("sse.lua serves http scopes only, not websocket")),
			Entry("LASGI 2: raises", sseRun{scope: func(s map[string]any) { s["lasgi"] = map[string]any{"version": "2.0"} }, noEvent: true},
				sseError("sse.lua knows LASGI 1.x, not 2.0")),
		)
	})

	for _, engineName := range engine.Names() {
		Describe("over HTTP on 127.0.0.1, engine "+engineName, func() {
			It("answers with the event-stream head, then events in order at the interval, then completes", func() {
				s := startSSE(engineName, sseSource(""))
				c := dialSSE(s.Addr)
				sent := time.Now()
				res := c.get("/?interval=0.1&count=5")
				Expect(res.StatusCode).To(Equal(200))
				Expect(res.Header.Get("Content-Type")).To(Equal("text/event-stream"))
				Expect(res.Header.Get("Cache-Control")).To(Equal("no-cache"))
				Expect(res.TransferEncoding).To(Equal([]string{"chunked"}))

				before := sent.Unix()
				blocks := sseReadBlocks(res.Body)
				after := time.Now().Unix()
				Expect(blocks).To(HaveLen(6), "the heartbeat and 5 events: %v", blocks)
				Expect(blocks[0].text).To(Equal(": heartbeat\n"))
				const interval = 100 * time.Millisecond
				for i, b := range blocks[1:] {
					n := i + 1
					var id, seq int
					var unix int64
					_, err := fmt.Sscanf(b.text, "id: %d\ndata: %d %d\n", &id, &seq, &unix)
					Expect(err).NotTo(HaveOccurred(), "event %d: %q", n, b.text)
					Expect([]int{id, seq}).To(Equal([]int{n, n}), "event %d: %q", n, b.text)
					Expect(unix).To(BeNumerically(">=", before), "event %d's os.time()", n)
					Expect(unix).To(BeNumerically("<=", after), "event %d's os.time()", n)
					// Never early: n intervals after the head at least, which came after
					// the request was sent; at most seconds late, even on a loaded machine.
					since := b.at.Sub(sent)
					Expect(since).To(BeNumerically(">=", time.Duration(n)*interval), "event %d after the request", n)
					Expect(since).To(BeNumerically("<", time.Duration(n)*interval+3*time.Second), "event %d after the request", n)
					gap := b.at.Sub(blocks[n-1].at)
					if n > 1 {
						Expect(gap).To(BeNumerically(">=", interval/2), "event %d after event %d", n, n-1)
					}
					Expect(gap).To(BeNumerically("<", interval+2*time.Second), "event %d after the block before", n)
					GinkgoWriter.Printf("%s: event %d at +%v (gap %v)\n", engineName, n, since.Round(time.Millisecond), gap.Round(time.Millisecond))
				}
				// Complete: the chunked body ended (readBlocks read to EOF), and the
				// connection takes the next request.
				again := c.get("/?count=0")
				Expect(again.StatusCode).To(Equal(200))
				Expect(sseReadBlocks(again.Body)).To(HaveLen(1))
				c.close()
				sseExpectQuietLog(s)
			})

			It("sends the head and the heartbeat at once, before any event", func() {
				s := startSSE(engineName, sseSource(""))
				c := dialSSE(s.Addr)
				sent := time.Now()
				res := c.get("/?interval=60")
				br := bufio.NewReader(res.Body)
				line, err := br.ReadString('\n')
				Expect(err).NotTo(HaveOccurred())
				Expect(line).To(Equal(": heartbeat\n"))
				Expect(time.Since(sent)).To(BeNumerically("<", 2*time.Second))
				c.close()
			})

			It("answers a bad query with 400, HEAD with the head alone", func() {
				s := startSSE(engineName, sseSource(""))
				c := dialSSE(s.Addr)
				res := c.get("/?interval=0.01")
				Expect(res.StatusCode).To(Equal(400))
				b, err := io.ReadAll(res.Body)
				Expect(err).NotTo(HaveOccurred())
				Expect(string(b)).To(Equal("sse.lua: " + sseBadInterval + "\n"))
				head := c.do("HEAD", "/")
				Expect(head.StatusCode).To(Equal(200))
				Expect(head.Header.Get("Content-Type")).To(Equal("text/event-stream"))
				Expect(head.Header.Values("Content-Length")).To(BeEmpty())
				c.close()
				sseExpectQuietLog(s)
			})

			It("returns when the client leaves: its call ends, it sends nothing more, the server logs nothing", func() {
				s := startSSE(engineName, sseSource(sseCallCounter))
				for _, leave := range []struct {
					query  string
					events int
				}{
					{"/?interval=0.1", 1}, // after an event, in a wait of an interval
					{"/?interval=60", 0},  // after the heartbeat, in a wait of a minute
				} {
					c := dialSSE(s.Addr)
					res := c.get(leave.query)
					br := bufio.NewReader(res.Body)
					for range 1 + leave.events {
						b, ok := sseReadBlock(br)
						Expect(ok).To(BeTrue(), leave.query)
						Expect(b).NotTo(BeEmpty())
					}
					Expect(sseCallCounts(s.Addr)).To(HaveKeyWithValue("started", 1), leave.query)
					left := time.Now()
					c.close()
					Eventually(func() map[string]int { return sseCallCounts(s.Addr) }).
						WithTimeout(2*time.Second).WithPolling(5*time.Millisecond).
						Should(HaveKeyWithValue("returned", 1), leave.query)
					GinkgoWriter.Printf("%s %s: the call returned within %v of the close\n", engineName, leave.query,
						time.Since(left).Round(time.Millisecond))
					Expect(sseCallCounts(s.Addr)).To(Equal(map[string]int{"started": 1, "returned": 1, "sent_after_disconnect": 0}), leave.query)
					sseResetCounts(s.Addr)
				}
				sseExpectQuietLog(s)
			})
			It("trips no check of the strict lint in a stream, a leave, HEAD, POST and a bad query", func() {
				s := startSSE(engineName, withLint(lintSource(), sseSource("")))
				c := dialSSE(s.Addr)
				Expect(sseReadBlocks(c.get("/?interval=0.05&count=3").Body)).To(HaveLen(4))
				Expect(c.do("HEAD", "/").StatusCode).To(Equal(200))
				_, err := io.WriteString(c.nc, "POST / HTTP/1.1\r\nHost: sse.test\r\nContent-Length: 5\r\n\r\nhello")
				Expect(err).NotTo(HaveOccurred())
				post, err := http.ReadResponse(c.br, &http.Request{Method: "POST"})
				Expect(err).NotTo(HaveOccurred())
				Expect(post.StatusCode).To(Equal(405))
				Expect(io.ReadAll(post.Body)).To(Equal([]byte("sse.lua: GET or HEAD only\n")))
				bad := c.get("/?count=x")
				Expect(bad.StatusCode).To(Equal(400))
				Expect(io.ReadAll(bad.Body)).NotTo(BeEmpty())
				leave := c.get("/?interval=0.05")
				br := bufio.NewReader(leave.Body)
				for range 2 {
					_, ok := sseReadBlock(br)
					Expect(ok).To(BeTrue())
				}
				c.close()
				sseExpectQuietLog(s) // Stop waits for the call the leave ended
			})
		})

		It("raises, sending nothing, in a scope without lasgi.timers: engine "+engineName, func() {
			src, err := app.Source(sseName)
			Expect(err).NotTo(HaveOccurred())
			eng, err := engine.Load(engineName, sseName, src, engine.Options{Workers: 1})
			Expect(err).NotTo(HaveOccurred())
			defer eng.Close()
			for _, exts := range [][]string{nil, {event.ExtensionTrailers}} {
				scope := &event.Scope{
					Type: "http", HTTPVersion: "1.1", Method: "GET", Scheme: "http",
					Path: "/", RawPath: "/", QueryString: "interval=0.1&count=1",
					Headers:    []event.Header{{Name: "host", Value: "127.0.0.1"}},
					Client:     &event.Addr{Host: "127.0.0.1", Port: 40000},
					Server:     &event.Addr{Host: "127.0.0.1", Port: 8000},
					Extensions: exts,
				}
				call := bridge.NewCall(scope, time.Now().Add(5*time.Second))
				call.Push(event.Event{Type: event.HTTPRequest})
				eng.Start(call)
				var sent []event.Event
				Eventually(func() bool {
					sent = append(sent, call.Take()...)
					return call.State().Finished
				}).WithTimeout(5 * time.Second).WithPolling(time.Millisecond).Should(BeTrue())
				sent = append(sent, call.Take()...)
				st := call.State()
				Expect(st.Err).To(MatchError(ContainSubstring(`sse.lua needs the lasgi.timers extension (scope.extensions["lasgi.timers"])`)), "extensions %v", exts)
				Expect(sent).To(BeEmpty(), "extensions %v", exts)
				Expect(st.Started).To(BeFalse())
			}
		})
	}
})
