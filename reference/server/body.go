package server

import (
	"bufio"
	"errors"
	"io"
	"strconv"

	"github.com/lasgi/lasgi/reference/server/internal/mutant"
)

// bodyReader reads a request body off the connection: a fixed length, or
// chunked transfer coding. It stops at the end of the body and never reads
// into the next request.
type bodyReader struct {
	br         *bufio.Reader
	chunked    bool
	remaining  int64 // fixed: bytes left; chunked: bytes left in this chunk
	limit      int64 // max body bytes, 0 for none
	total      int64
	done       bool
	trailerMax int
	fault      mutant.Fault
}

var errBodyTooLarge = &httpError{413, "request body too large"}

func newBodyReader(br *bufio.Reader, r *request, limit int64, maxHeader int) *bodyReader {
	b := &bodyReader{br: br, chunked: r.chunked, limit: limit, trailerMax: maxHeader}
	if !r.chunked {
		b.remaining = max(r.contentLength, 0)
		b.done = b.remaining == 0
	}
	return b
}

// Done reports whether the whole body has been read.
func (b *bodyReader) Done() bool { return b.done }

// Read reads body bytes. It returns io.EOF at the end of the body; a
// malformed chunked body or a body over the limit gives an *httpError.
func (b *bodyReader) Read(p []byte) (int, error) {
	if b.done {
		return 0, io.EOF
	}
	if b.chunked && b.remaining == 0 {
		if err := b.nextChunk(); err != nil {
			return 0, err
		}
		if b.done {
			return 0, io.EOF
		}
	}
	if int64(len(p)) > b.remaining {
		p = p[:b.remaining]
	}
	n, err := b.br.Read(p)
	b.remaining -= int64(n)
	b.total += int64(n)
	if err == io.EOF {
		return n, io.ErrUnexpectedEOF
	}
	if err != nil {
		return n, err
	}
	if b.remaining == 0 {
		if b.chunked {
			if err := b.chunkEnd(); err != nil {
				return n, err
			}
		} else {
			b.done = true
		}
	}
	return n, nil
}

// Buffered reports whether the rest of the body is already in memory.
func (b *bodyReader) Buffered() bool {
	return !b.chunked && int64(b.br.Buffered()) >= b.remaining
}

// maxChunkLine bounds a chunk size line with its extensions.
const maxChunkLine = 4096

func (b *bodyReader) nextChunk() error {
	// A chunk line (size and extensions) is bounded like a header line; the
	// extensions are ignored, the size must start the line (RFC 9112
	// section 7.1: no whitespace before it, BWS only before a ";"). A bare
	// LF ends a line as CRLF does, as in the header section.
	budget := maxChunkLine
	line, err := readLine(b.br, &budget)
	if errors.Is(err, errHeaderTooLarge) {
		return badRequest("chunk size line longer than " + strconv.Itoa(maxChunkLine) + " bytes (chunk extensions are not kept)")
	}
	if err != nil {
		return chunkErr(err)
	}
	if i := indexByte(line, ';'); i >= 0 {
		line = line[:i]
	}
	if len(line) > 0 && (line[0] == ' ' || line[0] == '\t') {
		return badRequest("whitespace before the chunk size")
	}
	line = trimOWS(line)
	size, err := strconv.ParseUint(string(line), chunkBase(b.fault, mutant.ChunkSizeDecimal), 63)
	if err != nil || len(line) == 0 || len(line) > 15 {
		return badRequest("malformed chunk size " + strconv.Quote(string(line)))
	}
	if size == 0 {
		// Trailer section: read and drop it (the request scope has no place
		// for trailers in this version of the spec).
		budget := b.trailerMax
		for {
			line, err := readLine(b.br, &budget)
			if err != nil {
				if errors.Is(err, errHeaderTooLarge) {
					return &httpError{431, "request trailer section too large"}
				}
				return chunkErr(err)
			}
			if len(line) == 0 {
				b.done = true
				return nil
			}
		}
	}
	if b.limit > 0 && b.total+int64(size) > b.limit {
		return errBodyTooLarge
	}
	b.remaining = int64(size)
	return nil
}

func (b *bodyReader) chunkEnd() error {
	budget := 2
	line, err := readLine(b.br, &budget)
	if err != nil || len(line) != 0 {
		if err != nil && !errors.Is(err, errHeaderTooLarge) {
			return chunkErr(err)
		}
		return badRequest("chunk data not followed by CRLF")
	}
	return nil
}

func chunkErr(err error) error {
	if errors.Is(err, errClosed) {
		return io.ErrUnexpectedEOF
	}
	return err
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}
