package gopherlua

import (
	lua "github.com/yuin/gopher-lua"
)

// Which coroutines may call a call's receive and send (spec rules
// core.call.same-coroutine, core.call.wrong-coroutine): the call's own
// coroutine, and the coroutines the prelude's pcall and xpcall create while
// one of those runs (core.call.yield-safe-pcall). The prelude reports each
// coroutine it creates (mark) and each that finished (unmark); a coroutine
// the app creates itself is never marked.

// loadPrelude runs the prelude in L with the worker's mark and unmark.
func (w *worker) loadPrelude(L *lua.LState) error {
	fn, err := L.LoadString(prelude)
	if err != nil {
		return err
	}
	L.Push(fn)
	L.Push(L.NewFunction(w.mark))
	L.Push(L.NewFunction(w.unmark))
	return L.PCall(2, 0, nil)
}

// mark(co): co was created by pcall/xpcall in the running coroutine L. It
// counts as the current call's own when L does.
func (w *worker) mark(L *lua.LState) int {
	co := L.CheckThread(1)
	cc := w.current
	if cc == nil || cc.done || !cc.owns(L) {
		return 0
	}
	if cc.protected == nil {
		cc.protected = map[*lua.LState]struct{}{}
	}
	cc.protected[co] = struct{}{}
	return 0
}

// unmark(co): pcall/xpcall's coroutine co has finished.
func (w *worker) unmark(L *lua.LState) int {
	co := L.CheckThread(1)
	if cc := w.current; cc != nil {
		delete(cc.protected, co)
	}
	return 0
}

// owns says whether the coroutine L may call receive and send for cc.
func (cc *coCall) owns(L *lua.LState) bool {
	if L == cc.th {
		return true
	}
	_, ok := cc.protected[L]
	return ok
}

// checkThread raises the core.call.same-coroutine error in L unless L may
// call fn (receive or send) for cc now.
func (cc *coCall) checkThread(L *lua.LState, fn string) {
	switch {
	case cc.done:
		// Level 0: no position prefix (spec rule core.send.error-value).
		L.Error(lua.LString("lasgi: core.call.same-coroutine: "+fn+" called after the application call returned"), 0)
	case !cc.owns(L):
		L.Error(lua.LString("lasgi: core.call.same-coroutine: "+fn+" called from a coroutine the server did not create for this call (coroutines the app creates must not call receive or send)"), 0)
	}
}
