-- lasgi.groups cases for the lint driver (drive.lua), in the format of cases.lua: apps that
-- join, leave and send to groups, and "servers" whose receive() hands out
-- lasgi.group.message, in http, websocket and lifespan scopes, each with the outcome the
-- lint must give.
--
-- The driver's send delivers nothing: the messages receive() returns are the case's events.
-- That what an app sends to a group it joined comes back to it is shown on the engine and
-- under lasgi-check's harness (lint_groups_test.go).

local LIMITS = { max_message_bytes = 65536, queue = 256, max_groups = 64 }

-- offer returns a scope function that offers lasgi.groups with limits (LIMITS by default,
-- each key of change put over them) in the driver's http scope.
local function offer(change)
  return function(s)
    local entry = {}
    for k, v in pairs(LIMITS) do
      entry[k] = v
    end
    for k, v in pairs(change or {}) do
      entry[k] = v
    end
    s.extensions["lasgi.groups"] = entry
  end
end
local groups = offer()

local function ws_scope(with_groups)
  return function()
    local ext = { ["websocket.http.response"] = {} }
    if with_groups then
      ext["lasgi.groups"] = { max_message_bytes = 65536, queue = 256, max_groups = 64 }
    end
    return {
      type = "websocket", asgi = { version = "3.0", spec_version = "2.5" }, lasgi = { version = "1.1" },
      http_version = "1.1", scheme = "ws", path = "/room/lobby", raw_path = "/room/lobby", query_string = "",
      root_path = "", headers = { { "host", "example.test" } }, client = { "127.0.0.1", 51000 },
      server = { "127.0.0.1", 8000 }, subprotocols = {}, state = {}, extensions = ext,
    }
  end
end

-- lifespan_scope is a lifespan scope, offering groups (send only) with entry when given.
local function lifespan_scope(entry)
  return function()
    return {
      type = "lifespan", asgi = { version = "3.0", spec_version = "2.0" }, lasgi = { version = "1.1" },
      state = {}, extensions = entry and { ["lasgi.groups"] = entry } or nil,
    }
  end
end

local function join(g)
  return { type = "lasgi.group.join", group = g }
end

local function leave(g)
  return { type = "lasgi.group.leave", group = g }
end

local function gsend(g, data)
  return { type = "lasgi.group.send", group = g, data = data }
end

local function message(g, data, dropped)
  return { type = "lasgi.group.message", group = g, data = data or {}, dropped = dropped }
end

local function req()
  return { type = "http.request", body = "", more_body = false }
end

local function respond(send)
  send({ type = "http.response.start", status = 200 })
  send({ type = "http.response.body", body = "ok" })
end

-- script is an app that receives once, sends each event in turn, and ends with last(send).
local function script(last, ...)
  local events = { ... }
  return function(scope, receive, send)
    receive()
    for i = 1, #events do
      send(events[i])
    end
    last(send)
  end
end

-- sends is an http app that receives once, sends each event in turn, and responds.
local function sends(...)
  return script(respond, ...)
end

-- lifespan_sends is the same in a lifespan scope, the startup then complete.
local function lifespan_sends(...)
  return script(function(send)
    send({ type = "lifespan.startup.complete" })
  end, ...)
end

-- joins is an http app that joins the groups g.1 to g.n, then responds.
local function joins(n)
  return function(scope, receive, send)
    receive()
    for i = 1, n do
      send(join("g." .. i))
    end
    respond(send)
  end
end

-- nested is a data table n tables deep, itself the first.
local function nested(n)
  local t = { leaf = true }
  for _ = 2, n do
    t = { t }
  end
  return t
end

-- sized is a data table of one string key "s" whose value makes it n bytes in all, as the
-- groups extension counts: 5 for the table, 5 + 1 for the key, 5 + #value for the value.
local function sized(n)
  return { s = string.rep("x", n - 16) }
end

-- gets is an http app that joins g, receives twice (the body, then a message), responds
-- and receives once more.
local function gets(scope, receive, send)
  send(join("g"))
  receive()
  local ev = receive()
  if ev.type ~= "lasgi.group.message" then
    error("receive() returned " .. tostring(ev.type), 0)
  end
  respond(send)
  receive()
end

-- chat is the chat room of spec/groups.md.
local function chat(scope, receive, send)
  local room = "room." .. scope.path:match("^/room/([%w._-]+)$")
  receive()
  send({ type = "websocket.accept" })
  send({ type = "lasgi.group.join", group = room })
  while true do
    local event = receive()
    if event.type == "websocket.receive" then
      send({ type = "lasgi.group.send", group = room, data = { text = event.text } })
    elseif event.type == "lasgi.group.message" then
      send({ type = "websocket.send", text = event.data.text })
    elseif event.type == "websocket.disconnect" then
      return
    end
  end
end

local cyclic = { a = 1 }
cyclic.self = cyclic

return {
  -- Valid uses
  { name = "groups-chat-room", want = "ok", scope = ws_scope(true), app = chat,
    events = { { type = "websocket.connect" }, { type = "websocket.receive", text = "hi" },
      message("room.lobby", { text = "hi" }), { type = "websocket.disconnect", code = 1000, reason = "" } } },
  { name = "groups-send-to-itself", want = "ok", scope = groups, app = gets,
    events = { req(), message("g", { text = "hi", n = 1, nested = { ok = true } }) } },
  { name = "groups-dropped", want = "ok", scope = groups, app = gets, events = { req(), message("g", {}, 3) } },
  { name = "groups-every-name-character", want = "ok", scope = groups,
    app = sends(join("azAZ09._-"), join(string.rep("n", 99)), leave("azAZ09._-")) },
  { name = "groups-leave-not-a-member", want = "ok", scope = groups, app = sends(leave("never.joined")) },
  { name = "groups-max-groups-joined", want = "ok", scope = groups, app = joins(64) },
  { name = "groups-join-again-at-max", want = "ok", scope = groups, app = function(scope, receive, send)
    receive()
    for i = 1, 64 do
      send(join("g." .. i))
    end
    send(join("g.1")) -- a member already
    send(leave("g.64"))
    send(join("g.65")) -- in its place
    respond(send)
  end },
  { name = "groups-data-kinds", want = "ok", scope = groups,
    app = sends(join("g"), gsend("g", { "list", 2, true, false, [1.5] = "float key", [-3] = { deep = { er = "x" } } })) },
  { name = "groups-data-at-the-size-offered", want = "ok", scope = groups, app = sends(gsend("g", sized(65536))) },
  { name = "groups-data-at-a-smaller-size-offered", want = "ok", scope = offer({ max_message_bytes = 1024 }),
    app = sends(gsend("g", sized(1024))) },
  { name = "groups-data-32-deep", want = "ok", scope = groups, app = sends(gsend("g", nested(32))) },
  { name = "groups-the-same-table-twice", want = "ok", scope = groups, app = function(scope, receive, send)
    local t = { x = 1 }
    sends(gsend("g", { a = t, b = t }))(scope, receive, send)
  end },
  { name = "groups-send-after-the-response", want = "ok", scope = groups, app = function(scope, receive, send)
    receive()
    respond(send)
    send(gsend("g", { done = true }))
    send(join("g"))
  end },
  { name = "groups-send-after-disconnect", want = "ok", scope = groups, events = { req(), { type = "http.disconnect" } },
    app = function(scope, receive, send)
      receive()
      receive()
      send(gsend("g", { gone = true }))
    end },
  { name = "groups-lifespan-send", want = "ok", scope = lifespan_scope(LIMITS), events = { { type = "lifespan.startup" } },
    app = lifespan_sends(gsend("app.events", { started = true })) },
  { name = "groups-ws-message-before-accept", want = "ok", scope = ws_scope(true),
    events = { { type = "websocket.connect" }, message("g", {}), { type = "websocket.disconnect", code = 1000, reason = "" } },
    app = function(scope, receive, send)
      send(join("g"))
      receive()
      assert(receive().type == "lasgi.group.message")
      send({ type = "websocket.accept" })
      receive()
    end },

  -- groups.name
  { name = "groups-name-number", want = "groups.name", scope = groups, app = sends(join(1)) },
  { name = "groups-name-missing", want = "groups.name", scope = groups, app = sends({ type = "lasgi.group.join" }) },
  { name = "groups-name-empty", want = "groups.name", scope = groups, app = sends(join("")) },
  { name = "groups-name-too-long", want = "groups.name", scope = groups, app = sends(join(string.rep("n", 100))) },
  { name = "groups-name-space", want = "groups.name", scope = groups, app = sends(join("room 1")) },
  { name = "groups-name-not-ascii", want = "groups.name", scope = groups, app = sends(join("caf\195\169")) },
  { name = "groups-name-colon", want = "groups.name", scope = groups, app = sends(gsend("room:1", {})) },
  { name = "groups-name-leave", want = "groups.name", scope = groups, app = sends(leave("a/b")) },
  { name = "groups-name-ws", want = "groups.name", scope = ws_scope(true), events = { { type = "websocket.connect" } },
    app = function(scope, receive, send)
    receive()
    send({ type = "websocket.accept" })
    send(join("room\0"))
  end },

  -- groups.data
  { name = "groups-data-missing", want = "groups.data", scope = groups, app = sends(gsend("g", nil)) },
  { name = "groups-data-string", want = "groups.data", scope = groups, app = sends(gsend("g", "hi")) },
  { name = "groups-data-function", want = "groups.data", scope = groups, app = sends(gsend("g", { f = print })) },
  { name = "groups-data-nested-function", want = "groups.data", scope = groups,
    app = sends(gsend("g", { a = { b = { c = tostring } } })) },
  { name = "groups-data-boolean-key", want = "groups.data", scope = groups, app = sends(gsend("g", { [true] = 1 })) },
  { name = "groups-data-table-key", want = "groups.data", scope = groups, app = sends(gsend("g", { [{}] = 1 })) },
  { name = "groups-data-thread", want = "groups.data", scope = groups,
    app = sends(gsend("g", { co = coroutine.create(function() end) })) },
  { name = "groups-data-33-deep", want = "groups.data", scope = groups, app = sends(gsend("g", nested(33))) },
  { name = "groups-data-cyclic", want = "groups.data", scope = groups, app = sends(gsend("g", cyclic)) },

  -- groups.data.size
  { name = "groups-data-over-the-size-offered", want = "groups.data.size", scope = groups,
    app = sends(gsend("g", sized(65537))) },
  { name = "groups-data-over-a-smaller-size-offered", want = "groups.data.size",
    scope = offer({ max_message_bytes = 1024 }), app = sends(gsend("g", sized(1025))) },
  -- Short strings, but 70 keys of 7 or 8 bytes each and 70 numbers of 9: over 1024.
  { name = "groups-data-size-counts-keys", want = "groups.data.size", scope = offer({ max_message_bytes = 1024 }),
    app = function(scope, receive, send)
      local t = {}
      for i = 1, 70 do
        t[string.char(64 + i % 26) .. i] = i
      end
      sends(gsend("g", t))(scope, receive, send)
    end },

  -- groups.max-groups
  { name = "groups-max-groups", want = "groups.max-groups", scope = groups, app = joins(65) },
  { name = "groups-max-groups-smaller-offer", want = "groups.max-groups", scope = offer({ max_groups = 16 }),
    app = joins(17) },

  -- groups.lifespan.send-only, offered there or not
  { name = "groups-lifespan-join", want = "groups.lifespan.send-only", scope = lifespan_scope(LIMITS),
    events = { { type = "lifespan.startup" } }, app = lifespan_sends(join("app")) },
  { name = "groups-lifespan-leave-not-offered", want = "groups.lifespan.send-only", scope = lifespan_scope(nil),
    events = { { type = "lifespan.startup" } }, app = lifespan_sends(leave("app")) },

  -- core.extensions.offered-only
  { name = "groups-not-offered-http", want = "core.extensions.offered-only", app = sends(join("g")) },
  { name = "groups-not-offered-ws", want = "core.extensions.offered-only", scope = ws_scope(false),
    events = { { type = "websocket.connect" } }, app = function(scope, receive, send)
      receive()
      send(gsend("g", {}))
    end },
  { name = "groups-not-offered-lifespan", want = "core.extensions.offered-only", scope = lifespan_scope(nil),
    events = { { type = "lifespan.startup" } }, app = lifespan_sends(gsend("app.events", { started = true })) },
  { name = "groups-offered-only-scope-changed", want = "core.extensions.offered-only",
    app = function(scope, receive, send)
      scope.extensions["lasgi.groups"] = LIMITS -- the server did not offer it
      sends(join("g"))(scope, receive, send)
    end },

  -- What the server hands over: groups.offer.limits, groups.message, groups.dropped
  { name = "groups-offer-small-max-message-bytes", want = "groups.offer.limits", scope = offer({ max_message_bytes = 100 }),
    app = sends() },
  { name = "groups-offer-no-queue", want = "groups.offer.limits", scope = offer({ queue = false }), app = sends() },
  { name = "groups-offer-fraction", want = "groups.offer.limits", scope = offer({ max_groups = 16.5 }), app = sends() },
  { name = "groups-offer-lifespan-not-a-table", want = "groups.offer.limits", scope = lifespan_scope(true),
    events = { { type = "lifespan.startup" } }, app = lifespan_sends() },
  { name = "groups-message-no-group", want = "groups.message", scope = groups, app = gets,
    events = { req(), { type = "lasgi.group.message", data = {} } } },
  { name = "groups-message-data-string", want = "groups.message", scope = groups, app = gets,
    events = { req(), { type = "lasgi.group.message", group = "g", data = "hi" } } },
  { name = "groups-dropped-zero", want = "groups.dropped", scope = groups, app = gets, events = { req(), message("g", {}, 0) } },
  { name = "groups-dropped-string", want = "groups.dropped", scope = groups, app = gets, events = { req(), message("g", {}, "2") } },
  { name = "groups-message-after-complete", want = "http.disconnect.after-complete", scope = groups,
    events = { req(), message("g", {}) }, app = function(scope, receive, send)
      send(join("g"))
      receive()
      respond(send)
      receive()
    end },
  { name = "groups-message-after-disconnect", want = "http.disconnect.repeat", scope = groups,
    events = { req(), { type = "http.disconnect" }, message("g", {}) }, app = function(scope, receive, send)
      send(join("g"))
      receive()
      receive()
      receive()
    end },
}
