// Package clua runs LASGI apps on a real Lua through its C API: Lua 5.4
// (build tag lua54) or LuaJIT (build tag luajit), one per binary, since both
// libraries export the same lua_* symbols. Without either tag the package
// is empty and the binary has only the gopher engine.
//
// The binding is batched: the C half (lasgi.c) does everything that touches
// a lua_State under a lua_pcall or lua_resume it opened itself, so a Lua
// error never unwinds over Go frames. Go writes the tables a call needs (its
// scope, each received event) as ops into C memory, and one cgo call starts
// or resumes the call's coroutine. receive() and send() are C closures that
// call back into Go once each: send reads the event table into nodes that Go
// checks in place (luatype.Decode, the rules every engine shares) before the
// call's bridge.Call gets the event. A hello request crosses cgo once and
// calls back twice.
//
// The lasgi.groups extension (spec/groups.md) is carried in C too
// (groups.c): send encodes the data of lasgi.group.send straight from the
// Lua stack into the groups data encoding (reference/server/groups), in a
// buffer of the worker's bounded by the largest message, and Go turns
// what C stopped at into the violation both engines raise (groups.go); a
// lasgi.group.message is an op whose bytes C builds into new tables.
//
// Workers, their locks, the watchdog and lifespan work as in gopherlua
// (whose package comment explains why the goroutine with work for a worker
// runs the Lua code itself). What differs: the busy timeout stops the
// running coroutine with a hook the watchdog sets, a worker's memory is
// bounded by its allocator (Options.MaxVMBytes), and pcall is Lua's own,
// which can yield.
package clua
