-- Lifespan cases for the lint driver (drive.lua), in the format of cases.lua: apps and
-- "servers" (a lifespan scope, the events receive() hands out) with the outcome the lint
-- must give.

local STARTUP, SHUTDOWN = "lifespan.startup", "lifespan.shutdown"
local STARTED, START_FAILED = "lifespan.startup.complete", "lifespan.startup.failed"
local STOPPED, STOP_FAILED = "lifespan.shutdown.complete", "lifespan.shutdown.failed"

-- lifespan_scope is a lifespan scope as a server hands it out.
local function lifespan_scope()
  return {
    type = "lifespan",
    asgi = { version = "3.0", spec_version = "2.0" },
    lasgi = { version = "1.1" },
    state = {},
  }
end

-- scope(change) is a scope function for a case: a lifespan scope changed by change.
local function scope(change)
  return function()
    local s = lifespan_scope()
    if change then
      change(s)
    end
    return s
  end
end

local function ev(typ, message)
  return { type = typ, message = message }
end

-- server is what receive() hands out: lifespan.startup, then lifespan.shutdown.
local function server()
  return { ev(STARTUP), ev(SHUTDOWN) }
end

-- good is the app of spec/lifespan.md: it fills the state at startup and empties it at
-- shutdown, and returns.
local function good(scope_, receive, send)
  while true do
    local e = receive()
    if e.type == STARTUP then
      scope_.state["lint:pool"] = { open = true }
      send(ev(STARTED))
    elseif e.type == SHUTDOWN then
      scope_.state["lint:pool"].open = false
      send(ev(STOPPED))
      return
    end
  end
end

-- script is an app that, for each entry in order, calls receive() ("recv") or sends the
-- event (a table), then returns.
local function script(...)
  local steps = { ... }
  return function(_, receive, send)
    for i = 1, #steps do
      if steps[i] == "recv" then
        receive()
      else
        send(steps[i])
      end
    end
  end
end

-- life fills in a case's defaults: the lifespan scope, and a server that starts and stops.
local function life(c)
  c.scope = c.scope or scope()
  c.events = c.events or server()
  return c
end

return {
  -- Apps that pass.
  life { name = "lifespan-good", want = "ok", app = good },
  life { name = "lifespan-startup-failed", want = "ok",
    app = script("recv", ev(START_FAILED, "no database")) },
  life { name = "lifespan-startup-failed-no-message", want = "ok", app = script("recv", ev(START_FAILED)) },
  life { name = "lifespan-shutdown-failed", want = "ok",
    app = script("recv", ev(STARTED), "recv", ev(STOP_FAILED, "the pool would not close")) },
  life { name = "lifespan-return-after-startup", want = "ok", app = script("recv", ev(STARTED)) },
  life { name = "lifespan-unsupported-return", want = "ok", app = script() },
  life { name = "lifespan-unsupported-raise", want = "error",
    app = function() error("http only", 0) end },

  -- The scope and receive() (server side).
  life { name = "lifespan-scope-spec-version", want = "lifespan.scope.asgi-version", app = good,
    scope = scope(function(s) s.asgi.spec_version = "2.5" end) },
  life { name = "lifespan-scope-state-filled", want = "lifespan.scope.state", app = good,
    scope = scope(function(s) s.state.left = true end) },
  life { name = "lifespan-scope-state-missing", want = "lifespan.scope.state", app = good,
    scope = scope(function(s) s.state = nil end) },
  life { name = "lifespan-first-not-startup", want = "lifespan.startup.first", app = good,
    events = { ev(SHUTDOWN) } },
  life { name = "lifespan-shutdown-before-complete", want = "lifespan.shutdown.only-after-startup",
    app = script("recv", ev(START_FAILED, "no"), "recv"), events = server() },

  -- What the app sends.
  life { name = "lifespan-complete-before-startup", want = "lifespan.startup.order", app = script(ev(STARTED)) },
  life { name = "lifespan-complete-twice", want = "lifespan.startup.order",
    app = script("recv", ev(STARTED), ev(STARTED)) },
  life { name = "lifespan-complete-and-failed", want = "lifespan.startup.order",
    app = script("recv", ev(STARTED), ev(START_FAILED, "x")) },
  life { name = "lifespan-failed-number-message", want = "lifespan.startup.message-type",
    app = script("recv", ev(START_FAILED, 42)) },
  life { name = "lifespan-failed-number-message-first", want = "lifespan.startup.message-type",
    app = script(ev(START_FAILED, 42)) },
  life { name = "lifespan-failed-message-not-utf8", want = "lifespan.startup.message-type",
    app = script("recv", ev(START_FAILED, "\255")) },
  life { name = "lifespan-shutdown-complete-first", want = "lifespan.shutdown.reply",
    app = script("recv", ev(STARTED), ev(STOPPED)) },
  life { name = "lifespan-shutdown-complete-twice", want = "lifespan.shutdown.reply",
    app = script("recv", ev(STARTED), "recv", ev(STOPPED), ev(STOPPED)) },
  life { name = "lifespan-shutdown-failed-table-message", want = "lifespan.shutdown.message-type",
    app = script("recv", ev(STARTED), "recv", ev(STOP_FAILED, {})) },
  life { name = "lifespan-shutdown-failed-not-utf8", want = "lifespan.shutdown.message-type",
    app = script("recv", ev(STARTED), "recv", ev(STOP_FAILED, "\192")) },
  life { name = "lifespan-http-event", want = "core.send.type",
    app = script("recv", { type = "http.response.start", status = 200 }) },
  life { name = "lifespan-event-not-table", want = "core.send.event-table", app = script("recv", "complete") },

  -- How the app ends, or waits where nothing comes.
  life { name = "lifespan-no-shutdown-reply", want = "lifespan.shutdown.reply",
    app = script("recv", ev(STARTED), "recv") },
  life { name = "lifespan-receive-before-startup-reply", want = "lifespan.startup.reply",
    app = script("recv", "recv") },
  life { name = "lifespan-receive-before-shutdown-reply", want = "lifespan.shutdown.reply",
    app = script("recv", ev(STARTED), "recv", "recv") },
}
