package gopherlua

// prelude runs in every worker state before the app file. gopher-lua, like
// Lua 5.1, cannot yield across pcall: a receive() or send() that has to wait
// inside pcall would corrupt the coroutine. These replacements run the
// protected function in a coroutine of its own and pass its yields up to the
// call's coroutine, which gives apps the Lua 5.2+ behaviour they expect.
// xpcall's handler runs after the stack has unwound, so a traceback it takes
// shows the handler's place, not the error's. mark and unmark (owner.go)
// tell the engine which coroutines count as the call's own.
const prelude = `
local mark, unmark = ...
local co_create, co_resume, co_yield, co_status = coroutine.create, coroutine.resume, coroutine.yield, coroutine.status

local function pass(co, ok, ...)
  if not ok or co_status(co) == "dead" then
    return ok, ...
  end
  return pass(co, co_resume(co, co_yield(...)))
end

local function id(...) return ... end

local function done(co, ...)
  unmark(co)
  return ...
end

local function protect(f, ...)
  -- Not "return f(...)": gopher-lua loses a coroutine whose bottom frame is
  -- a tail call that yields, so f is called normally.
  local co = co_create(function(...) return id(f(...)) end)
  mark(co)
  return done(co, pass(co, co_resume(co, ...)))
end

pcall = function(f, ...)
  return protect(f, ...)
end

xpcall = function(f, handler, ...)
  local function finish(ok, ...)
    if ok then return true, ... end
    return false, handler((...))
  end
  return finish(protect(f, ...))
end
`
