package websocket_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/reference/server/websocket"
)

// failWriter fails every write after the first n bytes.
type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		k := w.n
		w.n = 0
		return k, errors.New("disk on fire")
	}
	w.n -= len(p)
	return len(p), nil
}

// writesCounter counts the Write calls that reach it.
type writesCounter struct {
	bytes.Buffer
	writes int
}

func (w *writesCounter) Write(p []byte) (int, error) {
	w.writes++
	return w.Buffer.Write(p)
}

var _ = Describe("writing", func() {
	var (
		out *writesCounter
		c   *websocket.Conn
	)
	BeforeEach(func() {
		out = new(writesCounter)
		c = websocket.NewConn(bytes.NewReader(nil), out, websocket.Options{})
	})

	It("writes the RFC's unmasked \"Hello\" in one Write", func() {
		Expect(c.WriteMessage(websocket.OpText, []byte("Hello"))).To(Succeed())
		Expect(out.Bytes()).To(Equal([]byte{0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}))
		Expect(out.writes).To(Equal(1))
	})

	DescribeTable("encodes the length in the fewest bytes",
		func(size int, head []byte, writes int) {
			p := bytes.Repeat([]byte{0xab}, size)
			Expect(c.WriteMessage(websocket.OpBinary, p)).To(Succeed())
			Expect(out.Bytes()).To(Equal(append(head, p...)))
			Expect(out.Bytes()).To(Equal(server(fin|opBinary, p)))
			// A writer that takes no net.Buffers gets a large frame's
			// header and payload in two Writes; a net.Conn, in one writev.
			Expect(out.writes).To(Equal(writes))
		},
		Entry("0", 0, []byte{0x82, 0}, 1),
		Entry("125", 125, []byte{0x82, 125}, 1),
		Entry("126", 126, []byte{0x82, 126, 0, 126}, 1),
		Entry("256, the RFC's", 256, []byte{0x82, 126, 1, 0}, 1),
		Entry("4092, the largest frame copied whole into 4 KiB", 4092, []byte{0x82, 126, 0x0f, 0xfc}, 1),
		Entry("4093, header and payload apart", 4093, []byte{0x82, 126, 0x0f, 0xfd}, 2),
		Entry("65535", 65535, []byte{0x82, 126, 0xff, 0xff}, 2),
		Entry("65536, the RFC's", 65536, []byte{0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0}, 2),
	)

	It("refuses text that is not UTF-8 and opcodes that are not messages, writing nothing", func() {
		Expect(c.WriteMessage(websocket.OpText, []byte("a\xff"))).To(MatchError(ContainSubstring("not valid UTF-8")))
		for _, op := range []websocket.Opcode{websocket.OpContinuation, websocket.OpClose, websocket.OpPing, websocket.OpPong, 3} {
			Expect(c.WriteMessage(op, nil)).To(MatchError(ContainSubstring("only text and binary are messages")))
		}
		Expect(out.Len()).To(BeZero())
	})

	It("writes pings of up to 125 bytes", func() {
		Expect(c.WritePing([]byte("are you there"))).To(Succeed())
		Expect(c.WritePing(make([]byte, 126))).To(MatchError(ContainSubstring("126 bytes is past 125")))
		Expect(out.Bytes()).To(Equal(server(fin|opPing, []byte("are you there"))))
	})

	Describe("WriteClose", func() {
		It("writes the code and reason, and then no data frame", func() {
			Expect(c.WriteClose(4001, "bye")).To(Succeed())
			Expect(out.Bytes()).To(Equal(server(fin|opClose, closePayload(4001, "bye"))))
			Expect(c.WriteMessage(websocket.OpText, []byte("x"))).To(MatchError(websocket.ErrCloseSent))
			Expect(c.WritePing(nil)).To(MatchError(websocket.ErrCloseSent))
			Expect(c.WriteClose(1000, "")).To(MatchError(websocket.ErrCloseSent))
		})

		It("writes an empty close frame for 1005", func() {
			Expect(c.WriteClose(1005, "")).To(Succeed())
			Expect(out.Bytes()).To(Equal([]byte{0x88, 0}))
		})

		It("takes a reason of 123 bytes", func() {
			Expect(c.WriteClose(1000, strings.Repeat("r", 123))).To(Succeed())
		})

		DescribeTable("refuses what may not be sent, writing nothing",
			func(code int, reason, why string) {
				Expect(c.WriteClose(code, reason)).To(MatchError("websocket: WriteClose: " + why))
				Expect(out.Len()).To(BeZero())
				Expect(c.WriteMessage(websocket.OpText, nil)).To(Succeed(), "a refused close starts no closing handshake")
			},
			Entry("999", 999, "", "close code 999 may not be sent (1000-1003, 1007-1014, 3000-4999)"),
			Entry("1004", 1004, "", "close code 1004 may not be sent (1000-1003, 1007-1014, 3000-4999)"),
			Entry("1006", 1006, "", "close code 1006 may not be sent (1000-1003, 1007-1014, 3000-4999)"),
			Entry("1015", 1015, "", "close code 1015 may not be sent (1000-1003, 1007-1014, 3000-4999)"),
			Entry("2999", 2999, "", "close code 2999 may not be sent (1000-1003, 1007-1014, 3000-4999)"),
			Entry("5000", 5000, "", "close code 5000 may not be sent (1000-1003, 1007-1014, 3000-4999)"),
			Entry("1005 with a reason", 1005, "x", "a close frame without a code (1005) cannot carry a reason"),
			Entry("a reason of 124 bytes", 1000, strings.Repeat("r", 124), "close reason of 124 bytes is past 123"),
			Entry("a reason not UTF-8", 1000, "\xff", "close reason is not valid UTF-8"),
		)
	})

	It("keeps the first write error: the wire may hold half a frame", func() {
		c := websocket.NewConn(bytes.NewReader(nil), &failWriter{n: 3}, websocket.Options{})
		err := c.WriteMessage(websocket.OpBinary, []byte("12345"))
		Expect(err).To(MatchError(ContainSubstring("writing a binary frame of 5 bytes: disk on fire")))
		Expect(c.WriteMessage(websocket.OpBinary, nil)).To(BeIdenticalTo(err))
		Expect(c.WritePing(nil)).To(BeIdenticalTo(err))
	})

	It("masks a client's frames, which a server Conn reads back, at every size", func() {
		var wire bytes.Buffer
		cl := websocket.NewConn(bytes.NewReader(nil), &wire, websocket.Options{Client: true})
		sizes := []int{0, 1, 125, 126, 4088, 4089, 65535, 65536, 100000}
		for _, n := range sizes {
			Expect(cl.WriteMessage(websocket.OpBinary, bytes.Repeat([]byte{byte(n)}, n))).To(Succeed())
		}
		Expect(wire.Bytes()[1] & 0x80).To(Equal(byte(0x80)))
		sv := websocket.NewConn(&wire, io.Discard, websocket.Options{})
		for _, n := range sizes {
			op, p, err := sv.ReadMessage()
			Expect(err).NotTo(HaveOccurred())
			Expect(op).To(Equal(websocket.OpBinary))
			Expect(p).To(Equal(bytes.Repeat([]byte{byte(n)}, n)), "size %d", n)
		}
	})

	It("never interleaves frames written from many goroutines while ReadMessage answers pings", func() {
		serverEnd, clientEnd := net.Pipe()
		DeferCleanup(func() { _ = serverEnd.Close() })
		DeferCleanup(func() { _ = clientEnd.Close() })
		sv := websocket.NewConn(serverEnd, serverEnd, websocket.Options{})
		var pongs atomic.Int32
		cl := websocket.NewConn(clientEnd, clientEnd, websocket.Options{Client: true,
			OnPong: func(p []byte) {
				Expect(string(p)).To(Equal("ping"))
				pongs.Add(1)
			}})
		const writers, each, pings = 4, 50, 50
		go func() {
			defer GinkgoRecover()
			for range pings {
				Expect(cl.WritePing([]byte("ping"))).To(Succeed())
			}
			Expect(cl.WriteClose(1000, "")).To(Succeed())
		}()
		go func() { // the server's reader: answers the pings, then the close
			_, _, _ = sv.ReadMessage()
		}()
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				defer GinkgoRecover()
				p := bytes.Repeat([]byte{byte('a' + w)}, 3000+w*2000) // both write paths
				for range each {
					if err := sv.WriteMessage(websocket.OpBinary, p); err != nil {
						Expect(err).To(MatchError(websocket.ErrCloseSent))
						return
					}
				}
			})
		}
		got := 0
		for {
			op, p, err := cl.ReadMessage()
			if err != nil {
				expectEqual(err, &websocket.CloseError{Code: 1000})
				break
			}
			Expect(op).To(Equal(websocket.OpBinary))
			Expect(bytes.Count(p, p[:1])).To(Equal(len(p)), "a frame mixed with another")
			got++
		}
		wg.Wait()
		Expect(got).To(BeNumerically(">", 0))
		Expect(pongs.Load()).To(Equal(int32(pings)))
	})
})
