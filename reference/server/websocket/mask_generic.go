//go:build !amd64 || purego

package websocket

import "encoding/binary"

// maskBlocks XORs b, whose length is a multiple of 16, with key, the
// masking key twice over in little-endian order, eight bytes at a time.
func maskBlocks(b []byte, key uint64) {
	for len(b) >= 16 {
		_ = b[15]
		binary.LittleEndian.PutUint64(b, binary.LittleEndian.Uint64(b)^key)
		binary.LittleEndian.PutUint64(b[8:], binary.LittleEndian.Uint64(b[8:])^key)
		b = b[16:]
	}
}
