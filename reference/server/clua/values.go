//go:build lua54 || luajit

package clua

// #include "lasgi.h"
import "C"

import (
	"strconv"
	"strings"
	"unsafe"

	"github.com/lasgi/lasgi/reference/server/luatype"
)

// fieldIndex is the place of each key of an event among the root node's
// children: the order of fields in lasgi.c (-1: a key C does not read).
func fieldIndex(key string) int {
	switch key {
	case "type":
		return 0
	case "status":
		return 1
	case "headers":
		return 2
	case "body":
		return 3
	case "more_body":
		return 4
	case "trailers":
		return 5
	case "more_trailers":
		return 6
	case "subprotocol":
		return 7
	case "text":
		return 8
	case "bytes":
		return 9
	case "code":
		return 10
	case "reason":
		return 11
	case "message":
		return 12
	case "timeout":
		return 13
	case "group":
		return kGroup
	case "data":
		return fieldData
	}
	return -1
}

// cval is a value of the event an app sent, as lasgi.c read it into nodes
// (valid only during the send callback). i < 0 is nil: a key the C side
// did not read, or one that was absent.
type cval struct {
	nodes []C.lasgi_node
	i     int
}

var _ luatype.Value[cval] = cval{}

func (v cval) node() *C.lasgi_node { return &v.nodes[v.i] }

func (v cval) at(i int) cval { return cval{v.nodes, i} }

func (v cval) Kind() luatype.Kind {
	if v.i < 0 {
		return luatype.Nil
	}
	return luatype.Kind(v.node().kind)
}

// raw is the node's string, in Lua's memory: not to be kept.
func (v cval) raw() string {
	n := v.node()
	if n.s == nil {
		return ""
	}
	return unsafe.String((*byte)(unsafe.Pointer(n.s)), int(n.len))
}

// Str copies the string out of Lua's memory, except for the common ones
// (commonStrings) and a body send() lent (loans.go), which stays in Lua's.
func (v cval) Str() string {
	s := v.raw()
	if v.node().lent != 0 {
		return s
	}
	if i, ok := common(s); ok {
		return commonStrings[i]
	}
	return strings.Clone(s)
}

func (v cval) Num() float64     { return float64(v.node().num) }
func (v cval) Bool() bool       { return v.node().n != 0 }
func (v cval) TypeName() string { return v.raw() }

func (v cval) Field(key string) cval {
	n := v.node()
	f := fieldIndex(key)
	if f < 0 || n.first < 0 {
		return v.at(-1)
	}
	return v.at(int(n.first) + f)
}

func (v cval) Index(i int) cval {
	n := v.node()
	if n.first < 0 || i < 1 || i > int(n.count) {
		return v.at(-1)
	}
	return v.at(int(n.first) + i - 1)
}

func (v cval) List() (int, cval, bool) {
	n := v.node()
	return int(n.n), v.at(int(n.bad)), n.ok != 0
}

func (v cval) StrNum() (float64, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(v.raw()), 64)
	return f, err == nil
}
