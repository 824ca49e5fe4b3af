package app_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// The probe's table checks (fixtures/PROBE.md, "Table checks") in the test driver, which
// hands out a new table for every scope and event and never touches them afterwards.
// How they catch a server that does (seeded faults in the reference server) is shown by
// the fixture cases core.receive/fresh-event-tables, core.scope/fresh-table-per-call and
// core.send/tables-unmodified.
var _ = Describe("probe.lua's table checks in the test driver", func() {
	It("watch and verify find nothing wrong with fresh, untouched tables, and change nothing sent", func() {
		rs := runProbe(
			ex("token:w watch drain hdr:x-a:1 start:200 body:a end:b verify", req("x", true), req("y", false)),
			ex("report:w"),
		)
		expectPSteps(rs[0].Steps, []pStep{pRecv, pRecv, pStartR(200, [2]string{"x-a", "1"}),
			pBody("a", true), pBody("b", false), pRet})
		Expect(sendsOf(fetched(rs[1]))).To(Equal([]pSend{{Action: "verify", OK: true}}))
	})

	It("verify takes the rules whose problems count", func() {
		rs := runProbe(
			ex("token:w watch drain start:200 end verify:core.scope.fresh:core.receive.fresh:core.send.unmodified", req("x", false)),
			ex("report:w"),
		)
		Expect(sendsOf(fetched(rs[1]))).To(Equal([]pSend{
			{Action: "verify:core.scope.fresh:core.receive.fresh:core.send.unmodified", OK: true}}))
	})

	It("the previous call's scope and events, kept across calls, are not mistaken for this call's", func() {
		rs := runProbe(
			ex("watch drain start:200 end", req("x", false)),
			ex("token:w watch drain start:200 end verify", req("y", false)),
			ex("report:w"),
		)
		Expect(sendsOf(fetched(rs[2]))).To(Equal([]pSend{{Action: "verify", OK: true}}))
	})

	It("verify without watch is recorded as a probe error", func() {
		rs := runProbe(ex("token:v verify start:200 end"), ex("report:v"))
		Expect(sendsOf(fetched(rs[1]))).To(Equal([]pSend{{Action: "verify", Error: errorKind("probe: verify without watch")}}))
	})

	DescribeTable("malformed table checks are answered 400",
		func(script, body string) {
			rs := runProbe(ex(script, req("unread", false)))
			expectPSteps(rs[0].Steps, pAnswer(400, "text/plain", body))
		},
		Entry("verify with a rule it does not check", "watch verify:core.send.type",
			"probe: verify takes core.scope.fresh, core.receive.fresh or core.send.unmodified: verify:core.send.type\n"),
		Entry("cocall of something else", "cocall:fly", "probe: cocall takes recv or send: cocall:fly\n"),
		Entry("cocall without a kind", "cocall", "probe: wrong number of arguments for cocall: cocall\n"),
		Entry("watch with an argument", "watch:1", "probe: wrong number of arguments for watch: watch:1\n"),
	)
})
