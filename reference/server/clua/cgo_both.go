//go:build lua54 && luajit

package clua

// #cgo pkg-config: lua5.4
import "C"

// Both libraries export the same lua_* symbols: a binary links one. The
// line below fails the build, naming the fix.
var _ int = "clua: build with -tags lua54 or -tags luajit, not both"

const (
	Name    = "lua54"
	summary = ""
)
