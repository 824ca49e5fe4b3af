package app_test

import (
	"bufio"
	"fmt"
	"hash/adler32"
	"net/http"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// pseudoBytes is n reproducible bytes covering all byte values.
func pseudoBytes(n, seed int) string {
	b := make([]byte, n)
	x := uint32(seed*2654435761 + 1)
	for i := range b {
		x = x*1664525 + 1013904223
		b[i] = byte(x >> 24)
	}
	return string(b)
}

const noReportMsg = "probe: no report is kept under this token in this Lua state\n"

var _ = Describe("probe.lua in the test driver (gopher-lua, lua5.1, lua5.4, luajit; sync and coroutine)", func() {
	Describe("the default script and the report", func() {
		It("drains the body and answers 200 ok, with the report in the head, without a lasgi-probe header", func() {
			scope := scopeWith(nil)
			events := []map[string]any{req("hello", true), req(" world", false)}
			r := runProbe(probeExchange{Scope: scope, Events: events})[0]
			expectPSteps(r.Steps, []pStep{pRecv, pRecv, pStartR(200), pBody("ok", false), pRet})
			expectReport(r.HeadReport, expectedReport(scope, events, nil, false))
			Expect(r.HeadReport).To(HaveKeyWithValue("script", "drain start:200 end:ok"))
			Expect(r.HeadReport).To(HaveKeyWithValue("script_from", "default"))
		})

		It("reports the script it ran and that it came in the header", func() {
			r := runProbe(probeExchange{Scope: probeScope("start:200 end")})[0]
			Expect(r.HeadReport).To(HaveKeyWithValue("script", "start:200 end"))
			Expect(r.HeadReport).To(HaveKeyWithValue("script_from", "header"))
		})

		It("records every scope key, the standard ones null when absent, bytes exact", func() {
			scope := probeScope("start:200 end")
			delete(scope, "client")
			delete(scope, "server")
			delete(scope, "root_path")
			scope["raw_path"] = "/a%20b/\x00\xff"
			scope["query_string"] = allBytes
			scope["headers"] = append(scope["headers"].([]any), hdr("x-bin", allBytes), hdr("x-empty", ""))
			scope["state"] = map[string]any{"count": 3, "ratio": 1.5, "list": []any{1, "two"}, "empty": map[string]any{},
				"keys": luaTable{{1.5, "float"}, {true, "bool"}}}
			scope["extra"] = allBytes
			scope["nested"] = map[string]any{"a": []any{true, false}}
			r := runProbe(probeExchange{Scope: scope})[0]
			expectPSteps(r.Steps, []pStep{pStartR(200), pBody("", false), pRet})
			expectReport(r.HeadReport, expectedReport(scope, nil, nil, false))
		})
	})

	Describe("receiving", func() {
		It("recv records one event per call, http.disconnect included", func() {
			scope := probeScope("token:r recv recv recv start:200 end")
			events := []map[string]any{req("a", true), req("b", false)}
			rs := runProbe(probeExchange{Scope: scope, Events: events}, ex("report:r"))
			expectPSteps(rs[0].Steps, []pStep{pRecv, pRecv, pRecv, pStartR(200), pBody("", false), pRet})
			received := append(events, map[string]any{"type": "http.disconnect"})
			expectReport(rs[0].HeadReport, expectedReport(scope, received, nil, false))
			expectReport(fetched(rs[1]), expectedReport(scope, received, nil, true))
		})

		It("drain reads to the end, with body values recorded while the total is at most 65536 bytes", func() {
			scope := probeScope("token:d drain start:200 end:done")
			events := []map[string]any{
				req(pseudoBytes(40000, 1), true), req("", true), req(pseudoBytes(25536, 2), true), req("x", false),
			}
			rs := runProbe(probeExchange{Scope: scope, Events: events}, ex("report:d"))
			expectPSteps(rs[0].Steps, []pStep{pRecv, pRecv, pRecv, pRecv, pStartR(200), pBody("done", false), pRet})
			expectReport(rs[0].HeadReport, expectedReport(scope, events, nil, false))
			full := fetched(rs[1])
			expectReport(full, expectedReport(scope, events, nil, true))
			evs := mapOf(full)["events"].([]any)
			Expect(mapOf(evs[2])).To(HaveKey("body"), "65536 bytes so far: recorded")
			Expect(mapOf(evs[3])).NotTo(HaveKey("body"), "65537 bytes so far: not recorded")
		})

		It("drain stops at http.disconnect, and does not receive again once the body is complete", func() {
			scope := probeScope("token:d drain drain recv noreport start:200 end")
			events := []map[string]any{req("abc", true)}
			rs := runProbe(probeExchange{Scope: scope, Events: events}, ex("report:d"))
			expectPSteps(rs[0].Steps, []pStep{pRecv, pRecv, pRecv, pStart(200), pBody("", false), pRet})
			disc := map[string]any{"type": "http.disconnect"}
			expectReport(fetched(rs[1]), expectedReport(scope, append(events, disc, disc), nil, true))
		})

		It("handles thousands of events (more JSON pieces than gopher-lua's table.concat takes at once)", func() {
			scope := probeScope("token:m drain noreport start:200 end")
			events := manyChunks(3000)
			rs := runProbe(probeExchange{Scope: scope, Events: events}, ex("report:m"))
			expectPSteps(rs[0].Steps, append(repeatP(pRecv, 3000), pStart(200), pBody("", false), pRet))
			expectReport(fetched(rs[1]), expectedReport(scope, events, nil, true))
		})
	})

	Describe("responding", func() {
		It("hdr, trailers, noreport, start, body, end, trailer and sendtrailers, arguments percent-decoded", func() {
			rs := runProbe(ex("hdr:content-type:text%2Fplain hdr:x-bytes:%01%ff%25%3A%20%7E trailers noreport start:201 " +
				"body:a%20b end:c trailer:x-sum:1 trailer:x-colon:%3A sendtrailers"))
			start := pStart(201, [2]string{"content-type", "text/plain"}, [2]string{"x-bytes", "\x01\xff%: ~"})
			start.Ev.Trailers = true
			expectPSteps(rs[0].Steps, []pStep{start, pBody("a b", true), pBody("c", false),
				pTrailers([2]string{"x-sum", "1"}, [2]string{"x-colon", ":"}), pRet})
		})

		It("puts the report header after the hdr headers", func() {
			rs := runProbe(ex("hdr:x-a:1 hdr:x-a:2 start:200 end"))
			expectPSteps(rs[0].Steps, []pStep{pStartR(200, [2]string{"x-a", "1"}, [2]string{"x-a", "2"}), pBody("", false), pRet})
		})

		DescribeTable("end completes the body",
			func(script, body string) {
				rs := runProbe(ex("noreport start:200 " + script))
				expectPSteps(rs[0].Steps, []pStep{pStart(200), pBody(body, false), pRet})
			},
			Entry("end alone: empty", "end", ""),
			Entry("end: empty", "end:", ""),
			Entry("end:DATA", "end:%00data%FF", "\x00data\xff"),
		)

		DescribeTable("fill:N sends N bytes of 0123456789abcdef in events of at most 65536 bytes",
			func(n int, sizes []int) {
				rs := runProbe(ex(fmt.Sprintf("noreport start:200 fill:%d end", n)))
				want := []pStep{pStart(200)}
				for _, size := range sizes {
					want = append(want, pBody(fillBytes(size), true))
				}
				expectPSteps(rs[0].Steps, append(want, pBody("", false), pRet))
				Expect(rs[0].Body).To(Equal(fillBytes(n)))
			},
			Entry("0", 0, nil),
			Entry("1", 1, []int{1}),
			Entry("17", 17, []int{17}),
			Entry("65536", 65536, []int{65536}),
			Entry("65537", 65537, []int{65536, 1}),
			Entry("200000", 200000, []int{65536, 65536, 65536, 3392}),
		)

		It("echo streams each non-empty body back as it arrives", func() {
			scope := probeScope("token:e noreport start:200 echo end")
			events := []map[string]any{req("ab", true), req("", true), req(allBytes, true), req("z", false)}
			rs := runProbe(probeExchange{Scope: scope, Events: events}, ex("report:e"))
			expectPSteps(rs[0].Steps, []pStep{pStart(200), pRecv, pBody("ab", true), pRecv, pRecv, pBody(allBytes, true),
				pRecv, pBody("z", true), pBody("", false), pRet})
			expectReport(fetched(rs[1]), expectedReport(scope, events, nil, true))
		})

		It("echo does not receive again once the body is complete", func() {
			rs := runProbe(ex("drain noreport start:200 echo end", req("abc", false)))
			expectPSteps(rs[0].Steps, []pStep{pRecv, pStart(200), pBody("", false), pRet})
		})

		It("echo before the head was sent is answered 400 and recorded", func() {
			rs := runProbe(ex("token:e echo start:200", req("abc", false)), ex("report:e"))
			expectPSteps(rs[0].Steps, pAnswer(400, "text/plain", "probe: echo before the response head was sent: echo\n"))
			Expect(sendsOf(fetched(rs[1]))).To(Equal([]pSend{
				{Action: "echo", Error: "probe: echo before the response head was sent"},
			}))
		})

		It("raise:MSG raises MSG with error(MSG, 0) and keeps the report", func() {
			scope := probeScope("token:r start:200 raise:boom%3A%20%25")
			rs := runProbe(probeExchange{Scope: scope}, ex("report:r"))
			expectPSteps(rs[0].Steps, []pStep{pStartR(200), pError("boom: %")})
			expectReport(fetched(rs[1]), expectedReport(scope, nil, nil, true))
		})

		It("return returns at once", func() {
			rs := runProbe(ex("start:200 return end"))
			expectPSteps(rs[0].Steps, []pStep{pStartR(200), pRet})
		})
	})

	Describe("invalid events (bad:KIND)", func() {
		DescribeTable("are sent in pcall; the error is recorded and the script goes on",
			func(script, kind, rule string) {
				rs := runProbe(ex("token:b "+script), ex("report:b"))
				steps := rs[0].Steps
				Expect(steps).NotTo(BeEmpty())
				Expect(steps[len(steps)-1]).To(Equal(pRet), "the exchange ends normally: %v", steps)
				want := []pSend{{Action: "bad:" + kind, Error: rule}}
				Expect(sendsOf(fetched(rs[1]))).To(Equal(want))
				if strings.HasPrefix(script, "bad:") {
					Expect(sendsOf(rs[0].HeadReport)).To(Equal(want), "the head report")
				}
			},
			Entry(nil, "bad:not-table start:200 end", "not-table", "core.send.event-table"),
			Entry(nil, "bad:no-type start:200 end", "no-type", "core.send.type"),
			Entry(nil, "bad:unknown-type start:200 end", "unknown-type", "core.send.type"),
			Entry(nil, "bad:status-string start:200 end", "status-string", "http.start.status-type"),
			Entry(nil, "bad:status-float start:200 end", "status-float", "http.start.status-type"),
			Entry(nil, "bad:status-missing start:200 end", "status-missing", "http.start.status-type"),
			Entry(nil, "bad:status-1xx start:200 end", "status-1xx", "http.start.status-range"),
			Entry(nil, "bad:status-600 start:200 end", "status-600", "http.start.status-range"),
			Entry(nil, "bad:headers-map start:200 end", "headers-map", "http.start.headers-type"),
			Entry(nil, "bad:header-single start:200 end", "header-single", "http.start.headers-type"),
			Entry(nil, "bad:header-number start:200 end", "header-number", "http.start.headers-type"),
			Entry(nil, "bad:header-upper start:200 end", "header-upper", "http.headers.name-lowercase"),
			Entry(nil, "bad:header-crlf start:200 end", "header-crlf", "http.headers.valid-bytes"),
			Entry(nil, "bad:header-space start:200 end", "header-space", "http.headers.valid-bytes"),
			Entry(nil, "bad:header-empty-name start:200 end", "header-empty-name", "http.headers.valid-bytes"),
			Entry(nil, "bad:trailers-number start:200 end", "trailers-number", "http.start.trailers-type"),
			Entry(nil, "bad:content-length-bad start:200 end", "content-length-bad", "http.body.content-length"),
			Entry(nil, "bad:body-before-start start:200 end", "body-before-start", "http.start.first"),
			Entry(nil, "start:200 bad:start-again end", "start-again", "http.start.once"),
			Entry(nil, "start:200 bad:body-number end", "body-number", "http.body.body-type"),
			Entry(nil, "start:200 bad:more-body-string end", "more-body-string", "http.body.more-body-type"),
			Entry("body-nonempty on a 204", "start:204 bad:body-nonempty end", "body-nonempty", "http.body.no-body-status"),
			Entry("body-nonempty on a 304", "start:304 bad:body-nonempty end", "body-nonempty", "http.body.no-body-status"),
			Entry("body-nonempty beyond content-length", "hdr:content-length:0 start:200 bad:body-nonempty end",
				"body-nonempty", "http.body.content-length"),
			Entry("trailers-unasked before the start", "bad:trailers-unasked start:200 end", "trailers-unasked", "http.start.first"),
			Entry("trailers-unasked without the flag", "start:200 bad:trailers-unasked end", "trailers-unasked",
				"http.trailers.requires-flag"),
			Entry("trailers-unasked before the last body", "trailers start:200 bad:trailers-unasked end sendtrailers",
				"trailers-unasked", "http.trailers.after-body"),
			Entry(nil, "trailers start:200 end bad:more-trailers-string sendtrailers", "more-trailers-string",
				"http.trailers.more-trailers-type"),
			Entry(nil, "start:200 end bad:after-complete", "after-complete", "http.send.after-complete"),
		)

		It("records an event the server accepts with ok = true", func() {
			rs := runProbe(ex("token:b bad:start-again bad:body-nonempty end"), ex("report:b"))
			expectPSteps(rs[0].Steps, []pStep{
				{Op: "send", Ev: &pEvent{Type: "http.response.start", Status: 200}}, // the bad: start, without headers
				pBody("x", true), pBody("", false), pRet,
			})
			Expect(sendsOf(fetched(rs[1]))).To(Equal([]pSend{
				{Action: "bad:start-again", OK: true}, {Action: "bad:body-nonempty", OK: true},
			}))
		})
	})

	Describe("failed sends", func() {
		It("are recorded and end the script; the app returns", func() {
			rs := runProbe(ex("token:f hdr:x-a:1%0D%0A start:200 end:x"), ex("report:f"),
				ex("token:g start:200 start:200 end"), ex("report:g"))
			expectPSteps(rs[0].Steps, []pStep{pRet})
			Expect(sendsOf(fetched(rs[1]))).To(Equal([]pSend{{Action: "start:200", Error: "http.headers.valid-bytes"}}))
			expectPSteps(rs[2].Steps, []pStep{pStartR(200), pRet})
			Expect(sendsOf(fetched(rs[3]))).To(Equal([]pSend{{Action: "start:200", Error: "http.start.once"}}))
		})

		It("raise a disconnected error again with error(err, 0), after recording it", func() {
			rs := runProbe(
				probeExchange{Scope: probeScope("token:d start:200 body:a end:b"), DisconnectAfter: 1},
				ex("report:d"),
				probeExchange{Scope: probeScope("token:f noreport start:200 fill:1000000 end"), DisconnectAfter: 3},
				ex("report:f"),
			)
			expectPSteps(rs[0].Steps, []pStep{pStartR(200), pError("lasgi: disconnected: the client went away")})
			Expect(sendsOf(fetched(rs[1]))).To(Equal([]pSend{{Action: "body:a", Error: "disconnected"}}))
			expectPSteps(rs[2].Steps, []pStep{pStart(200), pBody(fillBytes(65536), true), pBody(fillBytes(65536), true),
				pError("lasgi: disconnected: the client went away")})
			Expect(sendsOf(fetched(rs[3]))).To(Equal([]pSend{{Action: "fill:1000000", Error: "disconnected"}}))
		})

		It("a disconnected error from a bad: send does not end the script", func() {
			scope := probeScope("token:d start:200 bad:body-nonempty recv end")
			rs := runProbe(probeExchange{Scope: scope, DisconnectAfter: 1}, ex("report:d"))
			expectPSteps(rs[0].Steps, []pStep{pStartR(200), pRecv, pError("lasgi: disconnected: the client went away")})
			full := fetched(rs[1])
			Expect(sendsOf(full)).To(Equal([]pSend{
				{Action: "bad:body-nonempty", Error: "disconnected"}, {Action: "end", Error: "disconnected"},
			}))
			Expect(mapOf(full)["events"]).To(Equal(expectedReport(scope,
				[]map[string]any{{"type": "http.disconnect"}}, nil, true)["events"]))
		})
	})

	Describe("malformed scripts", func() {
		DescribeTable("are answered 400 text/plain naming the action, and nothing else is done",
			func(script, body string) {
				rs := runProbe(ex(script, req("unread", false)))
				expectPSteps(rs[0].Steps, pAnswer(400, "text/plain", body))
			},
			Entry("an unknown action", "bogus", "probe: unknown action: bogus\n"),
			Entry("an unknown action after valid ones", "start:200 bogus:1 end", "probe: unknown action: bogus:1\n"),
			Entry("an empty script", "", "probe: unknown action: \n"),
			Entry("two spaces", "start:200  end", "probe: unknown action: \n"),
			Entry("a status that is not a number", "start:abc", "probe: status is not a decimal integer: start:abc\n"),
			Entry("a negative status", "start:-200", "probe: status is not a decimal integer: start:-200\n"),
			Entry("start without a status", "start", "probe: wrong number of arguments for start: start\n"),
			Entry("hdr without a value", "hdr:x", "probe: wrong number of arguments for hdr: hdr:x\n"),
			Entry("hdr with an unencoded colon", "hdr:x:1:2", "probe: wrong number of arguments for hdr: hdr:x:1:2\n"),
			Entry("recv with an argument", "recv:1", "probe: wrong number of arguments for recv: recv:1\n"),
			Entry("body without data", "start:200 body end", "probe: wrong number of arguments for body: body\n"),
			Entry("a bad escape", "body:%zz", "probe: bad percent-encoding in argument 1: body:%zz\n"),
			Entry("a short escape", "trailer:x:%4", "probe: bad percent-encoding in argument 2: trailer:x:%4\n"),
			Entry("a negative fill", "fill:-1", "probe: length is not a decimal integer: fill:-1\n"),
			Entry("an unknown bad kind", "bad:nope", "probe: unknown kind of invalid event: bad:nope\n"),
			Entry("report with other actions", "token:t report:t", "probe: report must be the only action: report:t\n"),
		)

		It("keep no report", func() {
			rs := runProbe(ex("token:m bogus"), ex("report:m"))
			expectPSteps(rs[1].Steps, pAnswer(404, "text/plain", noReportMsg))
		})
	})

	Describe("kept reports", func() {
		It("report:T answers the report once, then 404; unknown tokens get 404", func() {
			scope := probeScope("token:a%3Ab%20c drain start:200 end")
			events := []map[string]any{req("abc", false)}
			rs := runProbe(probeExchange{Scope: scope, Events: events},
				ex("report:a%3Ab%20c"), ex("report:a%3Ab%20c"), ex("report:zzz"))
			expectReport(fetched(rs[1]), expectedReport(scope, events, nil, true))
			expectPSteps(rs[2].Steps, pAnswer(404, "text/plain", noReportMsg))
			expectPSteps(rs[3].Steps, pAnswer(404, "text/plain", noReportMsg))
		})

		It("a token used again keeps the newer report", func() {
			scope := probeScope("token:t start:202 end")
			rs := runProbe(ex("token:t start:201 end"), probeExchange{Scope: scope}, ex("report:t"), ex("report:t"))
			expectReport(fetched(rs[2]), expectedReport(scope, nil, nil, true))
			expectPSteps(rs[3].Steps, pAnswer(404, "text/plain", noReportMsg))
		})

		It("keeps at most 1000, dropping the oldest; replaced and fetched ones leave no trace", func() {
			// 1001 tokens: k0 is dropped. Then k1000 is kept 1001 times more, which makes
			// more than 2000 entries in the queue of tokens (1000 of them stale) and has it
			// compacted; the order of the live ones must survive: one more token drops k1.
			var exs []probeExchange
			for i := 0; i <= 1000; i++ {
				exs = append(exs, ex(fmt.Sprintf("token:k%d noreport start:200 end", i)))
			}
			exs = append(exs, ex("report:k0"))
			for i := 0; i < 1001; i++ {
				exs = append(exs, ex(fmt.Sprintf("token:k1000 noreport start:%d end", 201+i%300)))
			}
			exs = append(exs, ex("token:new noreport start:200 end"),
				ex("report:k1"), ex("report:k2"), ex("report:k1000"), ex("report:new"), ex("report:new"))
			rs := runProbe(exs...)
			n := len(exs)
			expectPSteps(rs[1001].Steps, pAnswer(404, "text/plain", noReportMsg))
			expectPSteps(rs[n-5].Steps, pAnswer(404, "text/plain", noReportMsg))
			expectReport(fetched(rs[n-4]), expectedReport(exs[2].Scope, nil, nil, true))
			expectReport(fetched(rs[n-3]), expectedReport(exs[n-7].Scope, nil, nil, true))
			expectReport(fetched(rs[n-2]), expectedReport(exs[n-6].Scope, nil, nil, true))
			expectPSteps(rs[n-1].Steps, pAnswer(404, "text/plain", noReportMsg))
		})
	})
})

func repeatP(s pStep, n int) []pStep {
	steps := make([]pStep, n)
	for i := range steps {
		steps[i] = s
	}
	return steps
}

var _ = Describe("probe.lua in the reference server", func() {
	var srv *probeServer
	BeforeEach(func() {
		srv = startProbeServer()
	})
	AfterEach(func() {
		// No script here ends in an app error: a disconnected error is a normal end
		// (core.send.disconnected-normal).
		Expect(srv.log.String()).NotTo(ContainSubstring("app error"))
	})

	It("answers the default script 200 ok, with the report in the head", func() {
		res := srv.request("POST", "", "hello")
		Expect(res.Status).To(Equal(200))
		Expect(res.Body).To(Equal("ok"))
		rep := mapOf(res.report())
		scope := mapOf(rep["scope"])
		Expect(scope["type"]).To(Equal("http"))
		Expect(scope["method"]).To(Equal("POST"))
		Expect(scope["path"]).To(Equal("/probe"))
		Expect(scope["query_string"]).To(Equal("x=1"))
		Expect(scope["headers"]).To(ContainElement([]any{"host", "probe.test"}))
		for _, k := range scopeKeys {
			Expect(scope).To(HaveKey(k))
		}
		Expect(rep["events"]).To(Equal([]any{
			map[string]any{"type": "http.request", "more_body": false, "len": asJSON(5)},
		}))
		Expect(rep["body"]).To(Equal(map[string]any{"len": asJSON(5), "adler32": asJSON(int(adler32.Checksum([]byte("hello"))))}))
		Expect(sendsOf(rep)).To(BeEmpty())
	})

	DescribeTable("bad kinds before the start: the head report names the rule",
		func(kind, rule string) {
			res := srv.request("GET", "bad:"+kind+" start:200 end:ok", "")
			Expect(res.Status).To(Equal(200), "body %q", res.Body)
			Expect(res.Body).To(Equal("ok"))
			Expect(sendsOf(res.report())).To(Equal([]pSend{{Action: "bad:" + kind, Error: rule}}))
		},
		beforeStartEntries(),
	)

	It("bad:body-nonempty on a 204 is accepted and discarded, not refused (http.body.no-body-discard)", func() {
		res := srv.request("GET", "token:t2 start:204 bad:body-nonempty end", "")
		Expect(res.Status).To(Equal(204))
		Expect(res.Body).To(BeEmpty())
		Expect(sendsOf(srv.fetchReport("t2"))).To(Equal([]pSend{{Action: "bad:body-nonempty", OK: true}}))
	})

	DescribeTable("bad kinds after the start: the kept report names the rule",
		func(token, script, kind, rule string) {
			res := srv.request("GET", "token:"+token+" "+script, "")
			Expect(res.Status).To(BeNumerically(">=", 200))
			Expect(sendsOf(srv.fetchReport(token))).To(Equal([]pSend{{Action: "bad:" + kind, Error: rule}}))
		},
		Entry(nil, "t1", "start:200 bad:start-again end", "start-again", "http.start.once"),
		Entry(nil, "t3", "hdr:content-length:0 start:200 bad:body-nonempty end", "body-nonempty", "http.body.content-length"),
		Entry(nil, "t4", "start:200 bad:trailers-unasked end", "trailers-unasked", "http.trailers.requires-flag"),
		Entry(nil, "t5", "trailers start:200 bad:trailers-unasked end sendtrailers", "trailers-unasked",
			"http.trailers.after-body"),
		Entry(nil, "t6", "start:200 end bad:after-complete", "after-complete", "http.send.after-complete"),
	)

	It("keeps a report under its token until it is fetched; unknown tokens get 404", func() {
		res := srv.request("POST", "token:k1 drain start:200 end:hi", "some body")
		Expect(res.Status).To(Equal(200))
		Expect(res.Body).To(Equal("hi"))
		rep := mapOf(srv.fetchReport("k1"))
		Expect(rep["events"]).To(Equal([]any{
			map[string]any{"type": "http.request", "more_body": false, "len": asJSON(9), "body": "some body"},
		}))
		Expect(mapOf(rep["scope"])["headers"]).To(ContainElement([]any{"lasgi-probe", "token:k1 drain start:200 end:hi"}))

		again := srv.request("GET", "report:k1", "")
		Expect(again.Status).To(Equal(404))
		Expect(again.Body).To(Equal(noReportMsg))
		Expect(srv.request("GET", "report:nope", "").Status).To(Equal(404))
	})

	It("fill:1048576 sends 1 MiB of the pattern", func() {
		res := srv.request("GET", "noreport start:200 fill:1048576 end", "")
		Expect(res.Status).To(Equal(200))
		Expect(res.Chunked).To(BeTrue())
		Expect(res.Header.Values("lasgi-probe-report")).To(BeEmpty())
		Expect(len(res.Body)).To(Equal(1 << 20))
		Expect(res.Body == fillBytes(1<<20)).To(BeTrue(), "the body is the pattern repeated")
	})

	It("echo streams a 1 MB request body back", func() {
		body := pseudoBytes(1_000_000, 7)
		res := srv.request("POST", "token:echo start:200 echo end", body)
		Expect(res.Status).To(Equal(200))
		Expect(len(res.Body)).To(Equal(len(body)))
		Expect(res.Body == body).To(BeTrue(), "the echoed body equals the request body")

		rep := mapOf(srv.fetchReport("echo"))
		Expect(rep["body"]).To(Equal(map[string]any{
			"len": asJSON(len(body)), "adler32": asJSON(int(adler32.Checksum([]byte(body)))),
		}))
		events := rep["events"].([]any)
		Expect(len(events)).To(BeNumerically(">=", 2), "a 1 MB body comes in several events")
		total, recorded := 0, ""
		for i, e := range events {
			ev := mapOf(e)
			Expect(ev["type"]).To(Equal("http.request"))
			Expect(ev["more_body"]).To(Equal(i < len(events)-1))
			n := jsonInt(ev["len"])
			if b, ok := ev["body"]; ok {
				Expect(total + n).To(BeNumerically("<=", 65536))
				Expect(b).To(HaveLen(n))
				recorded += b.(string)
			} else {
				Expect(total + n).To(BeNumerically(">", 65536))
			}
			total += n
		}
		Expect(total).To(Equal(len(body)))
		Expect(recorded == body[:len(recorded)]).To(BeTrue(), "recorded bodies are the start of the body")
	})

	It("sends trailers", func() {
		res := srv.request("GET", "trailers hdr:trailer:x-sum start:200 body:abc end trailer:x-sum:42 sendtrailers", "",
			"TE: trailers")
		Expect(res.Status).To(Equal(200))
		Expect(res.Chunked).To(BeTrue())
		Expect(res.Body).To(Equal("abc"))
		Expect(res.Trailer).To(Equal(http.Header{"X-Sum": {"42"}}))
	})

	It("records the disconnected error when the client goes away mid-response, and ends normally", func() {
		c := srv.dial()
		_, err := fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: t\r\nlasgi-probe: token:gone noreport start:200 fill:1073741824 end\r\n\r\n")
		Expect(err).NotTo(HaveOccurred())
		br := bufio.NewReader(c)
		line, err := br.ReadString('\n')
		Expect(err).NotTo(HaveOccurred())
		Expect(line).To(HavePrefix("HTTP/1.1 200 "))
		Expect(c.Close()).To(Succeed())

		Expect(sendsOf(srv.fetchReport("gone"))).To(Equal([]pSend{{Action: "fill:1073741824", Error: "disconnected"}}))
	})
})
