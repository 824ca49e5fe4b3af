package websocket_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"runtime"
	"strconv"
	"testing/iotest"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/reference/server/websocket"
)

const (
	opCont   = 0x0
	opText   = 0x1
	opBinary = 0x2
	opClose  = 0x8
	opPing   = 0x9
	opPong   = 0xa
)

var _ = Describe("ReadMessage", func() {
	Describe("the examples of RFC 6455 section 5.7", func() {
		It("reads the single-frame masked text message", func() {
			// Byte for byte as the RFC prints it.
			stream := []byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}
			msgs, _, err := readAll(stream, websocket.Options{})
			expectEqual(msgs, []message{{websocket.OpText, "Hello"}})
			Expect(err).To(MatchError(io.EOF))
		})

		It("refuses the single-frame unmasked text message from a client with 1002", func() {
			stream := []byte{0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}
			expectEqual(protocolErrorOf(stream, websocket.Options{}), &websocket.ProtocolError{
				Code: 1002, Reason: "client frame not masked", Frame: 1, Op: websocket.OpText})
		})

		It("reads the unmasked text message as a client", func() {
			stream := []byte{0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}
			msgs, _, _ := readAll(stream, websocket.Options{Client: true})
			expectEqual(msgs, []message{{websocket.OpText, "Hello"}})
		})

		It("reassembles the fragmented text message, masked as from a client", func() {
			// The RFC's 0x01 0x03 "Hel", 0x80 0x02 "lo", masked.
			stream := join(client(opText, []byte("Hel")), client(fin|opCont, []byte("lo")))
			msgs, _, _ := readAll(stream, websocket.Options{})
			expectEqual(msgs, []message{{websocket.OpText, "Hello"}})
		})

		It("answers the ping with the pong of the RFC, unmasked", func() {
			stream := join(client(fin|opPing, []byte("Hello")), client(fin|opText, []byte("after")))
			msgs, out, _ := readAll(stream, websocket.Options{})
			expectEqual(msgs, []message{{websocket.OpText, "after"}})
			Expect(out).To(Equal([]byte{0x8a, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}))
		})

		It("reads the 256-byte and 64 KiB binary messages, with 16- and 64-bit lengths", func() {
			p256, p64k := bytes.Repeat([]byte{0xa5}, 256), bytes.Repeat([]byte{0x5a}, 65536)
			f256, f64k := client(fin|opBinary, p256), client(fin|opBinary, p64k)
			Expect(f256[:4]).To(Equal([]byte{0x82, 0x80 | 0x7e, 0x01, 0x00}))
			Expect(f64k[:10]).To(Equal([]byte{0x82, 0x80 | 0x7f, 0, 0, 0, 0, 0, 1, 0, 0}))
			msgs, _, _ := readAll(join(f256, f64k), websocket.Options{})
			expectEqual(msgs, []message{{websocket.OpBinary, string(p256)}, {websocket.OpBinary, string(p64k)}})
		})
	})

	Describe("messages", func() {
		It("answers a ping inside a fragmented message and still reassembles it", func() {
			stream := join(client(opBinary, []byte("ab")), client(fin|opPing, []byte("p")),
				client(opCont, nil), client(fin|opCont, []byte("cd")))
			msgs, out, _ := readAll(stream, websocket.Options{})
			expectEqual(msgs, []message{{websocket.OpBinary, "abcd"}})
			Expect(out).To(Equal(server(fin|opPong, []byte("p"))))
		})

		It("gives pongs to OnPong and not to the caller", func() {
			var pongs []string
			stream := join(client(fin|opPong, []byte("k1")), client(opText, []byte("x")),
				client(fin|opPong, nil), client(fin|opCont, []byte("y")))
			msgs, out, _ := readAll(stream, websocket.Options{OnPong: func(p []byte) { pongs = append(pongs, string(p)) }})
			expectEqual(msgs, []message{{websocket.OpText, "xy"}})
			expectEqual(pongs, []string{"k1", ""})
			Expect(out).To(BeEmpty())
		})

		It("reads empty messages", func() {
			msgs, _, _ := readAll(join(client(fin|opText, nil), client(fin|opBinary, nil)), websocket.Options{})
			expectEqual(msgs, []message{{websocket.OpText, ""}, {websocket.OpBinary, ""}})
		})

		It("reads frames with a length in more bytes than needed", func() {
			// 5 bytes announced in a 16-bit length: a sender must not, a
			// reader may take it.
			f := []byte{0x81, 0x80 | 126, 0, 5, 1, 2, 3, 4}
			for i, c := range []byte("hello") {
				f = append(f, c^[]byte{1, 2, 3, 4}[i%4])
			}
			msgs, _, _ := readAll(f, websocket.Options{})
			expectEqual(msgs, []message{{websocket.OpText, "hello"}})
		})

		It("reads a stream one byte at a time", func() {
			stream := join(client(opText, []byte("Hel")), client(fin|opPing, []byte("p")),
				client(fin|opCont, []byte("lo")), client(fin|opBinary, bytes.Repeat([]byte{7}, 70000)))
			c := websocket.NewConn(iotest.OneByteReader(bytes.NewReader(stream)), io.Discard, websocket.Options{})
			op, p, err := c.ReadMessage()
			Expect(err).NotTo(HaveOccurred())
			expectEqual(message{op, string(p)}, message{websocket.OpText, "Hello"})
			op, p, err = c.ReadMessage()
			Expect(err).NotTo(HaveOccurred())
			Expect(op).To(Equal(websocket.OpBinary))
			Expect(p).To(Equal(bytes.Repeat([]byte{7}, 70000)))
		})

		It("starts with the bytes the server's bufio.Reader read past the handshake", func() {
			head := "GET / HTTP/1.1\r\nupgrade: websocket\r\n\r\n"
			br := bufio.NewReader(bytes.NewReader(append([]byte(head), client(fin|opText, []byte("early"))...)))
			for {
				line, err := br.ReadString('\n')
				Expect(err).NotTo(HaveOccurred())
				if line == "\r\n" {
					break
				}
			}
			Expect(br.Buffered()).To(BeNumerically(">", 0))
			c := websocket.NewConn(br, io.Discard, websocket.Options{})
			_, p, err := c.ReadMessage()
			Expect(err).NotTo(HaveOccurred())
			Expect(string(p)).To(Equal("early"))
		})

		It("tells an end between frames from an end inside one", func() {
			_, _, err := readAll(client(fin|opText, []byte("a")), websocket.Options{})
			Expect(errors.Is(err, io.EOF)).To(BeTrue())
			Expect(err.Error()).To(ContainSubstring("frame 2 header"))

			f := client(fin|opText, []byte("abc"))
			for _, cut := range []int{1, 3, len(f) - 1} {
				_, _, err = readAll(f[:cut], websocket.Options{})
				Expect(errors.Is(err, io.ErrUnexpectedEOF)).To(BeTrue(), "cut at %d: %v", cut, err)
			}
		})

		It("returns the same error on every call after the first", func() {
			c, _ := connOver(server(fin|opText, []byte("x")), websocket.Options{})
			_, _, err1 := c.ReadMessage()
			_, _, err2 := c.ReadMessage()
			Expect(err1).To(HaveOccurred())
			Expect(err2).To(BeIdenticalTo(err1))
		})
	})

	Describe("the close frame", func() {
		It("ends reading with its code and reason, after echoing the code", func() {
			msgs, out, err := readAll(join(client(fin|opText, []byte("last")),
				client(fin|opClose, closePayload(4001, "bye"))), websocket.Options{})
			expectEqual(msgs, []message{{websocket.OpText, "last"}})
			expectEqual(err, &websocket.CloseError{Code: 4001, Reason: "bye"})
			Expect(out).To(Equal(server(fin|opClose, closePayload(4001, ""))))
		})

		It("gives 1005 for an empty close frame and echoes an empty one", func() {
			_, out, err := readAll(client(fin|opClose, nil), websocket.Options{})
			expectEqual(err, &websocket.CloseError{Code: 1005})
			Expect(out).To(Equal([]byte{0x88, 0x00}))
		})

		It("is answered in the middle of a fragmented message", func() {
			_, out, err := readAll(join(client(opText, []byte("half")), client(fin|opClose, closePayload(1001, ""))), websocket.Options{})
			expectEqual(err, &websocket.CloseError{Code: 1001})
			Expect(out).To(Equal(server(fin|opClose, closePayload(1001, ""))))
		})

		It("is not answered when this end closed first, and no data may follow the echo", func() {
			c, out := connOver(client(fin|opClose, closePayload(1000, "ok")), websocket.Options{})
			Expect(c.WriteClose(1000, "done")).To(Succeed())
			_, _, err := c.ReadMessage()
			expectEqual(err, &websocket.CloseError{Code: 1000, Reason: "ok"})
			Expect(out.Bytes()).To(Equal(server(fin|opClose, closePayload(1000, "done"))))

			c, _ = connOver(client(fin|opClose, nil), websocket.Options{})
			_, _, err = c.ReadMessage()
			Expect(err).To(BeAssignableToTypeOf(&websocket.CloseError{}))
			Expect(c.WriteMessage(websocket.OpText, []byte("late"))).To(MatchError(websocket.ErrCloseSent))
		})

		It("takes a ping after this end's close without answering it", func() {
			c, out := connOver(join(client(fin|opPing, []byte("p")), client(fin|opClose, nil)), websocket.Options{})
			Expect(c.WriteClose(1000, "")).To(Succeed())
			_, _, err := c.ReadMessage()
			expectEqual(err, &websocket.CloseError{Code: 1005})
			Expect(out.Bytes()).To(Equal(server(fin|opClose, closePayload(1000, ""))))
		})

		DescribeTable("accepts the codes an endpoint may send",
			func(code int) {
				_, _, err := readAll(client(fin|opClose, closePayload(uint16(code), "r")), websocket.Options{})
				expectEqual(err, &websocket.CloseError{Code: code, Reason: "r"})
			},
			Entry("1000", 1000), Entry("1001", 1001), Entry("1002", 1002), Entry("1003", 1003),
			Entry("1007", 1007), Entry("1008", 1008), Entry("1009", 1009), Entry("1010", 1010),
			Entry("1011", 1011), Entry("1012", 1012), Entry("1013", 1013), Entry("1014", 1014),
			Entry("3000", 3000), Entry("4000", 4000), Entry("4999", 4999),
		)

		DescribeTable("refuses the others with 1002",
			func(code int) {
				expectEqual(protocolErrorOf(client(fin|opClose, closePayload(uint16(code), "")), websocket.Options{}),
					&websocket.ProtocolError{Code: 1002, Reason: "invalid close code " + strconv.Itoa(code), Frame: 1, Op: websocket.OpClose})
			},
			Entry("0", 0), Entry("999, below 1000", 999), Entry("1004, reserved", 1004),
			Entry("1005, never sent", 1005), Entry("1006, never sent", 1006), Entry("1015, never sent", 1015),
			Entry("1016, reserved for the protocol", 1016), Entry("2000", 2000), Entry("2999", 2999),
			Entry("5000, undefined", 5000), Entry("65535", 65535),
		)

		It("refuses a one-byte payload with 1002", func() {
			expectEqual(protocolErrorOf(client(fin|opClose, []byte{0x03}), websocket.Options{}),
				&websocket.ProtocolError{Code: 1002, Reason: "close payload of 1 byte", Frame: 1, Op: websocket.OpClose})
		})

		It("refuses a reason that is not UTF-8 with 1007", func() {
			expectEqual(protocolErrorOf(client(fin|opClose, closePayload(1000, "a\xffb")), websocket.Options{}),
				&websocket.ProtocolError{Code: 1007, Reason: "close reason is not valid UTF-8", Frame: 1, Op: websocket.OpClose})
		})
	})

	Describe("the frame rules, each refused with 1002", func() {
		pe := func(reason string, frame int64, op websocket.Opcode) *websocket.ProtocolError {
			return &websocket.ProtocolError{Code: 1002, Reason: reason, Frame: frame, Op: op}
		}
		DescribeTable("RSV bits with no extension",
			func(bit byte) {
				expectEqual(protocolErrorOf(client(fin|bit|opText, []byte("x")), websocket.Options{}),
					pe("RSV bits set with no extension negotiated", 1, websocket.OpText))
			},
			Entry("RSV1", byte(rsv1)), Entry("RSV2", byte(rsv2)), Entry("RSV3", byte(rsv3)),
		)

		DescribeTable("reserved opcodes",
			func(op byte) {
				expectEqual(protocolErrorOf(client(fin|op, nil), websocket.Options{}),
					pe("reserved opcode", 1, websocket.Opcode(op)))
			},
			Entry("3", byte(3)), Entry("4", byte(4)), Entry("5", byte(5)), Entry("6", byte(6)), Entry("7", byte(7)),
			Entry("0xB", byte(0xb)), Entry("0xC", byte(0xc)), Entry("0xD", byte(0xd)), Entry("0xE", byte(0xe)), Entry("0xF", byte(0xf)),
		)

		It("a masked frame from the server, read as a client", func() {
			expectEqual(protocolErrorOf(client(fin|opText, []byte("x")), websocket.Options{Client: true}),
				pe("server frame masked", 1, websocket.OpText))
		})

		It("a control frame not final", func() {
			expectEqual(protocolErrorOf(client(opPing, []byte("x")), websocket.Options{}),
				pe("fragmented control frame", 1, websocket.OpPing))
		})

		It("a control payload over 125 bytes", func() {
			_, out, err := readAll(client(fin|opPing, bytes.Repeat([]byte{'x'}, 125)), websocket.Options{})
			Expect(err).To(MatchError(io.EOF))
			Expect(out).To(Equal(server(fin|opPong, bytes.Repeat([]byte{'x'}, 125))))
			expectEqual(protocolErrorOf(client(fin|opPing, bytes.Repeat([]byte{'x'}, 126)), websocket.Options{}),
				pe("control frame payload over 125 bytes", 1, websocket.OpPing))
		})

		It("a continuation frame with no message begun, also after a whole one", func() {
			expectEqual(protocolErrorOf(client(fin|opCont, []byte("x")), websocket.Options{}),
				pe("continuation frame with no message begun", 1, websocket.OpContinuation))
			expectEqual(protocolErrorOf(join(client(fin|opText, []byte("a")), client(opCont, []byte("x"))), websocket.Options{}),
				pe("continuation frame with no message begun", 2, websocket.OpContinuation))
		})

		It("a new data frame inside a fragmented message", func() {
			expectEqual(protocolErrorOf(join(client(opText, []byte("a")), client(fin|opBinary, []byte("b"))), websocket.Options{}),
				pe("new data frame inside a fragmented message", 2, websocket.OpBinary))
		})

		It("a 64-bit length with its most significant bit set", func() {
			f := []byte{0x82, 0x80 | 127, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4}
			expectEqual(protocolErrorOf(f, websocket.Options{}),
				pe("frame length with its most significant bit set", 1, websocket.OpBinary))
		})
	})

	Describe("the message limit", func() {
		tooBig := func(frame int64, op websocket.Opcode) *websocket.ProtocolError {
			return &websocket.ProtocolError{Code: 1009, Reason: "message past the limit of 100 bytes", Frame: frame, Op: op}
		}

		It("takes a message of exactly the limit", func() {
			msgs, _, _ := readAll(client(fin|opBinary, make([]byte, 100)), websocket.Options{MaxMessageSize: 100})
			Expect(msgs).To(HaveLen(1))
		})

		It("refuses a frame past it from its header with 1009, reading none of its payload", func() {
			// Only the header is there: reading any payload would end in
			// io.ErrUnexpectedEOF instead.
			f := client(fin|opBinary, make([]byte, 101))
			expectEqual(protocolErrorOf(f[:8], websocket.Options{MaxMessageSize: 100}), tooBig(1, websocket.OpBinary))
		})

		It("counts all the fragments of a message", func() {
			stream := join(client(opText, make([]byte, 60)), client(fin|opPing, nil), client(fin|opCont, make([]byte, 41)))
			expectEqual(protocolErrorOf(stream, websocket.Options{MaxMessageSize: 100}), tooBig(3, websocket.OpContinuation))
		})

		It("starts again with each message", func() {
			stream := join(client(fin|opBinary, make([]byte, 80)), client(fin|opBinary, make([]byte, 80)))
			msgs, _, _ := readAll(stream, websocket.Options{MaxMessageSize: 100})
			Expect(msgs).To(HaveLen(2))
		})

		It("is 1 MiB by default", func() {
			Expect(websocket.NewConn(bytes.NewReader(nil), io.Discard, websocket.Options{}).MaxMessageSize()).To(Equal(int64(1 << 20)))
		})

		It("allocates nothing for a header announcing 2^62 bytes", func() {
			f := []byte{0x82, 0x80 | 127, 0x40, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4}
			Expect(allocatedBy(func() {
				_, _, err := readAll(f, websocket.Options{})
				Expect(err).To(BeAssignableToTypeOf(&websocket.ProtocolError{}))
			})).To(BeNumerically("<", 64<<10))
		})

		It("copies a message of many small fragments a few times, not once for each", func() {
			const n = 50000
			frames := [][]byte{client(0x02, []byte{'a'})}
			for range n - 2 {
				frames = append(frames, client(0x00, []byte{'a'}))
			}
			frames = append(frames, client(0x80, []byte{'a'}))
			stream := join(frames...)
			var got []message
			allocated := allocatedBy(func() {
				var err error
				got, _, err = readAll(stream, websocket.Options{})
				Expect(errors.Is(err, io.EOF)).To(BeTrue())
			})
			Expect(got).To(HaveLen(1))
			Expect(got[0].Payload).To(HaveLen(n))
			// Growing by each fragment allocated n*n/2 bytes, 1.25 GB here.
			Expect(allocated).To(BeNumerically("<", 16*n+(256<<10)))
		})

		It("allocates what arrives, not what a header under a large limit announces", func() {
			f := []byte{0x82, 0x80 | 127, 0, 0, 0, 0, 0x40, 0, 0, 0, 1, 2, 3, 4} // 1 GiB
			f = append(f, make([]byte, 1000)...)
			Expect(allocatedBy(func() {
				_, _, err := readAll(f, websocket.Options{MaxMessageSize: 1 << 31})
				Expect(errors.Is(err, io.ErrUnexpectedEOF)).To(BeTrue())
			})).To(BeNumerically("<", 256<<10))
		})
	})

	Describe("UTF-8 of text messages", func() {
		invalid := func(frame int64, op websocket.Opcode) *websocket.ProtocolError {
			return &websocket.ProtocolError{Code: 1007, Reason: "text message is not valid UTF-8", Frame: frame, Op: op}
		}

		It("refuses a text message that is not UTF-8 with 1007", func() {
			expectEqual(protocolErrorOf(client(fin|opText, []byte("ab\xc3\x28")), websocket.Options{}), invalid(1, websocket.OpText))
		})

		It("takes a character split across fragments, at every cut", func() {
			text := "κόσμε 𝄞 €"
			for cut := 0; cut <= len(text); cut++ {
				stream := join(client(opText, []byte(text[:cut])), client(fin|opPing, nil), client(fin|opCont, []byte(text[cut:])))
				msgs, _, _ := readAll(stream, websocket.Options{})
				expectEqual(msgs, []message{{websocket.OpText, text}})
			}
		})

		It("refuses at the first fragment that cannot start valid UTF-8, without waiting for the rest", func() {
			// A surrogate (ED A0) and a code point past U+10FFFF (F4 90)
			// show as soon as their second byte is in; the stream ends
			// after that fragment.
			for _, start := range []string{"ok\xed\xa0", "ok\xf4\x90", "ok\xe0\x80", "ok\xf0\x80\x80", "ok\xc0", "ok\xff"} {
				expectEqual(protocolErrorOf(client(opText, []byte(start)), websocket.Options{}), invalid(1, websocket.OpText))
			}
		})

		It("refuses a message whose last fragment ends inside a character", func() {
			stream := join(client(opText, []byte("a")), client(fin|opCont, []byte("\xe2\x82")))
			expectEqual(protocolErrorOf(stream, websocket.Options{}), invalid(2, websocket.OpContinuation))
		})

		It("does not check binary messages", func() {
			msgs, _, _ := readAll(client(fin|opBinary, []byte{0xff, 0xfe}), websocket.Options{})
			expectEqual(msgs, []message{{websocket.OpBinary, "\xff\xfe"}})
		})
	})
})

// allocatedBy is how many bytes f allocated on the heap.
func allocatedBy(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
