package websocket_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/reference/server/websocket"
)

// The read buffer a Conn over a socket holds only while bytes wait in it
// (inbuf.go, rawread_unix.go): what it reads must not depend on where the
// bytes were cut.
var _ = Describe("reading a socket through the pooled buffer", func() {
	It("reads Options.Pending first, then the socket, whole messages of any size cut anywhere", func() {
		serverEnd, clientEnd := tcpPair()
		big := bytes.Repeat([]byte("0123456789abcdef"), 1<<12) // 64 KiB: past the buffer, read straight into the message
		stream := join(
			client(fin|opText, []byte("first")),
			client(opBinary, big[:5000]), client(fin|opCont, big[5000:]),
			client(fin|opText, []byte("last")),
			client(fin|opClose, closePayload(1000, "done")),
		)
		pending := stream[:9] // the first frame and a bit of the next, as a handshake's buffer holds them
		c := websocket.NewConn(serverEnd, serverEnd, websocket.Options{Pending: bytes.Clone(pending)})
		go func() {
			defer GinkgoRecover()
			for rest := stream[len(pending):]; len(rest) > 0; {
				n := min(len(rest), 1+len(rest)%4093)
				_, err := clientEnd.Write(rest[:n])
				Expect(err).NotTo(HaveOccurred())
				rest = rest[n:]
			}
		}()
		var got []message
		for {
			op, p, err := c.ReadMessage()
			if err != nil {
				var ce *websocket.CloseError
				Expect(errors.As(err, &ce)).To(BeTrue(), "want the close, got %v", err)
				Expect(ce.Code).To(Equal(1000))
				Expect(ce.Reason).To(Equal("done"))
				break
			}
			got = append(got, message{op, string(p)})
		}
		expectEqual(got, []message{{websocket.OpText, "first"}, {websocket.OpBinary, string(big)}, {websocket.OpText, "last"}})
	})

	It("ends with io.EOF when the peer closes between frames, and holds the socket's read deadline", func() {
		serverEnd, clientEnd := tcpPair()
		c := websocket.NewConn(serverEnd, serverEnd, websocket.Options{})
		Expect(serverEnd.SetReadDeadline(time.Now())).To(Succeed())
		_, _, err := c.ReadMessage()
		Expect(errors.Is(err, os.ErrDeadlineExceeded)).To(BeTrue(), "want the deadline, got %v", err)

		serverEnd, clientEnd = tcpPair()
		c = websocket.NewConn(serverEnd, serverEnd, websocket.Options{})
		_, err = clientEnd.Write(client(fin|opText, []byte("one")))
		Expect(err).NotTo(HaveOccurred())
		_, p, err := c.ReadMessage()
		Expect(err).NotTo(HaveOccurred())
		Expect(string(p)).To(Equal("one"))
		Expect(clientEnd.Close()).To(Succeed())
		_, _, err = c.ReadMessage()
		Expect(errors.Is(err, io.EOF)).To(BeTrue(), "want io.EOF, got %v", err)
	})

	It("returns from a read when the socket is closed under it", func() {
		serverEnd, _ := tcpPair()
		c := websocket.NewConn(serverEnd, serverEnd, websocket.Options{})
		done := make(chan error, 1)
		go func() {
			_, _, err := c.ReadMessage()
			done <- err
		}()
		Expect(serverEnd.Close()).To(Succeed())
		Eventually(done, ioDeadline).Should(Receive(HaveOccurred()))
	})
})
