//go:build amd64 && !purego

package websocket

import "golang.org/x/sys/cpu"

// useAVX2 says whether the CPU and the OS support AVX2 (x/sys/cpu checks
// both).
var useAVX2 = cpu.X86.HasAVX2

// maskBlocks XORs b, whose length is a multiple of 16, with key, the
// masking key twice over in little-endian order: with AVX2 where there is
// AVX2, else with SSE2, which every amd64 CPU has (mask_amd64.s). SSE2
// masks a 64 KiB payload about twice as fast as eight bytes at a time in Go
// (mask_generic.go), AVX2 a little faster again.
func maskBlocks(b []byte, key uint64) {
	if useAVX2 && len(b) >= 128 {
		maskAVX2(b, key)
		return
	}
	maskSSE2(b, key)
}

//go:noescape
func maskSSE2(b []byte, key uint64)

//go:noescape
func maskAVX2(b []byte, key uint64)
