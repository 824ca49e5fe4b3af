//go:build lua54 && luajit

package clua

// Both libraries export the same lua_* symbols: a binary links one.
var _ = "build with -tags lua54 or -tags luajit, not both" + 1
