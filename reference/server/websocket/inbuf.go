package websocket

import (
	"io"
	"syscall"
)

// inbuf is a Conn's read buffer when NewConn was not given a
// *bufio.Reader: a pooled buffer (writeBufs', 4 KiB) held only while bytes
// wait in it. Once a read has taken its last byte it goes back to the pool,
// so a connection waiting for the peer's next frame holds none: on a
// socket (a syscall.Conn) the wait for bytes is the netpoller's, through
// syscall.RawConn, and the buffer is taken only when they are there
// (rawread_unix.go). Elsewhere a read blocks in the source's Read with the
// buffer taken.
type inbuf struct {
	src  io.Reader
	raw  *rawReader // src's, when it is a socket; nil otherwise
	pre  []byte     // bytes read from src before the Conn (past a handshake), read first
	b    *[]byte    // the pooled buffer; nil when empty
	r, w int        // (*b)[r:w] is what waits
}

func newInbuf(src io.Reader, pre []byte) *inbuf {
	in := &inbuf{src: src}
	if len(pre) > 0 {
		in.pre = pre
	}
	if sc, ok := src.(syscall.Conn); ok {
		in.raw = newRawReader(sc)
	}
	return in
}

// Read reads as bufio.Reader does: from what waits, else with one read
// from the source, straight into p when p is as large as the buffer.
func (in *inbuf) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if in.pre != nil {
		n := copy(p, in.pre)
		in.pre = in.pre[n:]
		if len(in.pre) == 0 {
			in.pre = nil
		}
		return n, nil
	}
	if in.b == nil {
		if len(p) >= writeBufSize {
			return in.read(p, nil)
		}
		var bp *[]byte
		n, err := in.read(nil, &bp)
		if n == 0 {
			return 0, err
		}
		in.b, in.r, in.w = bp, 0, n
		// An error with bytes is the next Read's, as the source gives it
		// again (a socket's end, its reset, a closed connection).
	}
	n := copy(p, (*in.b)[in.r:in.w])
	in.r += n
	if in.r == in.w {
		writeBufs.Put(in.b)
		in.b = nil
	}
	return n, nil
}

// read reads once from the source into p, or, when p is nil, into a
// buffer from the pool that it leaves in *bp when it read bytes (and puts
// back otherwise). Zero bytes without an error is io.EOF.
func (in *inbuf) read(p []byte, bp **[]byte) (n int, err error) {
	if in.raw != nil {
		n, err = in.raw.read(p, bp)
	} else {
		var b *[]byte
		if p == nil {
			b = writeBufs.Get().(*[]byte)
			p = *b
		}
		for n == 0 && err == nil { // io.Reader allows (0, nil): read again
			n, err = in.src.Read(p)
		}
		if b != nil {
			if n > 0 {
				*bp = b
			} else {
				writeBufs.Put(b)
			}
		}
	}
	if n == 0 && err == nil {
		err = io.EOF
	}
	return n, err
}
