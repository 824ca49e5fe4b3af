package websocket_test

import (
	"bytes"
	"context"
	"errors"

	cws "github.com/coder/websocket"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/reference/server/websocket"
)

// Interop with another implementation: github.com/coder/websocket, a test-only
// dependency, as the client of the test echo server.
var _ = Describe("against github.com/coder/websocket as the client", func() {
	const max = 256 << 10
	var (
		s   *echoServer
		ctx context.Context
	)
	BeforeEach(func() {
		s = startEcho(websocket.Options{MaxMessageSize: max})
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.Background(), ioDeadline)
		DeferCleanup(cancel)
	})

	dial := func(opts *cws.DialOptions) *cws.Conn {
		GinkgoHelper()
		c, _, err := cws.Dial(ctx, s.url(), opts)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { _ = c.CloseNow() })
		c.SetReadLimit(1 << 20) // its default is 32 KiB
		return c
	}

	It("echoes text, binary and a 100 KiB message, and closes with 4001 and a reason", func() {
		c := dial(&cws.DialOptions{Subprotocols: []string{"chat"}})
		Expect(c.Subprotocol()).To(Equal("chat"))
		big := bytes.Repeat([]byte("lasgi 0123456789"), 100<<10/16)
		for _, m := range []struct {
			typ cws.MessageType
			p   []byte
		}{{cws.MessageText, []byte("héllo wörld")}, {cws.MessageBinary, []byte{0, 1, 0xfe, 0xff}}, {cws.MessageBinary, big}, {cws.MessageText, []byte{}}} {
			Expect(c.Write(ctx, m.typ, m.p)).To(Succeed())
			typ, p, err := c.Read(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(typ).To(Equal(m.typ))
			Expect(bytes.Equal(p, m.p)).To(BeTrue(), "echo of %d bytes differs", len(m.p))
		}
		Expect(c.Close(4001, "client done")).To(Succeed())
		expectEqual(s.nextEnd(), &websocket.CloseError{Code: 4001, Reason: "client done"})
	})

	It("answers its ping", func() {
		c := dial(nil)
		// Its Ping waits for a pong that a concurrent Read takes in.
		readDone := make(chan error, 1)
		go func() {
			_, _, err := c.Read(ctx)
			readDone <- err
		}()
		Expect(c.Ping(ctx)).To(Succeed())
		Expect(c.Ping(ctx)).To(Succeed())
		Expect(c.Close(cws.StatusNormalClosure, "")).To(Succeed())
		Eventually(readDone).WithTimeout(ioDeadline).Should(Receive())
		expectEqual(s.nextEnd(), &websocket.CloseError{Code: 1000})
	})

	It("is closed with 1009 when it sends past the limit", func() {
		c := dial(nil)
		Expect(c.Write(ctx, cws.MessageBinary, make([]byte, max+1))).To(Succeed())
		_, _, err := c.Read(ctx)
		Expect(cws.CloseStatus(err)).To(Equal(cws.StatusMessageTooBig), "got %v", err)
		var ce cws.CloseError
		Expect(errors.As(err, &ce)).To(BeTrue())
		Expect(ce.Reason).To(Equal("message past the limit of 262144 bytes"))
		var pe *websocket.ProtocolError
		Expect(errors.As(s.nextEnd(), &pe)).To(BeTrue())
		Expect(pe.Code).To(Equal(1009))
	})
})
