//go:build !unix

package websocket

import "syscall"

// rawReader is unix only: elsewhere an inbuf reads its source's Read.
type rawReader struct{}

func newRawReader(syscall.Conn) *rawReader { return nil }

func (*rawReader) read([]byte, **[]byte) (int, error) { panic("unreachable") }
