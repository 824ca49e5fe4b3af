package gopherlua

import (
	"io"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/lasgi/lasgi/reference/server/engine"
)

// ExitError and Sandboxed are engine.ExitError and engine.Sandboxed: every
// engine guards the process the same way.
const ExitError = engine.ExitError

var Sandboxed = engine.Sandboxed

// guardProcess makes os.exit raise ExitError instead of ending the process,
// and with sandbox removes the functions of Sandboxed (each then calls as a
// nil value, a clear Lua error naming it).
func guardProcess(L *lua.LState, sandbox bool) {
	if os, ok := L.GetGlobal("os").(*lua.LTable); ok {
		os.RawSetString("exit", L.NewFunction(func(L *lua.LState) int {
			L.RaiseError("%s", ExitError)
			return 0
		}))
	}
	if !sandbox {
		return
	}
	for lib, names := range Sandboxed {
		t, ok := L.GetGlobal(lib).(*lua.LTable)
		if lib == "_G" {
			t, ok = L.G.Global, true
		}
		if !ok {
			continue
		}
		for _, name := range names {
			t.RawSetString(name, lua.LNil)
		}
	}
}

// redirectOutput sends the app's print and io.write to w instead of the
// process's stdout, which a host may own (lasgi-check writes its report
// there). io.stdout itself is left as it is.
func redirectOutput(L *lua.LState, w io.Writer) {
	L.SetGlobal("print", L.NewFunction(func(L *lua.LState) int {
		var b strings.Builder
		for i := 1; i <= L.GetTop(); i++ {
			if i > 1 {
				b.WriteByte('\t')
			}
			b.WriteString(L.ToStringMeta(L.Get(i)).String())
		}
		b.WriteByte('\n')
		io.WriteString(w, b.String())
		return 0
	}))
	if t, ok := L.GetGlobal("io").(*lua.LTable); ok {
		// io.write returns the file it wrote to, for chained calls; here a
		// table whose write and flush stand for it.
		out := L.NewTable()
		write := L.NewFunction(func(L *lua.LState) int {
			first := 1
			if L.Get(1) == out {
				first = 2 // out:write(...)
			}
			for i := first; i <= L.GetTop(); i++ {
				io.WriteString(w, L.CheckString(i))
			}
			L.Push(out)
			return 1
		})
		out.RawSetString("write", write)
		out.RawSetString("flush", L.NewFunction(func(L *lua.LState) int { L.Push(out); return 1 }))
		t.RawSetString("write", write)
	}
}
