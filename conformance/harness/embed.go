// Package harness holds the Lua program lasgi-check app runs under a real
// interpreter to play the server for an app.
package harness

import _ "embed"

// Source is harness.lua.
//
//go:embed harness.lua
var Source []byte

// Timers is timers.lua, the lasgi.timers extension as the harness plays
// it; harness.lua loads it from its own directory.
//
//go:embed timers.lua
var Timers []byte

// Groups is groups.lua, the lasgi.groups extension as the harness plays it;
// harness.lua loads it from its own directory.
//
//go:embed groups.lua
var Groups []byte
