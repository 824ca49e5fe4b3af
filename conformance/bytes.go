package conformance

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Bytes is a byte string as fixtures and probe reports write it in JSON: a
// JSON string whose characters are all U+0000-U+00FF, one per byte. Printable
// ASCII stands for itself, so text stays readable; any other byte is written
// \u00XX. The mapping is exact both ways, which makes fixtures binary-safe.
type Bytes string

// MarshalJSON writes b with every byte outside printable ASCII escaped.
func (b Bytes) MarshalJSON() ([]byte, error) {
	var sb strings.Builder
	sb.Grow(len(b) + 2)
	sb.WriteByte('"')
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c == '"' || c == '\\':
			sb.WriteByte('\\')
			sb.WriteByte(c)
		case c >= 0x20 && c <= 0x7e:
			sb.WriteByte(c)
		default:
			fmt.Fprintf(&sb, `\u%04x`, c)
		}
	}
	sb.WriteByte('"')
	return []byte(sb.String()), nil
}

// UnmarshalJSON reads a JSON string whose characters must all be at most
// U+00FF.
func (b *Bytes) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return err
	}
	out, err := Latin1(s)
	if err != nil {
		return err
	}
	*b = Bytes(out)
	return nil
}

// Latin1 maps each character of s (at most U+00FF) to the byte of that
// value: how a decoded JSON string of a fixture or probe report becomes the
// bytes it stands for.
func Latin1(s string) (string, error) {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return s, nil
	}
	out := make([]byte, 0, len(s))
	for i, r := range s {
		if r > 0xff {
			return "", fmt.Errorf("character %q at offset %d is above U+00FF; byte strings hold one byte per character (write other bytes as \\u00XX)", r, i)
		}
		out = append(out, byte(r))
	}
	return string(out), nil
}

// DecodeBytesJSON decodes JSON into a generic value whose strings are the
// bytes they stand for (as Bytes strings would be); numbers stay json.Number.
func DecodeBytesJSON(data []byte) (any, error) {
	var v any
	d := json.NewDecoder(strings.NewReader(string(data)))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return bytesOf(v)
}

func bytesOf(v any) (any, error) {
	switch v := v.(type) {
	case string:
		return Latin1(v)
	case []any:
		for i := range v {
			x, err := bytesOf(v[i])
			if err != nil {
				return nil, err
			}
			v[i] = x
		}
	case map[string]any:
		for k, x := range v {
			y, err := bytesOf(x)
			if err != nil {
				return nil, err
			}
			v[k] = y
		}
	}
	return v, nil
}
