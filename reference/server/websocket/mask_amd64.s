//go:build amd64 && !purego

#include "textflag.h"

// func maskSSE2(b []byte, key uint64)
// XORs b with key broadcast to 16 bytes: 64 bytes a round, then 16.
// len(b) is a multiple of 16.
TEXT ·maskSSE2(SB), NOSPLIT, $0-32
	MOVQ b_base+0(FP), SI
	MOVQ b_len+8(FP), CX
	MOVQ key+24(FP), AX
	MOVQ AX, X0
	PUNPCKLQDQ X0, X0
	CMPQ CX, $64
	JB   sse16

sse64:
	MOVOU (SI), X1
	MOVOU 16(SI), X2
	MOVOU 32(SI), X3
	MOVOU 48(SI), X4
	PXOR  X0, X1
	PXOR  X0, X2
	PXOR  X0, X3
	PXOR  X0, X4
	MOVOU X1, (SI)
	MOVOU X2, 16(SI)
	MOVOU X3, 32(SI)
	MOVOU X4, 48(SI)
	ADDQ  $64, SI
	SUBQ  $64, CX
	CMPQ  CX, $64
	JAE   sse64

sse16:
	CMPQ  CX, $16
	JB    ssedone
	MOVOU (SI), X1
	PXOR  X0, X1
	MOVOU X1, (SI)
	ADDQ  $16, SI
	SUBQ  $16, CX
	JMP   sse16

ssedone:
	RET

// func maskAVX2(b []byte, key uint64)
// XORs b with key broadcast to 32 bytes: 128 bytes a round, then 32, then
// 16. len(b) is a multiple of 16. Only called when the CPU and the OS
// support AVX2.
TEXT ·maskAVX2(SB), NOSPLIT, $0-32
	MOVQ b_base+0(FP), SI
	MOVQ b_len+8(FP), CX
	MOVQ key+24(FP), AX
	MOVQ AX, X0
	VPBROADCASTQ X0, Y0
	CMPQ CX, $128
	JB   avx32

avx128:
	VPXOR   (SI), Y0, Y1
	VPXOR   32(SI), Y0, Y2
	VPXOR   64(SI), Y0, Y3
	VPXOR   96(SI), Y0, Y4
	VMOVDQU Y1, (SI)
	VMOVDQU Y2, 32(SI)
	VMOVDQU Y3, 64(SI)
	VMOVDQU Y4, 96(SI)
	ADDQ    $128, SI
	SUBQ    $128, CX
	CMPQ    CX, $128
	JAE     avx128

avx32:
	CMPQ    CX, $32
	JB      avx16
	VPXOR   (SI), Y0, Y1
	VMOVDQU Y1, (SI)
	ADDQ    $32, SI
	SUBQ    $32, CX
	JMP     avx32

avx16:
	CMPQ    CX, $16
	JB      avxdone
	VPXOR   (SI), X0, X1
	VMOVDQU X1, (SI)

avxdone:
	VZEROUPPER
	RET
