package websocket_test

import (
	"bytes"
	"errors"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/reference/server/websocket"
)

// rfcKey is the sec-websocket-key of RFC 6455 section 1.3, and rfcAccept
// the sec-websocket-accept it gives there.
const (
	rfcKey    = "dGhlIHNhbXBsZSBub25jZQ=="
	rfcAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
)

// upgradeHeaders are a valid handshake's fields, the extra ones appended.
func upgradeHeaders(extra ...[2]string) [][2]string {
	return append([][2]string{
		{"host", "server.example.com"},
		{"upgrade", "websocket"},
		{"connection", "Upgrade"},
		{"sec-websocket-key", rfcKey},
		{"sec-websocket-version", "13"},
	}, extra...)
}

// without drops the fields named name.
func without(headers [][2]string, name string) [][2]string {
	var out [][2]string
	for _, h := range headers {
		if h[0] != name {
			out = append(out, h)
		}
	}
	return out
}

var _ = Describe("the opening handshake", func() {
	It("computes the RFC's sec-websocket-accept", func() {
		Expect(websocket.AcceptKey(rfcKey)).To(Equal(rfcAccept))
	})

	Describe("CheckUpgrade", func() {
		It("returns the key and no subprotocol for a plain handshake", func() {
			key, protocols, err := websocket.CheckUpgrade("GET", upgradeHeaders())
			Expect(err).To(BeNil())
			Expect(key).To(Equal(rfcKey))
			Expect(protocols).To(BeEmpty())
		})

		It("takes tokens in any case, in lists, and field names in any case", func() {
			headers := [][2]string{
				{"Upgrade", "foo/2, WebSocket"},
				{"CONNECTION", "keep-alive"},
				{"Connection", "x,  upgrade "},
				{"Sec-WebSocket-Key", " " + rfcKey},
				{"Sec-WebSocket-Version", "13 "},
			}
			key, _, err := websocket.CheckUpgrade("GET", headers)
			Expect(err).To(BeNil())
			Expect(key).To(Equal(rfcKey))
			Expect(websocket.IsUpgrade(headers)).To(BeTrue())
		})

		It("splits the subprotocols of every sec-websocket-protocol field, in order", func() {
			_, protocols, err := websocket.CheckUpgrade("GET", upgradeHeaders(
				[2]string{"sec-websocket-protocol", "chat, superchat"},
				[2]string{"Sec-WebSocket-Protocol", " v2.bin ,, v3 "}))
			Expect(err).To(BeNil())
			expectEqual(protocols, []string{"chat", "superchat", "v2.bin", "v3"})
		})

		DescribeTable("refuses a handshake that is not one, with the response to give",
			func(method string, headers [][2]string, want *websocket.HandshakeError) {
				key, protocols, err := websocket.CheckUpgrade(method, headers)
				expectEqual(err, want)
				Expect(key).To(BeEmpty())
				Expect(protocols).To(BeNil())
			},
			Entry("a POST", "POST", upgradeHeaders(), &websocket.HandshakeError{
				Status: 405, Headers: [][2]string{{"allow", "GET"}}, Reason: `a WebSocket handshake must be a GET, not "POST"`}),
			Entry("no upgrade field", "GET", without(upgradeHeaders(), "upgrade"), &websocket.HandshakeError{
				Status: 426, Headers: [][2]string{{"upgrade", "websocket"}, {"connection", "upgrade"}}, Reason: "no upgrade header field lists websocket"}),
			Entry("an upgrade to something else", "GET", append(without(upgradeHeaders(), "upgrade"), [2]string{"upgrade", "h2c"}), &websocket.HandshakeError{
				Status: 426, Headers: [][2]string{{"upgrade", "websocket"}, {"connection", "upgrade"}}, Reason: "no upgrade header field lists websocket"}),
			Entry("no connection: upgrade", "GET", append(without(upgradeHeaders(), "connection"), [2]string{"connection", "keep-alive"}), &websocket.HandshakeError{
				Status: 400, Reason: "no connection header field lists upgrade"}),
			Entry("no version", "GET", without(upgradeHeaders(), "sec-websocket-version"), &websocket.HandshakeError{
				Status: 426, Headers: [][2]string{{"sec-websocket-version", "13"}}, Reason: "no sec-websocket-version header field (13 is supported)"}),
			Entry("version 8", "GET", append(without(upgradeHeaders(), "sec-websocket-version"), [2]string{"sec-websocket-version", "8"}), &websocket.HandshakeError{
				Status: 426, Headers: [][2]string{{"sec-websocket-version", "13"}}, Reason: `sec-websocket-version "8" is not supported (13 is)`}),
			Entry("two versions", "GET", upgradeHeaders([2]string{"sec-websocket-version", "13"}), &websocket.HandshakeError{
				Status: 426, Headers: [][2]string{{"sec-websocket-version", "13"}}, Reason: "2 sec-websocket-version header fields (one of 13 is supported)"}),
			Entry("no key", "GET", without(upgradeHeaders(), "sec-websocket-key"), &websocket.HandshakeError{
				Status: 400, Reason: "0 sec-websocket-key header fields (one is needed)"}),
			Entry("two keys", "GET", upgradeHeaders([2]string{"sec-websocket-key", rfcKey}), &websocket.HandshakeError{
				Status: 400, Reason: "2 sec-websocket-key header fields (one is needed)"}),
			Entry("a key not base64", "GET", append(without(upgradeHeaders(), "sec-websocket-key"), [2]string{"sec-websocket-key", "not base64 at all, no!!"}), &websocket.HandshakeError{
				Status: 400, Reason: `sec-websocket-key "not base64 at all, no!!" is not the base64 of 16 bytes`}),
			Entry("a key of 15 bytes", "GET", append(without(upgradeHeaders(), "sec-websocket-key"), [2]string{"sec-websocket-key", "AAAAAAAAAAAAAAAAAAAA"}), &websocket.HandshakeError{
				Status: 400, Reason: `sec-websocket-key "AAAAAAAAAAAAAAAAAAAA" is not the base64 of 16 bytes`}),
			Entry("a key of 17 bytes", "GET", append(without(upgradeHeaders(), "sec-websocket-key"), [2]string{"sec-websocket-key", "AAAAAAAAAAAAAAAAAAAAAAA="}), &websocket.HandshakeError{
				Status: 400, Reason: `sec-websocket-key "AAAAAAAAAAAAAAAAAAAAAAA=" is not the base64 of 16 bytes`}),
			Entry("a subprotocol that is not a token", "GET", upgradeHeaders([2]string{"sec-websocket-protocol", "chat, two words"}), &websocket.HandshakeError{
				Status: 400, Reason: `sec-websocket-protocol entry "two words" is not a token`}),
		)

		It("says what it refused in its error text", func() {
			_, _, err := websocket.CheckUpgrade("PUT", upgradeHeaders())
			Expect(err.Error()).To(Equal(`websocket handshake refused with 405: a WebSocket handshake must be a GET, not "PUT"`))
		})
	})

	It("IsUpgrade tells a WebSocket request from plain HTTP", func() {
		Expect(websocket.IsUpgrade(upgradeHeaders())).To(BeTrue())
		Expect(websocket.IsUpgrade(without(upgradeHeaders(), "upgrade"))).To(BeFalse())
		Expect(websocket.IsUpgrade([][2]string{{"upgrade", "websocketx"}})).To(BeFalse())
	})

	Describe("WriteAccept", func() {
		It("writes the 101 response of RFC 6455 section 1.3", func() {
			var out bytes.Buffer
			Expect(websocket.WriteAccept(&out, rfcKey, "", nil)).To(Succeed())
			Expect(out.String()).To(Equal("HTTP/1.1 101 Switching Protocols\r\n" +
				"upgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: " + rfcAccept + "\r\n\r\n"))
		})

		It("adds the subprotocol, then the extra fields in order", func() {
			var out bytes.Buffer
			Expect(websocket.WriteAccept(&out, rfcKey, "chat", [][2]string{{"x-a", "1"}, {"set-cookie", "s=\tv"}})).To(Succeed())
			Expect(out.String()).To(Equal("HTTP/1.1 101 Switching Protocols\r\n" +
				"upgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: " + rfcAccept + "\r\n" +
				"sec-websocket-protocol: chat\r\nx-a: 1\r\nset-cookie: s=\tv\r\n\r\n"))
		})

		DescribeTable("refuses fields it cannot send, writing nothing",
			func(subprotocol string, extra [][2]string, want string) {
				var out bytes.Buffer
				Expect(websocket.WriteAccept(&out, rfcKey, subprotocol, extra)).To(MatchError(want))
				Expect(out.Len()).To(BeZero())
			},
			Entry("a subprotocol that is not a token", "a b", nil, `websocket: WriteAccept: subprotocol "a b" is not a token`),
			Entry("upgrade", "", [][2]string{{"x", "1"}, {"Upgrade", "h2c"}}, `websocket: WriteAccept: header 2 ("Upgrade"): the server writes upgrade itself`),
			Entry("connection", "", [][2]string{{"connection", "close"}}, `websocket: WriteAccept: header 1 ("connection"): the server writes connection itself`),
			Entry("sec-websocket-accept", "", [][2]string{{"SEC-WEBSOCKET-ACCEPT", "x"}}, `websocket: WriteAccept: header 1 ("SEC-WEBSOCKET-ACCEPT"): the server writes sec-websocket-accept itself`),
			Entry("sec-websocket-protocol", "", [][2]string{{"sec-websocket-protocol", "chat"}}, `websocket: WriteAccept: header 1 ("sec-websocket-protocol"): the subprotocol is chosen with the subprotocol key (websocket.accept.no-protocol-header)`),
			Entry("sec-websocket-extensions", "", [][2]string{{"sec-websocket-extensions", "permessage-deflate"}}, `websocket: WriteAccept: header 1 ("sec-websocket-extensions"): no WebSocket extension is negotiated`),
			Entry("content-length", "", [][2]string{{"content-length", "0"}}, `websocket: WriteAccept: header 1 ("content-length"): a 101 response has no content-length (RFC 9110 section 8.6)`),
			Entry("transfer-encoding", "", [][2]string{{"transfer-encoding", "chunked"}}, `websocket: WriteAccept: header 1 ("transfer-encoding"): a 101 response has no transfer-encoding (RFC 9112 section 6.1)`),
			Entry("a name that is not a token", "", [][2]string{{"x y", "1"}}, `websocket: WriteAccept: header 1 ("x y"): the name is not a token`),
			Entry("a value with a line break", "", [][2]string{{"x", "1\r\nevil: yes"}}, `websocket: WriteAccept: header 1 ("x"): the value holds control byte 0xd at 1`),
			Entry("a value with DEL", "", [][2]string{{"x", "\x7f"}}, `websocket: WriteAccept: header 1 ("x"): the value holds control byte 0x7f at 0`),
		)

		It("says when the response could not be written", func() {
			err := websocket.WriteAccept(&failWriter{}, rfcKey, "", nil)
			Expect(err).To(MatchError("websocket: writing the 101 response: disk on fire"))
			Expect(errors.Unwrap(err)).To(MatchError("disk on fire"))
		})
	})
})
