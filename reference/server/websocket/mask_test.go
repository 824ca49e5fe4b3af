package websocket

import (
	"bytes"
	"testing"
)

// TestMask checks mask against XOR byte by byte, for every length up to
// a few rounds of the widest kernel and every starting position in the key.
// With -tags purego it checks the generic kernel instead of the assembly.
func TestMask(t *testing.T) {
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	for n := 0; n <= 600; n++ {
		for pos := 0; pos < 4; pos++ {
			// Cut from a larger buffer at an odd offset: the kernels use
			// unaligned loads, and must not touch the bytes around.
			buf := make([]byte, n+9)
			for i := range buf {
				buf[i] = byte(i*131 + 7)
			}
			want := bytes.Clone(buf)
			for i := 0; i < n; i++ {
				want[3+i] ^= key[(pos+i)%4]
			}
			mask(buf[3:3+n], key, pos)
			if !bytes.Equal(buf, want) {
				t.Fatalf("mask of %d bytes from key position %d: got %x, want %x", n, pos, buf, want)
			}
		}
	}
}
