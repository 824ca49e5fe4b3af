package conformance_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/coder/websocket"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/conformance"
)

// The checker's WebSocket client is tried against a server it shares no code
// with (github.com/coder/websocket behind net/http): an echo that closes
// with 4001 "bye" on the text "bye".
var _ = Describe("WebSocket cases on the wire", func() {
	var addr string
	BeforeEach(func() {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := websocket.Accept(w, r, nil)
			if err != nil {
				return
			}
			defer c.CloseNow()
			c.SetReadLimit(1 << 20)
			ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
			defer cancel()
			for {
				typ, data, err := c.Read(ctx)
				if err != nil {
					return
				}
				if typ == websocket.MessageText && string(data) == "bye" {
					c.Close(4001, "bye")
					return
				}
				if c.Write(ctx, typ, data) != nil {
					return
				}
			}
		}))
		DeferCleanup(srv.Close)
		addr = strings.TrimPrefix(srv.URL, "http://")
	})

	const handshake = `"GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", {"read": true}`
	const accepted = `"responses": [{"status": 101, "headers": [["sec-websocket-accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="], ["upgrade", "websocket"]]}]`

	run := func(steps, expect string) conformance.Result {
		GinkgoHelper()
		src := `{"section": "websocket.md#receive", "cases": [{"id": "websocket.receive/t", "rules": ["websocket.receive.whole-messages"], "report": "none",
			"send": [` + handshake + `, ` + steps + `], "expect": {` + accepted + `, ` + expect + `}}]}`
		cases, err := conformance.ParseFile("t.json", []byte(src))
		Expect(err).NotTo(HaveOccurred())
		k := &conformance.Checker{Addr: addr, Timeout: 2 * time.Second}
		return k.Run(context.Background(), cases[0])
	}

	DescribeTable("passes what the server does",
		func(steps, expect string) {
			r := run(steps, expect)
			Expect(r.Status).To(Equal(conformance.Passed), r.Message)
		},
		Entry("a text message echoed", `{"frame": {"op": "text", "data": "Hello"}}`, `"frames": [{"op": "text", "data": "Hello", "fin": true}]`),
		Entry("a fragmented message written in pieces, a ping between the fragments",
			`{"frame": {"op": "text", "data": "Hel", "fin": false, "split": [1, 3]}}, {"frame": {"op": "ping", "data": "p"}}, {"frame": {"op": "continuation", "data": "lo"}}`,
			`"frames": [{"op": "pong", "data": "p"}, {"op": "text", "data": "Hello"}]`),
		Entry("a binary message of 100,000 bytes", `{"frame": {"op": "binary", "fill": 100000}}`,
			`"frames": [{"op": "binary", "data_sum": {"len": 100000, "adler32": 3181250266}}]`),
		Entry("the server closing with a code and a reason", `{"frame": {"op": "text", "data": "bye"}}`,
			`"frames": [{"op": "close", "code": 4001, "reason": "bye"}], "connection": "closed"`),
		Entry("frames read by a step", `{"frame": {"op": "text", "data": "a"}}, {"read_frames": 1}, {"frame": {"op": "text", "data": "b"}}`,
			`"frames": [{"op": "text", "data": "a"}, {"op": "text", "data": "b"}]`),
	)

	// Seeded faults: each expectation below is one the server does not meet.
	DescribeTable("fails what the server does not do, naming the frame",
		func(steps, expect, finding string) {
			r := run(steps, expect)
			Expect(r.Status).To(Equal(conformance.Failed))
			Expect(r.Message).To(ContainSubstring(finding))
		},
		Entry("another payload", `{"frame": {"op": "text", "data": "Hello"}}`, `"frames": [{"op": "text", "data": "Hellx"}]`, `frame 1: payload: expected "Hellx", got "Hello"`),
		Entry("another opcode", `{"frame": {"op": "text", "data": "Hello"}}`, `"frames": [{"op": "binary"}]`, "frame 1: expected a binary frame, got text"),
		Entry("another close code", `{"frame": {"op": "text", "data": "bye"}}`, `"frames": [{"op": "close", "code": 1000}]`, "frame 1: close code: expected 1000, got 4001"),
		Entry("a frame that never comes", `{"frame": {"op": "text", "data": "bye"}}`, `"frames": [{"op": "close"}, {"op": "text"}]`, "expected 2 frames, got 1"),
		Entry("a larger payload", `{"frame": {"op": "binary", "fill": 100000}}`, `"frames": [{"op": "binary", "data_sum": {"len": 100001, "adler32": 1}}]`, "expected 100001 bytes"),
	)

	It("refuses frame steps that cannot be built, naming the field", func() {
		for step, field := range map[string]string{
			`{"frame": {"op": "texts"}}`:                 "send[2].frame.op",
			`{"frame": {"op": "text", "opcode": 3}}`:     "send[2].frame",
			`{"frame": {"opcode": 16}}`:                  "send[2].frame.opcode",
			`{"frame": {"op": "text", "rsv": 8}}`:        "send[2].frame.rsv",
			`{"frame": {"op": "text", "split": [3, 2]}}`: "send[2].frame.split[1]",
			`{"read_frames": -1}`:                        "send[2].read_frames",
			`{"frame": {"op": "text"}, "read": true}`:    "send[2]",
		} {
			src := `{"section": "websocket.md", "cases": [{"id": "websocket.receive/t", "rules": ["websocket.receive.whole-messages"], "send": [` + handshake + `, ` + step + `], "expect": {` + accepted + `}}]}`
			_, err := conformance.ParseFile("t.json", []byte(src))
			var fe *conformance.FixtureError
			Expect(err).To(BeAssignableToTypeOf(fe), step)
			Expect(err.(*conformance.FixtureError).Field).To(Equal(field), step)
		}
	})
})
