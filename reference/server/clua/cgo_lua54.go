//go:build lua54 && !luajit

package clua

// #cgo pkg-config: lua5.4
import "C"

// Name is the engine's name for --engine.
const Name = "lua54"

const summary = "Lua 5.4 through its C API (C modules load; built with -tags lua54)"
