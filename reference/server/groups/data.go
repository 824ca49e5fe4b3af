package groups

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/lasgi/lasgi/spec/event"
)

// The data encoding. Every value is a tag byte and a fixed-size body, so
// the encoded length is the size groups.data.size counts: 5 for a table,
// 5 plus its length for a string, 9 for a number, 1 for a boolean.
//
//	'T' u32 n, then n pairs of key and value   a table
//	'S' u32 len, then len bytes                  a string
//	'I' i64                                      an integer
//	'F' f64 (IEEE 754 bits)                      a float
//	't', 'f'                                     true, false
//
// Integers are little-endian. Data is always a table at the top. An engine
// whose numbers are all floats (gopher-lua, Lua 5.1, LuaJIT) writes an
// integral float that fits an int64 as 'I', so a Lua 5.4 member gets the
// integer the sender meant.
const (
	TagTable  = 'T'
	TagString = 'S'
	TagInt    = 'I'
	TagFloat  = 'F'
	TagTrue   = 't'
	TagFalse  = 'f'
)

// The sizes of the encoding's values, as groups.data.size counts them.
const (
	SizeTable  = 5
	SizeString = 5 // plus the string's length
	SizeNumber = 9
	SizeBool   = 1
)

// An Encoder writes data as an engine walks it: Open a table, write its
// keys and values in turn, Close it with its pair count. Each write
// checks the depth and size bounds (groups.data, groups.data.size) and
// fails with the rule's violation, so a cyclic or huge table is refused
// after at most max bytes of work.
type Encoder struct {
	buf   []byte
	max   int
	depth int
}

// NewEncoder returns an encoder for data of at most max bytes.
func NewEncoder(max int) *Encoder { return &Encoder{max: max} }

// Reset makes e ready for new data, keeping its buffer.
func (e *Encoder) Reset(max int) { e.buf, e.max, e.depth = e.buf[:0], max, 0 }

func (e *Encoder) grow(n int) error {
	if len(e.buf)+n > e.max {
		return TooLarge(e.max)
	}
	return nil
}

// Open starts a table; mark is for Close.
func (e *Encoder) Open() (mark int, err error) {
	if e.depth >= event.MaxGroupDepth {
		return 0, TooDeep()
	}
	if err := e.grow(SizeTable); err != nil {
		return 0, err
	}
	e.depth++
	mark = len(e.buf)
	e.buf = append(e.buf, TagTable, 0, 0, 0, 0)
	return mark, nil
}

// Close ends the table Open began at mark, which has pairs key-value pairs.
func (e *Encoder) Close(mark, pairs int) {
	binary.LittleEndian.PutUint32(e.buf[mark+1:], uint32(pairs))
	e.depth--
}

// String writes s.
func (e *Encoder) String(s string) error {
	if err := e.grow(SizeString + len(s)); err != nil {
		return err
	}
	e.buf = append(e.buf, TagString)
	e.buf = binary.LittleEndian.AppendUint32(e.buf, uint32(len(s)))
	e.buf = append(e.buf, s...)
	return nil
}

// Integer writes i.
func (e *Encoder) Integer(i int64) error {
	if err := e.grow(SizeNumber); err != nil {
		return err
	}
	e.buf = append(e.buf, TagInt)
	e.buf = binary.LittleEndian.AppendUint64(e.buf, uint64(i))
	return nil
}

// Float writes f.
func (e *Encoder) Float(f float64) error {
	if err := e.grow(SizeNumber); err != nil {
		return err
	}
	e.buf = append(e.buf, TagFloat)
	e.buf = binary.LittleEndian.AppendUint64(e.buf, math.Float64bits(f))
	return nil
}

// Number writes a number of an engine without integers: as an integer when
// it is one that fits an int64, else as a float.
func (e *Encoder) Number(f float64) error {
	if f == math.Trunc(f) && f >= -(1<<63) && f < 1<<63 {
		return e.Integer(int64(f))
	}
	return e.Float(f)
}

// Bool writes b.
func (e *Encoder) Bool(b bool) error {
	if err := e.grow(SizeBool); err != nil {
		return err
	}
	if b {
		e.buf = append(e.buf, TagTrue)
	} else {
		e.buf = append(e.buf, TagFalse)
	}
	return nil
}

// Data returns the encoded data, a copy the encoder no longer touches.
func (e *Encoder) Data() string { return string(e.buf) }

// TooLarge is the groups.data.size violation of data past max bytes. An
// engine that encodes data itself (clua, in C) reports it with this, so
// that every engine says the same.
func TooLarge(max int) error {
	return event.Violationf(event.RuleGroupsDataSize,
		"data is larger than max_message_bytes, %d bytes, as groups.md counts it", max)
}

// TooDeep is the groups.data violation of data nested more than
// event.MaxGroupDepth tables deep.
func TooDeep() error {
	return event.Violationf(event.RuleGroupsData,
		"data nests tables more than %d deep (a table that holds itself nests without end)", event.MaxGroupDepth)
}

// BadKey is the groups.data violation of a key of the kind described
// (luatype.Describe), at depth.
func BadKey(described string) error {
	return event.Violationf(event.RuleGroupsData, "data keys must be strings or numbers other than NaN, found a key %s", described)
}

// BadValue is the groups.data violation of a value of the kind described.
func BadValue(described string) error {
	return event.Violationf(event.RuleGroupsData, "data values must be strings, numbers, booleans or tables, found %s", described)
}

// NotTable is the groups.data violation of data that is not a table.
func NotTable(described string) error {
	return event.Violationf(event.RuleGroupsData, "data must be a table, got %s", described)
}

// ErrCorrupt is what a Reader reports for bytes that are not data; it
// means a bug in an encoder, never an app's mistake.
var ErrCorrupt = errors.New("groups: corrupt data encoding")

// A Reader reads encoded data value by value. An engine builds its tables
// by calling Next and, for a table, reading Pairs() keys and values.
type Reader struct {
	data string
	off  int
	err  error
}

// NewReader reads data.
func NewReader(data string) *Reader { return &Reader{data: data} }

// Value is one value read: Tag says which field holds it (Pairs for a
// table, whose pairs follow).
type Value struct {
	Tag   byte
	Pairs int
	Str   string
	Int   int64
	Float float64
}

// Next reads the next value; ok is false at the end or on corrupt bytes
// (Err tells).
func (r *Reader) Next() (v Value, ok bool) {
	if r.err != nil || r.off >= len(r.data) {
		return v, false
	}
	v.Tag = r.data[r.off]
	r.off++
	need := 0
	switch v.Tag {
	case TagTable, TagString:
		need = 4
	case TagInt, TagFloat:
		need = 8
	}
	if len(r.data)-r.off < need {
		r.err = ErrCorrupt
		return v, false
	}
	switch v.Tag {
	case TagTable, TagString:
		n := int(binary.LittleEndian.Uint32([]byte(r.data[r.off : r.off+4])))
		r.off += 4
		if v.Tag == TagTable {
			// Each pair takes two bytes at least: a count past that is
			// corrupt, and must not size a table an engine makes.
			if n > (len(r.data)-r.off)/2 {
				r.err = fmt.Errorf("%w: a table of %d pairs in %d bytes", ErrCorrupt, n, len(r.data)-r.off)
				return v, false
			}
			v.Pairs = n
			break
		}
		if len(r.data)-r.off < n {
			r.err = ErrCorrupt
			return v, false
		}
		v.Str = r.data[r.off : r.off+n]
		r.off += n
	case TagInt:
		v.Int = int64(binary.LittleEndian.Uint64([]byte(r.data[r.off : r.off+8])))
		r.off += 8
	case TagFloat:
		v.Float = math.Float64frombits(binary.LittleEndian.Uint64([]byte(r.data[r.off : r.off+8])))
		r.off += 8
	case TagTrue, TagFalse:
	default:
		r.err = fmt.Errorf("%w: tag %q at byte %d", ErrCorrupt, v.Tag, r.off)
		return v, false
	}
	return v, true
}

// Err is the error that ended reading, if any.
func (r *Reader) Err() error { return r.err }

// Decode reads data into Go values, for tests and tools: a table becomes a
// map[any]any, a string a string, an integer an int64, a float a float64.
// A key that is not a string or a number other than NaN is ErrCorrupt, as
// any other bytes no encoder writes.
func Decode(data string) (any, error) {
	r := NewReader(data)
	v, err := decodeValue(r, 0)
	if err == nil && r.off != len(data) {
		err = fmt.Errorf("%w: %d bytes after the data", ErrCorrupt, len(data)-r.off)
	}
	return v, err
}

func decodeValue(r *Reader, depth int) (any, error) {
	v, ok := r.Next()
	if !ok {
		if r.err != nil {
			return nil, r.err
		}
		return nil, fmt.Errorf("%w: ends early", ErrCorrupt)
	}
	switch v.Tag {
	case TagTable:
		if depth >= event.MaxGroupDepth {
			return nil, fmt.Errorf("%w: nested too deep", ErrCorrupt)
		}
		m := make(map[any]any, v.Pairs)
		for i := 0; i < v.Pairs; i++ {
			k, err := decodeValue(r, depth+1)
			if err != nil {
				return nil, err
			}
			switch k := k.(type) {
			case string, int64:
			case float64:
				if k != k {
					return nil, fmt.Errorf("%w: a NaN key", ErrCorrupt)
				}
			default:
				// No encoder writes one (groups.data), and a table would not
				// do as a Go map's key.
				return nil, fmt.Errorf("%w: a key of Go type %T (a table or a boolean)", ErrCorrupt, k)
			}
			val, err := decodeValue(r, depth+1)
			if err != nil {
				return nil, err
			}
			m[k] = val
		}
		return m, nil
	case TagString:
		return v.Str, nil
	case TagInt:
		return v.Int, nil
	case TagFloat:
		return v.Float, nil
	default:
		return v.Tag == TagTrue, nil
	}
}
