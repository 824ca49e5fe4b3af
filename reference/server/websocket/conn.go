package websocket

import (
	"bufio"
	"io"
	"net"
	"sync"

	"github.com/lasgi/lasgi/reference/server/internal/mutant"
)

// DefaultMaxMessageSize is the message limit of a Conn whose
// Options.MaxMessageSize is 0: 1 MiB, as in the Python websockets library.
const DefaultMaxMessageSize = 1 << 20

// Options configure a Conn. The zero value is a server end with the default
// message limit.
type Options struct {
	// MaxMessageSize bounds the payload of one data message, all its
	// fragments together, in bytes. A frame that would take a message past
	// it ends reading with a *ProtocolError of code 1009 before its payload
	// is read. 0 means DefaultMaxMessageSize.
	MaxMessageSize int64

	// OnPong, when set, is called by ReadMessage for each pong frame
	// received, with its payload, which is valid only during the call. A
	// server's keep-alive (spec rule websocket.receive.keepalive) can note
	// there that the peer still answers.
	OnPong func(payload []byte)

	// Client makes the Conn the client end of the connection: it masks the
	// frames it writes, with keys from crypto/rand, and refuses masked
	// frames from the server. For load generators and tests; the reference
	// server never sets it.
	Client bool

	// Pending holds bytes already read from NewConn's reader that come
	// before its next ones: what a handshake's buffered reader held past
	// the request. The Conn reads them first; it ignores them when the
	// reader is a *bufio.Reader.
	Pending []byte

	// Fault is the reference server's injected fault (its mutants of the
	// frame layer); the zero Fault, the only one code outside
	// reference/server can give, injects none.
	Fault mutant.Fault
}

// Conn is one end of a WebSocket connection after the opening handshake.
//
// One goroutine at a time may call ReadMessage. The Write methods may be
// called from any goroutine, also while another is in ReadMessage: they and
// the pong or close frames ReadMessage writes itself take one lock, and
// each frame goes to the writer in one Write call (or one writev through
// net.Buffers for large payloads), so frames never interleave.
//
// Conn neither sets deadlines nor closes the transport: its owner does,
// after the closing handshake or a *ProtocolError.
type Conn struct {
	in     io.Reader // a *bufio.Reader given to NewConn, or an *inbuf
	max    int64
	client bool
	onPong func([]byte)
	fault  mutant.Fault
	// fragOp is the opcode of a message whose fragments are returned one
	// by one (mutant.WSFragmentsSeparate only).
	fragOp Opcode

	// Read side, owned by the goroutine in ReadMessage.
	msg    []byte // the message being read; returned to the caller
	frames int64  // frames read so far, for error positions
	rerr   error  // sticky: once set, every ReadMessage returns it
	rhdr   [maxHeaderSize]byte
	ctrl   [MaxControlPayload]byte

	// Write side, under wmu.
	wmu       sync.Mutex
	w         io.Writer
	closeSent bool
	werr      error // sticky: a failed Write may have left half a frame
	whdr      [maxHeaderSize]byte
	wkey      [4]byte
	bufArr    [2][]byte
	bufs      net.Buffers
}

// NewConn returns a Conn reading frames from r and writing them to w. When
// r is a *bufio.Reader it is used as it is, with whatever bytes it already
// holds past the handshake; otherwise NewConn reads r (after
// Options.Pending) through a pooled 4 KiB buffer that it holds only while
// bytes wait in it: a Conn over a net.Conn (a syscall.Conn) waiting for the
// peer's next frame holds no read buffer, which is what an idle connection
// costs the most. w is typically the net.Conn itself: Conn does its own
// buffering of each frame.
func NewConn(r io.Reader, w io.Writer, opts Options) *Conn {
	in, ok := r.(*bufio.Reader)
	var src io.Reader = in
	if !ok {
		src = newInbuf(r, opts.Pending)
	}
	max := opts.MaxMessageSize
	if max <= 0 {
		max = DefaultMaxMessageSize
	}
	return &Conn{in: src, w: w, max: max, client: opts.Client, onPong: opts.OnPong, fault: opts.Fault}
}

// MaxMessageSize is the message limit this Conn reads with.
func (c *Conn) MaxMessageSize() int64 { return c.max }
