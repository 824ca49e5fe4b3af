//go:build luajit && !lua54

package clua

// #cgo pkg-config: luajit
import "C"

// Name is the engine's name for --engine.
const Name = "luajit"

const summary = "LuaJIT 2.1 through its C API (C modules load; built with -tags luajit)"
