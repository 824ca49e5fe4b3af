package gopherlua

import (
	lua "github.com/yuin/gopher-lua"
)

// Cancellation follows the resume chain, not the creation. gopher-lua gives
// every coroutine a context of its own, derived at coroutine.create from its
// creator's, and checks it between instructions. Derived that way, a
// coroutine made while the app file loads keeps the load's context (cancelled
// once the file has run) and fails with "context canceled" on every later
// resume; one made by another call's pcall keeps that worker context the
// watchdog cancelled to stop a different call. Instead coroutine.create
// makes a coroutine with no context, and coroutine.resume hands it the
// resumer's: whatever runs, runs under the context of the call at the bottom
// of the chain, which is the worker's live one while that call is resumed
// (worker.resume). Stopping a call cancels exactly what is running.

// guardCoroutines replaces coroutine.create, resume and wrap in L.
func guardCoroutines(L *lua.LState) {
	co, ok := L.GetGlobal("coroutine").(*lua.LTable)
	if !ok {
		return
	}
	create, _ := co.RawGetString("create").(*lua.LFunction)
	resume, _ := co.RawGetString("resume").(*lua.LFunction)
	if create == nil || !create.IsG || resume == nil || !resume.IsG {
		return
	}
	co.RawSetString("create", L.NewFunction(func(L *lua.LState) int {
		// With no context on the creator, NewThread derives none.
		ctx := L.RemoveContext()
		n := create.GFunction(L)
		if ctx != nil {
			L.SetContext(ctx)
		}
		return n
	}))
	co.RawSetString("resume", L.NewFunction(func(L *lua.LState) int {
		if th, ok := L.Get(1).(*lua.LState); ok {
			if ctx := L.Context(); ctx != nil && th.Context() != ctx {
				th.SetContext(ctx)
			}
		}
		return resume.GFunction(L)
	}))
	wrap, err := L.LoadString(wrapSource)
	if err != nil {
		panic(err) // the source is a constant
	}
	L.Push(wrap)
	L.Push(co.RawGetString("create"))
	L.Push(co.RawGetString("resume"))
	L.Call(2, 1)
	co.RawSetString("wrap", L.Get(-1))
	L.Pop(1)
}

// wrapSource is coroutine.wrap on the create and resume above: an error in
// the coroutine is raised again in the caller, as the built-in one does.
const wrapSource = `
local create, resume = ...
local function pass(ok, ...)
  if not ok then error((...), 0) end
  return ...
end
return function(f)
  local co = create(f)
  return function(...) return pass(resume(co, ...)) end
end`
