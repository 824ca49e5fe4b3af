package websocket_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"time"

	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/reference/server/websocket"
)

// Frames built by hand, byte by byte as RFC 6455 section 5.2 lays them
// out, so that the tests do not trust the code they test to encode them.

// exampleKey is the masking key of RFC 6455 section 5.7's masked examples.
var exampleKey = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// Bits of a frame's first byte.
const (
	fin  = 0x80
	rsv1 = 0x40
	rsv2 = 0x20
	rsv3 = 0x10
)

// rawFrame builds a frame: first byte b0 (FIN, RSV bits, opcode), the
// payload masked with key when masked, its length in the fewest bytes.
func rawFrame(b0 byte, masked bool, key [4]byte, payload []byte) []byte {
	f := []byte{b0}
	var m byte
	if masked {
		m = 0x80
	}
	switch n := len(payload); {
	case n <= 125:
		f = append(f, m|byte(n))
	case n <= 0xffff:
		f = append(f, m|126)
		f = binary.BigEndian.AppendUint16(f, uint16(n))
	default:
		f = append(f, m|127)
		f = binary.BigEndian.AppendUint64(f, uint64(n))
	}
	if !masked {
		return append(f, payload...)
	}
	f = append(f, key[:]...)
	for i, c := range payload {
		f = append(f, c^key[i%4])
	}
	return f
}

// client is a masked client frame with the example key.
func client(b0 byte, payload []byte) []byte { return rawFrame(b0, true, exampleKey, payload) }

// server is an unmasked server frame.
func server(b0 byte, payload []byte) []byte { return rawFrame(b0, false, [4]byte{}, payload) }

// closePayload is a close frame's payload: the code, big-endian, and reason.
func closePayload(code uint16, reason string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, code), reason...)
}

// join concatenates frames into one stream.
func join(frames ...[]byte) []byte { return bytes.Join(frames, nil) }

// ioDeadline bounds every network step of these tests.
const ioDeadline = 10 * time.Second

// tcpPair is the two ends of a loopback TCP connection, with deadlines,
// closed when the spec ends.
func tcpPair() (serverEnd, clientEnd net.Conn) {
	GinkgoHelper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	clientEnd, err = net.DialTimeout("tcp", ln.Addr().String(), ioDeadline)
	Expect(err).NotTo(HaveOccurred())
	serverEnd = <-accepted
	Expect(serverEnd).NotTo(BeNil())
	for _, c := range []net.Conn{serverEnd, clientEnd} {
		Expect(c.SetDeadline(time.Now().Add(ioDeadline))).To(Succeed())
		DeferCleanup(func() { _ = c.Close() }) // a test may have closed it already
	}
	return serverEnd, clientEnd
}

// expectEqual compares structured values with go-cmp.
func expectEqual(got, want any) {
	GinkgoHelper()
	if diff := cmp.Diff(want, got); diff != "" {
		Fail("mismatch (-want +got):\n" + diff)
	}
}

// connOver is a server Conn reading stream, writing into the returned
// buffer.
func connOver(stream []byte, opts websocket.Options) (*websocket.Conn, *bytes.Buffer) {
	out := new(bytes.Buffer)
	return websocket.NewConn(bytes.NewReader(stream), out, opts), out
}

// message is a message ReadMessage returned, payload copied.
type message struct {
	Op      websocket.Opcode
	Payload string
}

// readAll reads messages off stream until an error, and returns them, what
// the Conn wrote, and the error.
func readAll(stream []byte, opts websocket.Options) ([]message, []byte, error) {
	c, out := connOver(stream, opts)
	var msgs []message
	for {
		op, p, err := c.ReadMessage()
		if err != nil {
			return msgs, out.Bytes(), err
		}
		msgs = append(msgs, message{op, string(p)})
	}
}

// protocolErrorOf reads stream to its first error, which must be a
// *ProtocolError, and returns it.
func protocolErrorOf(stream []byte, opts websocket.Options) *websocket.ProtocolError {
	GinkgoHelper()
	_, _, err := readAll(stream, opts)
	var pe *websocket.ProtocolError
	Expect(errors.As(err, &pe)).To(BeTrue(), "want a *ProtocolError, got %v", err)
	return pe
}
