// Package engines links every Lua engine this binary has, each registering
// itself with package engine from its init: import it (blank) wherever an
// app is loaded by engine name (engine.Load). gopher-lua is always there;
// the C Lua engines (package reference/server/clua) come with a build tag,
// -tags lua54 or -tags luajit, through a build-tagged file of this package
// that imports clua (added with clua itself).
package engines

import (
	_ "github.com/lasgi/lasgi/reference/server/gopherlua" // "gopher", the default
)
