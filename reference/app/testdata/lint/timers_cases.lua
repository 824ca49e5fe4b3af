-- lasgi.timers cases for the lint driver (drive.lua), in the format of cases.lua: apps that
-- pass receive() an argument, and "servers" whose receive() hands out lasgi.timeout, in
-- http, websocket and lifespan scopes, each with the outcome the lint must give.
--
-- The driver's receive() ignores its argument: what these cases show is what the lint
-- checks before it calls the real receive (the argument) and after (what came back). That
-- the argument reaches the real receive is shown on the engine and under lasgi-check's
-- harness (lint_timers_test.go).

-- Each event a new table, as receive() must hand out (core.receive.fresh).
local function timeout()
  return { type = "lasgi.timeout" }
end

local function disconnect()
  return { type = "http.disconnect" }
end

local function req(body, more)
  return { type = "http.request", body = body or "", more_body = more or false }
end

-- timers offers lasgi.timers in the driver's http scope (which otherwise offers trailers only).
local function timers(s)
  s.extensions["lasgi.timers"] = {}
end

local function drain(receive)
  repeat
    local ev = receive()
  until ev.type ~= "http.request" or not ev.more_body
end

local function respond(send, text)
  send({ type = "http.response.start", status = 200 })
  send({ type = "http.response.body", body = text or "ok" })
end

-- waits is an http app that drains the request, calls receive(arg) once, and responds.
local function waits(arg)
  return function(scope, receive, send)
    drain(receive)
    receive(arg)
    respond(send)
  end
end

-- first_waits is an http app whose first receive() has the argument arg.
local function first_waits(arg)
  return function(scope, receive, send)
    receive(arg)
    drain(receive)
    respond(send)
  end
end

-- ws_scope is the websocket scope of ws_cases.lua, offering the denial response and, with
-- timers true, lasgi.timers.
local function ws_scope(with_timers)
  return function()
    local ext = { ["websocket.http.response"] = {} }
    if with_timers then
      ext["lasgi.timers"] = {}
    end
    return {
      type = "websocket",
      asgi = { version = "3.0", spec_version = "2.5" },
      lasgi = { version = "1.1" },
      http_version = "1.1",
      scheme = "ws",
      path = "/clock",
      raw_path = "/clock",
      query_string = "",
      root_path = "",
      headers = { { "host", "example.test" }, { "upgrade", "websocket" }, { "connection", "Upgrade" } },
      client = { "127.0.0.1", 51000 },
      server = { "127.0.0.1", 8000 },
      subprotocols = {},
      state = {},
      extensions = ext,
    }
  end
end

local function lifespan_scope()
  return {
    type = "lifespan",
    asgi = { version = "3.0", spec_version = "2.0" },
    lasgi = { version = "1.1" },
    state = {},
  }
end

-- sse_clock is the app of spec/timers.md: a tick a second until the client leaves.
local function sse_clock(scope, receive, send)
  if not (scope.extensions and scope.extensions["lasgi.timers"]) then
    error("this app needs a server offering lasgi.timers", 0)
  end
  drain(receive)
  send({ type = "http.response.start", status = 200, headers = { { "content-type", "text/event-stream" } } })
  while true do
    local event = receive({ timeout = 1 })
    if event.type == "http.disconnect" then
      return
    elseif event.type == "lasgi.timeout" then
      send({ type = "http.response.body", body = "data: tick\n\n", more_body = true })
    end
  end
end

-- ws_clock accepts, sends a tick for each lasgi.timeout, echoes each message, and returns
-- at websocket.disconnect.
local function ws_clock(scope, receive, send)
  assert(receive().type == "websocket.connect")
  send({ type = "websocket.accept" })
  while true do
    local event = receive({ timeout = 30 })
    if event.type == "websocket.disconnect" then
      return
    elseif event.type == "lasgi.timeout" then
      send({ type = "websocket.send", text = "tick" })
    elseif event.type == "websocket.receive" then
      send({ type = "websocket.send", text = event.text })
    end
  end
end

return {
  -- Valid waits
  { name = "timers-sse-clock", want = "ok", scope = timers, app = sse_clock,
    events = { req(), timeout(), timeout(), timeout(), disconnect() } },
  { name = "timers-timeouts-in-the-body", want = "ok", scope = timers,
    events = { req("ab", true), timeout(), req("", true), timeout(), timeout(), req("c", false) },
    app = function(scope, receive, send)
      local parts = {}
      while true do
        local ev = receive({ timeout = 0 })
        if ev.type == "http.request" then
          parts[#parts + 1] = ev.body
          if not ev.more_body then
            break
          end
        elseif ev.type ~= "lasgi.timeout" then
          return
        end
      end
      respond(send, table.concat(parts))
    end },
  { name = "timers-long-poll", want = "ok", scope = timers, events = { req(), timeout() },
    app = function(scope, receive, send)
      drain(receive)
      local ev = receive({ timeout = 25 })
      assert(ev.type == "lasgi.timeout")
      send({ type = "http.response.start", status = 204 })
      send({ type = "http.response.body" })
    end },
  { name = "timers-timeout-zero", want = "ok", scope = timers, app = waits({ timeout = 0 }) },
  { name = "timers-timeout-fraction", want = "ok", scope = timers, app = waits({ timeout = 0.25 }) },
  { name = "timers-empty-options", want = "ok", scope = timers, app = first_waits({}) },
  { name = "timers-other-keys", want = "ok", scope = timers, app = waits({ timeout = 1, x = "unread" }) },
  { name = "timers-nil-without-offer", want = "ok", app = first_waits(nil) },
  { name = "timers-nil-with-offer", want = "ok", scope = timers, app = first_waits(nil) },
  { name = "timers-ws-clock", want = "ok", scope = ws_scope(true), app = ws_clock,
    events = { { type = "websocket.connect" }, timeout(), { type = "websocket.receive", text = "hi" }, timeout(),
      { type = "websocket.disconnect", code = 1000, reason = "" } } },

  -- timers.offered-only: an argument where the scope does not offer lasgi.timers
  { name = "timers-offered-only", want = "timers.offered-only", app = first_waits({ timeout = 1 }) },
  { name = "timers-offered-only-empty-table", want = "timers.offered-only", app = first_waits({}) },
  { name = "timers-offered-only-bad-argument", want = "timers.offered-only", app = first_waits("1") },
  { name = "timers-offered-only-after-the-body", want = "timers.offered-only", app = waits({ timeout = 1 }) },
  { name = "timers-offered-only-ws", want = "timers.offered-only", scope = ws_scope(false),
    app = function(scope, receive, send)
      receive({ timeout = 1 })
    end },
  { name = "timers-offered-only-lifespan", want = "timers.offered-only", scope = lifespan_scope,
    events = { { type = "lifespan.startup" } },
    app = function(scope, receive, send)
      receive({ timeout = 1 })
    end },
  -- The argument is checked before the lint's own lifespan check of the call, as the
  -- engine checks it before it waits.
  { name = "timers-offered-only-lifespan-before-reply", want = "timers.offered-only", scope = lifespan_scope,
    events = { { type = "lifespan.startup" } },
    app = function(scope, receive, send)
      receive()
      receive({ timeout = 1 })
    end },
  { name = "timers-offered-only-scope-changed", want = "timers.offered-only",
    app = function(scope, receive, send)
      scope.extensions["lasgi.timers"] = {} -- the server did not offer it
      receive({ timeout = 1 })
    end },

  -- timers.receive.options: an argument that is not a table, a timeout that is not a
  -- number of seconds
  { name = "timers-options-string", want = "timers.receive.options", scope = timers, app = first_waits("1") },
  { name = "timers-options-number", want = "timers.receive.options", scope = timers, app = first_waits(1) },
  { name = "timers-options-false", want = "timers.receive.options", scope = timers, app = first_waits(false) },
  { name = "timers-timeout-string", want = "timers.receive.options", scope = timers, app = waits({ timeout = "1" }) },
  { name = "timers-timeout-boolean", want = "timers.receive.options", scope = timers, app = waits({ timeout = true }) },
  { name = "timers-timeout-negative", want = "timers.receive.options", scope = timers, app = waits({ timeout = -1 }) },
  { name = "timers-timeout-nan", want = "timers.receive.options", scope = timers, app = waits({ timeout = 0 / 0 }) },
  -- 1 / 0, not math.huge, which is the largest finite number on gopher-lua (a long wait
  -- there, on the engine as under the lint).
  { name = "timers-timeout-infinite", want = "timers.receive.options", scope = timers, app = waits({ timeout = 1 / 0 }) },
  { name = "timers-timeout-minus-infinite", want = "timers.receive.options", scope = timers,
    app = waits({ timeout = -1 / 0 }) },
  { name = "timers-options-ws", want = "timers.receive.options", scope = ws_scope(true),
    app = function(scope, receive, send)
      receive({ timeout = -0.5 })
    end },

  -- timers.receive.without: lasgi.timeout to a call that asked for no timeout
  { name = "timers-timeout-without", want = "timers.receive.without", scope = timers, events = { timeout() },
    app = first_waits(nil) },
  { name = "timers-timeout-empty-options", want = "timers.receive.without", scope = timers, events = { timeout() },
    app = first_waits({}) },
  { name = "timers-timeout-not-offered", want = "timers.receive.without", events = { req(), timeout() },
    app = waits(nil) },
  { name = "timers-timeout-without-ws", want = "timers.receive.without", scope = ws_scope(true),
    events = { { type = "websocket.connect" }, timeout() },
    app = function(scope, receive, send)
      receive()
      send({ type = "websocket.accept" })
      receive()
    end },
  { name = "timers-timeout-without-lifespan", want = "timers.receive.without", scope = lifespan_scope,
    events = { timeout() },
    app = function(scope, receive, send)
      receive()
    end },

  -- timers.receive.event-first: lasgi.timeout where http.disconnect or websocket.disconnect
  -- was due at once
  { name = "timers-timeout-after-disconnect", want = "timers.receive.event-first", scope = timers,
    events = { req(), disconnect(), timeout() },
    app = function(scope, receive, send)
      drain(receive)
      assert(receive().type == "http.disconnect")
      receive({ timeout = 1 })
    end },
  { name = "timers-timeout-after-complete", want = "timers.receive.event-first", scope = timers,
    events = { req(), timeout() },
    app = function(scope, receive, send)
      drain(receive)
      respond(send)
      receive({ timeout = 1 })
    end },
  { name = "timers-timeout-after-ws-disconnect", want = "timers.receive.event-first", scope = ws_scope(true),
    events = { { type = "websocket.connect" }, { type = "websocket.disconnect", code = 1001, reason = "" }, timeout() },
    app = function(scope, receive, send)
      receive()
      send({ type = "websocket.accept" })
      receive()
      receive({ timeout = 1 })
    end },
  -- A timeout while the response is under way, or after the app closed the socket (the
  -- client's close is yet to come), is no breach.
  { name = "timers-timeout-after-ws-close", want = "ok", scope = ws_scope(true),
    events = { { type = "websocket.connect" }, timeout(), { type = "websocket.disconnect", code = 1000, reason = "" } },
    app = function(scope, receive, send)
      receive()
      send({ type = "websocket.accept" })
      send({ type = "websocket.close" })
      assert(receive({ timeout = 1 }).type == "lasgi.timeout")
      assert(receive({ timeout = 1 }).type == "websocket.disconnect")
    end },
}
