//go:build unix

package websocket

import (
	"os"
	"syscall"
)

// rawReader reads a socket through its syscall.RawConn, as net.Conn.Read
// does (the read deadline holds, a Close wakes it), but waiting for bytes
// without a buffer: the netpoller waits, and the buffer is taken from the
// pool only once the socket has bytes. Its callback is made once, so a
// read allocates nothing.
type rawReader struct {
	raw syscall.RawConn
	fn  func(fd uintptr) bool // r.readFD

	// The read in progress, for fn.
	p    []byte
	bp   *[]byte
	n    int
	serr error
}

// newRawReader returns a rawReader for sc, or nil when sc has no RawConn.
func newRawReader(sc syscall.Conn) *rawReader {
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	r := &rawReader{raw: raw}
	r.fn = r.readFD
	return r
}

// read reads once from the socket into p, or, when p is nil, into a
// buffer from the pool, left in *bp when bytes were read (and put back
// otherwise). A socket at its end reads (0, nil).
func (r *rawReader) read(p []byte, bp **[]byte) (int, error) {
	r.p, r.bp, r.n, r.serr = p, nil, 0, nil
	err := r.raw.Read(r.fn)
	n, serr, pooled := r.n, r.serr, r.bp
	r.p, r.bp, r.serr = nil, nil, nil
	if pooled != nil {
		*bp = pooled
	}
	switch {
	case err != nil:
		return 0, err
	case serr != nil:
		return 0, os.NewSyscallError("read", serr)
	}
	return n, nil
}

// readFD is the RawConn callback: one read(2), false to wait for the
// poller on EAGAIN, with no buffer held.
func (r *rawReader) readFD(fd uintptr) bool {
	b := r.p
	var pooled *[]byte
	if b == nil {
		pooled = writeBufs.Get().(*[]byte)
		b = *pooled
	}
	var n int
	var err error
	for {
		n, err = syscall.Read(int(fd), b)
		if err != syscall.EINTR {
			break
		}
	}
	if err == syscall.EAGAIN {
		if pooled != nil {
			writeBufs.Put(pooled)
		}
		return false
	}
	if n < 0 {
		n = 0
	}
	if pooled != nil {
		if n > 0 {
			r.bp = pooled
		} else {
			writeBufs.Put(pooled)
		}
	}
	r.n, r.serr = n, err
	return true
}
