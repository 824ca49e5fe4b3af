// Package harness holds the Lua program lasgi-check app runs under a real
// interpreter to play the server for an app.
package harness

import _ "embed"

// Source is harness.lua.
//
//go:embed harness.lua
var Source []byte
