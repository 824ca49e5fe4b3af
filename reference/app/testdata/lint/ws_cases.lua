-- WebSocket cases for the lint driver (drive.lua), in the format of cases.lua: apps and
-- "servers" (a scope, the events receive() hands out) in websocket scopes, each with the
-- outcome the lint must give.

local ACCEPT, SEND, CLOSE = "websocket.accept", "websocket.send", "websocket.close"
local DENY_START, DENY_BODY = "websocket.http.response.start", "websocket.http.response.body"

-- ws_scope is a valid websocket scope: the client offered the subprotocols chat and
-- v2.chat, and the server offers the denial response.
local function ws_scope()
  return {
    type = "websocket",
    asgi = { version = "3.0", spec_version = "2.5" },
    lasgi = { version = "1.1" },
    http_version = "1.1",
    scheme = "ws",
    path = "/chat room",
    raw_path = "/chat%20room",
    query_string = "v=1",
    root_path = "",
    headers = {
      { "host", "example.test" }, { "upgrade", "websocket" }, { "connection", "Upgrade" },
      { "sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==" }, { "sec-websocket-version", "13" },
      { "sec-websocket-protocol", "chat, v2.chat" },
    },
    client = { "127.0.0.1", 51000 },
    server = { "127.0.0.1", 8000 },
    subprotocols = { "chat", "v2.chat" },
    state = {},
    extensions = { ["websocket.http.response"] = {} },
  }
end

-- scope(change) is a scope function for a case: a websocket scope changed by change.
local function scope(change)
  return function()
    local s = ws_scope()
    if change then
      change(s)
    end
    return s
  end
end

local function connect()
  return { type = "websocket.connect" }
end

local function text(s)
  return { type = "websocket.receive", text = s }
end

local function bytes(s)
  return { type = "websocket.receive", bytes = s }
end

local function disconnect(code, reason)
  return { type = "websocket.disconnect", code = code or 1000, reason = reason or "" }
end

-- client(...) is what receive() hands out: the events given, then websocket.disconnect
-- again and again, as a server does once the socket has closed: the last event given
-- when it is one, else one with code 1000. (Up to a limit: after it the driver's own
-- http.disconnect comes, for an app that never stops.)
local function client(...)
  local list = { ... }
  local n = #list
  local last = list[n]
  local code, reason = 1000, ""
  if last and last.type == "websocket.disconnect" then
    code, reason = last.code, last.reason
  end
  return setmetatable(list, { __index = function(_, i)
    if type(i) == "number" and i > n and i <= n + 100 then
      return disconnect(code, reason)
    end
  end })
end

-- echo accepts and echoes each message as it came (text as text, bytes as bytes) until
-- the client says "bye", which it answers with a close; it returns at the disconnect.
local function echo(scope_, receive, send)
  assert(scope_.type == "websocket")
  local ev = receive()
  if ev.type ~= "websocket.connect" then
    return
  end
  send({ type = ACCEPT })
  while true do
    ev = receive()
    if ev.type == "websocket.disconnect" then
      return
    elseif ev.text == "bye" then
      send({ type = CLOSE, code = 1000, reason = "bye" })
    elseif ev.text ~= nil then
      send({ type = SEND, text = ev.text })
    else
      send({ type = SEND, bytes = ev.bytes })
    end
  end
end

local function echo_client()
  return client(connect(), text("hello"), bytes("\0\255\1"), text("caf\195\169"), text("bye"))
end

-- Events the app sends.
local function accept(subprotocol, headers)
  return { type = ACCEPT, subprotocol = subprotocol, headers = headers }
end

local function say(s)
  return { type = SEND, text = s }
end

local function close(code, reason)
  return { type = CLOSE, code = code, reason = reason }
end

local function deny_start(status, headers)
  return { type = DENY_START, status = status, headers = headers }
end

local function deny_body(b, more)
  return { type = DENY_BODY, body = b, more_body = more }
end

-- sends is an app that takes the websocket.connect and sends the events in order.
local function sends(...)
  local evs = { ... }
  return function(scope_, receive, send)
    assert(scope_.type == "websocket")
    receive()
    for i = 1, #evs do
      send(evs[i])
    end
  end
end

-- receives is an app that calls receive() n times, and then sends the events in order.
local function receives(n, ...)
  local evs = { ... }
  return function(scope_, receive, send)
    for _ = 1, n do
      receive()
    end
    for i = 1, #evs do
      send(evs[i])
    end
  end
end

-- ws fills in a case's defaults: the websocket scope, and a client that connects.
local function ws(c)
  c.scope = c.scope or scope()
  c.events = c.events or client(connect())
  return c
end

local with_ext = function(name)
  return scope(function(s)
    s.extensions[name] = {}
  end)
end

local no_denial = scope(function(s)
  s.extensions = {}
end)

-- scoped is a case of the echo app in a scope changed by change.
local function scoped(name, want, change)
  return { name = name, want = want, app = echo, scope = scope(change), events = echo_client() }
end

return {
  -- Valid exchanges
  { name = "ws-echo", want = "ok", app = echo, scope = scope(), events = echo_client() },
  { name = "ws-echo-until-client-closes", want = "ok", app = echo, scope = scope(),
    events = client(connect(), text("a"), bytes(""), disconnect(1001, "going away")) },
  scoped("ws-http2-wss", "ok", function(s)
    s.http_version, s.scheme = "2", "wss"
  end),
  scoped("ws-root-path", "ok", function(s)
    s.root_path, s.path, s.raw_path = "/app", "/app/chat", "/app/chat"
  end),
  scoped("ws-no-subprotocols", "ok", function(s)
    s.subprotocols = {}
  end),
  scoped("ws-no-extensions-no-client", "ok", function(s)
    s.extensions, s.client = {}, nil
  end),
  ws { name = "ws-subprotocol-offered", want = "ok", app = sends(accept("v2.chat"), say("hi"), close()) },
  ws { name = "ws-subprotocol-empty-as-absent", want = "ok", app = sends(accept(""), close(1000)) },
  ws { name = "ws-accept-headers", want = "ok", app = sends(accept(nil, { { "x-a", "1" }, { "set-cookie", "k=v" } })) },
  ws { name = "ws-close-before-accept", want = "ok", app = sends(close()) },
  ws { name = "ws-close-code-0-as-absent", want = "ok", app = sends(accept(), close(0)) },
  ws { name = "ws-close-codes-at-the-edges", want = "ok",
    app = sends(accept(), close(4999, string.rep("\195\169", 61) .. "x")) },
  ws { name = "ws-close-code-1014", want = "ok", app = sends(accept(), close(1014.0, "")) },
  ws { name = "ws-denial", want = "ok", app = sends(deny_start(403, { { "content-type", "text/plain" } }), deny_body("no")) },
  ws { name = "ws-denial-in-pieces", want = "ok",
    app = sends(deny_start(401, { { "content-length", "4" } }), deny_body("no", true), deny_body("pe", false)) },
  ws { name = "ws-denial-defaults", want = "ok", app = sends({ type = DENY_START, status = 500 }, { type = DENY_BODY }) },
  ws { name = "ws-return-before-answering", want = "ok", app = function() end },
  ws { name = "ws-return-open", want = "ok", app = sends(accept(), say("bye")) },
  ws { name = "ws-first-receive-disconnect", want = "ok", app = echo, events = client(disconnect(1006, "")) },
  ws { name = "ws-receive-after-disconnect", want = "ok", app = receives(50),
    events = client(connect(), disconnect(1001, "going away")) },
  ws { name = "ws-later-minor-event-ignored", want = "ok", app = receives(3, accept()),
    events = client(connect(), { type = "websocket.future" }) },
  ws { name = "ws-offered-extension-event", want = "ok", scope = with_ext("websocket.x-ping"),
    app = sends(accept(), { type = "websocket.x-ping" }) },
  ws { name = "ws-disconnected-error-passes", want = "error", raise = { [2] = "lasgi: disconnected: the client went away" },
    app = sends(accept(), say("x")) },

  -- What the server hands the app: the scope
  scoped("ws-scope-spec-version", "websocket.scope.asgi-version", function(s)
    s.asgi = { version = "3.0", spec_version = "2.4" }
  end),
  scoped("ws-scope-asgi-version", "core.scope.asgi", function(s)
    s.asgi = { version = "2.0", spec_version = "2.5" }
  end),
  scoped("ws-scope-http-version", "websocket.scope.http-version", function(s) s.http_version = "1.0" end),
  scoped("ws-scope-http-version-number", "websocket.scope.http-version", function(s) s.http_version = 1.1 end),
  scoped("ws-scope-scheme-http", "websocket.scope.scheme", function(s) s.scheme = "http" end),
  scoped("ws-scope-scheme-missing", "websocket.scope.scheme", function(s) s.scheme = nil end),
  scoped("ws-scope-path-not-decoded", "websocket.scope.target", function(s) s.path = s.raw_path end),
  scoped("ws-scope-raw-path-query", "websocket.scope.target", function(s)
    s.path, s.raw_path = "/chat", "/chat?v=1"
  end),
  scoped("ws-scope-root-stripped", "websocket.scope.target", function(s)
    s.root_path, s.path, s.raw_path = "/app", "/chat", "/chat"
  end),
  scoped("ws-scope-query-missing", "websocket.scope.target", function(s) s.query_string = nil end),
  scoped("ws-scope-root-path-missing", "websocket.scope.target", function(s) s.root_path = nil end),
  scoped("ws-scope-headers-map", "websocket.scope.headers", function(s) s.headers = { host = "example.test" } end),
  scoped("ws-scope-header-uppercase", "websocket.scope.headers", function(s)
    s.headers = { { "Host", "example.test" } }
  end),
  scoped("ws-scope-header-untrimmed", "websocket.scope.headers", function(s)
    s.headers = { { "host", "example.test " } }
  end),
  scoped("ws-scope-pseudo-header", "websocket.scope.headers", function(s)
    s.http_version = "2"
    s.headers = { { ":protocol", "websocket" } }
  end),
  scoped("ws-scope-client-port-string", "websocket.scope.client-server", function(s)
    s.client = { "127.0.0.1", "51000" }
  end),
  scoped("ws-scope-server-map", "websocket.scope.client-server", function(s)
    s.server = { host = "127.0.0.1", port = 8000 }
  end),
  scoped("ws-scope-subprotocols-missing", "websocket.scope.subprotocols", function(s) s.subprotocols = nil end),
  scoped("ws-scope-subprotocols-string", "websocket.scope.subprotocols", function(s) s.subprotocols = "chat" end),
  scoped("ws-scope-subprotocol-number", "websocket.scope.subprotocols", function(s) s.subprotocols = { "chat", 2 } end),
  scoped("ws-scope-subprotocol-not-utf8", "websocket.scope.subprotocols", function(s) s.subprotocols = { "\255" } end),
  scoped("ws-scope-subprotocols-not-split", "websocket.scope.subprotocols", function(s)
    s.subprotocols = { "chat, v2.chat" }
  end),
  scoped("ws-scope-subprotocol-untrimmed", "websocket.scope.subprotocols", function(s)
    s.subprotocols = { " chat" }
  end),
  scoped("ws-scope-state-missing", "websocket.scope.state", function(s) s.state = nil end),
  scoped("ws-scope-extensions-missing", "websocket.scope.extensions", function(s) s.extensions = nil end),
  scoped("ws-scope-extension-entry", "core.extensions.entry", function(s)
    s.extensions = { ["websocket.http.response"] = true }
  end),
  ws { name = "ws-handshake-in-http-scope", want = "websocket.scope.type", app = receives(1),
    scope = function() end },
  ws { name = "ws-handshake-in-unknown-type", want = "websocket.scope.type", app = receives(1),
    scope = scope(function(s) s.type = "WebSocket" end) },

  -- What the server hands the app: receive()
  ws { name = "ws-first-receive-message", want = "websocket.connect.first", app = echo, events = client(text("x")) },
  ws { name = "ws-first-receive-unknown", want = "websocket.connect.first", app = echo,
    events = client({ type = "websocket.future" }) },
  ws { name = "ws-connect-twice", want = "websocket.connect.first", app = echo, events = client(connect(), connect()) },
  ws { name = "ws-receive-before-accept", want = "websocket.receive.before-accept", app = receives(2),
    events = client(connect(), text("early")) },
  ws { name = "ws-receive-during-denial", want = "websocket.receive.before-accept",
    app = function(scope_, receive, send)
      receive()
      send(deny_start(403))
      receive()
    end,
    events = client(connect(), text("early")) },
  ws { name = "ws-receive-after-close", want = "websocket.close.then-disconnect",
    app = function(scope_, receive, send)
      receive()
      send(accept())
      send(close(1000))
      receive()
    end,
    events = client(connect(), text("late")) },
  ws { name = "ws-receive-neither", want = "websocket.receive.one-of", app = echo,
    events = client(connect(), { type = "websocket.receive" }) },
  ws { name = "ws-receive-both", want = "websocket.receive.one-of", app = echo,
    events = client(connect(), { type = "websocket.receive", text = "a", bytes = "b" }) },
  ws { name = "ws-receive-bytes-number", want = "websocket.receive.binary", app = echo,
    events = client(connect(), { type = "websocket.receive", bytes = 5 }) },
  ws { name = "ws-receive-text-number", want = "websocket.receive.text", app = echo,
    events = client(connect(), { type = "websocket.receive", text = 5 }) },
  ws { name = "ws-receive-text-not-utf8", want = "websocket.receive.text", app = echo,
    events = client(connect(), text("caf\233")) },
  ws { name = "ws-disconnect-code-string", want = "websocket.disconnect.code", app = echo,
    events = client(connect(), { type = "websocket.disconnect", code = "1000", reason = "" }) },
  ws { name = "ws-disconnect-code-float", want = "websocket.disconnect.code", app = echo,
    events = client(connect(), { type = "websocket.disconnect", code = 1000.5, reason = "" }) },
  ws { name = "ws-disconnect-code-missing", want = "core.receive.complete-keys", app = echo,
    events = client(connect(), { type = "websocket.disconnect", reason = "" }) },
  ws { name = "ws-disconnect-reason-number", want = "websocket.disconnect.reason", app = echo,
    events = client(connect(), { type = "websocket.disconnect", code = 1000, reason = 1 }) },
  ws { name = "ws-disconnect-reason-not-utf8", want = "websocket.disconnect.reason", app = echo,
    events = client(connect(), disconnect(1000, "\255")) },
  ws { name = "ws-disconnect-reason-missing", want = "core.receive.complete-keys", app = echo,
    events = client(connect(), { type = "websocket.disconnect", code = 1000 }) },
  ws { name = "ws-disconnect-other-code", want = "websocket.disconnect.repeat", app = receives(3),
    events = client(connect(), disconnect(1001, "bye"), disconnect(1006, "bye")) },
  ws { name = "ws-disconnect-other-reason", want = "websocket.disconnect.repeat", app = receives(3),
    events = client(connect(), disconnect(1001, "bye"), disconnect(1001, "")) },
  ws { name = "ws-connect-after-disconnect", want = "websocket.disconnect.repeat", app = receives(3),
    events = client(connect(), disconnect(1001, "bye"), connect()) },
  ws { name = "ws-disconnect-then-http-disconnect", want = "websocket.disconnect.repeat", app = receives(200),
    events = client(connect(), disconnect(1000, "")) },
  ws { name = "ws-message-after-disconnect", want = "websocket.disconnect.repeat", app = receives(4, accept()),
    events = client(connect(), disconnect(1001, "bye"), text("late")) },
  ws { name = "ws-message-after-disconnect-strict", want = "websocket.disconnect.pending-messages", strict = true,
    app = receives(4), events = client(connect(), disconnect(1001, "bye"), text("late")) },
  ws { name = "ws-receive-nothing", want = "core.receive.event", app = echo, events = { function() end } },

  -- What the app sends: the Lua types of the keys, before order and values
  ws { name = "ws-event-not-table", want = "core.send.event-table", app = sends(ACCEPT) },
  ws { name = "ws-type-missing", want = "core.send.type", app = sends({ subprotocol = "chat" }) },
  ws { name = "ws-accept-subprotocol-number", want = "websocket.accept.subprotocol", app = sends(accept(1)) },
  ws { name = "ws-accept-headers-map", want = "websocket.accept.headers-type", app = sends(accept(nil, { ["x-a"] = "1" })) },
  ws { name = "ws-accept-headers-string", want = "websocket.accept.headers-type", app = sends(accept(nil, "x-a: 1")) },
  ws { name = "ws-accept-header-single", want = "websocket.accept.headers-type", app = sends(accept(nil, { { "x-a" } })) },
  ws { name = "ws-accept-header-number", want = "websocket.accept.headers-type", app = sends(accept(nil, { { "x-a", 1 } })) },
  ws { name = "ws-send-both", want = "websocket.send.one-of", app = sends(accept(), { type = SEND, text = "a", bytes = "b" }) },
  ws { name = "ws-send-neither", want = "websocket.send.one-of", app = sends(accept(), { type = SEND }) },
  ws { name = "ws-send-text-number", want = "websocket.send.text-type", app = sends(accept(), { type = SEND, text = 5 }) },
  ws { name = "ws-send-bytes-number", want = "websocket.send.bytes-type", app = sends(accept(), { type = SEND, bytes = 5 }) },
  ws { name = "ws-send-bytes-false", want = "websocket.send.bytes-type", app = sends(accept(), { type = SEND, bytes = false }) },
  ws { name = "ws-close-code-string", want = "websocket.close.code", app = sends(accept(), close("1000")) },
  ws { name = "ws-close-code-float", want = "websocket.close.code", app = sends(accept(), close(1000.5)) },
  ws { name = "ws-close-reason-number", want = "websocket.close.reason", app = sends(accept(), close(1000, 42)) },
  ws { name = "ws-types-before-order", want = "websocket.send.one-of", app = sends(accept(), close(), { type = SEND }) },
  ws { name = "ws-denial-status-string", want = "websocket.denial.keys", app = sends(deny_start("403")) },
  ws { name = "ws-denial-headers-map", want = "websocket.denial.keys", app = sends(deny_start(403, { ["x-a"] = "1" })) },
  ws { name = "ws-denial-body-number", want = "websocket.denial.keys", app = sends(deny_start(403), deny_body(42)) },
  ws { name = "ws-denial-more-body-string", want = "websocket.denial.keys", app = sends(deny_start(403), deny_body("", "no")) },

  -- What the app sends: order and values
  ws { name = "ws-accept-twice", want = "websocket.accept.once", app = sends(accept(), accept()) },
  ws { name = "ws-accept-during-denial", want = "websocket.accept.once", app = sends(deny_start(403), accept()) },
  ws { name = "ws-accept-subprotocol-unknown", want = "websocket.accept.subprotocol", app = sends(accept("x-not-offered")) },
  ws { name = "ws-accept-subprotocol-none-offered", want = "websocket.accept.subprotocol", app = sends(accept("chat")),
    scope = scope(function(s) s.subprotocols = {} end) },
  ws { name = "ws-accept-header-crlf", want = "http.headers.valid-bytes", app = sends(accept(nil, { { "x-a", "1\r\nx-b: 2" } })) },
  ws { name = "ws-accept-header-space", want = "http.headers.valid-bytes", app = sends(accept(nil, { { "x a", "1" } })) },
  ws { name = "ws-accept-protocol-header", want = "websocket.accept.no-protocol-header",
    app = sends(accept(nil, { { "sec-websocket-protocol", "chat" } })) },
  ws { name = "ws-accept-protocol-header-uppercase", want = "websocket.accept.no-protocol-header", strict = true,
    app = sends(accept(nil, { { "X-A", "1" }, { "Sec-WebSocket-Protocol", "chat" } })) },
  ws { name = "ws-accept-header-uppercase", want = "warn:http.headers.name-lowercase",
    app = sends(accept(nil, { { "X-A", "1" } }), close()) },
  ws { name = "ws-accept-header-uppercase-strict", want = "http.headers.name-lowercase", strict = true,
    app = sends(accept(nil, { { "X-A", "1" } }), close()) },
  ws { name = "ws-send-before-accept", want = "websocket.send.after-accept", app = sends(say("early")) },
  ws { name = "ws-send-text-not-utf8", want = "websocket.send.text-type", app = sends(accept(), say("\255")) },
  ws { name = "ws-send-after-close", want = "websocket.send.after-close", app = sends(accept(), close(1000), say("late")) },
  ws { name = "ws-accept-after-close", want = "websocket.send.after-close", app = sends(close(), accept()) },
  ws { name = "ws-close-twice", want = "websocket.send.after-close", app = sends(accept(), close(), close()) },
  ws { name = "ws-not-utf8-after-close", want = "websocket.send.after-close", app = sends(accept(), close(), say("\255")) },
  ws { name = "ws-unknown-after-close", want = "websocket.send.after-close", app = sends(close(), { type = "websocket.begin" }) },
  ws { name = "ws-close-code-1005", want = "websocket.close.code", app = sends(accept(), close(1005)) },
  ws { name = "ws-close-code-1004", want = "websocket.close.code", app = sends(accept(), close(1004)) },
  ws { name = "ws-close-code-2999", want = "websocket.close.code", app = sends(accept(), close(2999)) },
  ws { name = "ws-close-code-5000", want = "websocket.close.code", app = sends(accept(), close(5000)) },
  ws { name = "ws-close-code-negative", want = "websocket.close.code", app = sends(accept(), close(-1000)) },
  ws { name = "ws-close-reason-124-bytes", want = "websocket.close.reason", app = sends(accept(), close(1000, string.rep("x", 124))) },
  ws { name = "ws-close-reason-not-utf8", want = "websocket.close.reason", app = sends(accept(), close(1000, "\255")) },
  ws { name = "ws-denial-not-offered", want = "websocket.denial.offered", app = sends(deny_start(403)), scope = no_denial },
  ws { name = "ws-denial-body-not-offered", want = "websocket.denial.offered", app = sends(deny_body("no")), scope = no_denial },
  ws { name = "ws-denial-after-accept", want = "websocket.denial.when", app = sends(accept(), deny_start(403)) },
  ws { name = "ws-close-during-denial", want = "websocket.denial.when", app = sends(deny_start(403), close()) },
  ws { name = "ws-send-during-denial", want = "websocket.connect.reply", app = sends(deny_start(403), say("x")) },
  ws { name = "ws-after-denial", want = "websocket.denial.close", app = sends(deny_start(403), deny_body("no"), close()) },
  ws { name = "ws-denial-body-after-denial", want = "websocket.denial.close",
    app = sends(deny_start(403), deny_body("no"), deny_body("more")) },
  ws { name = "ws-denial-body-first", want = "websocket.denial.keys", app = sends(deny_body("no"), deny_start(403)) },
  ws { name = "ws-denial-start-twice", want = "websocket.denial.keys", app = sends(deny_start(403), deny_start(403)) },
  ws { name = "ws-denial-status-101", want = "websocket.denial.keys", app = sends(deny_start(101)) },
  ws { name = "ws-denial-status-600", want = "websocket.denial.keys", app = sends(deny_start(600)) },
  ws { name = "ws-denial-header-crlf", want = "websocket.denial.keys", app = sends(deny_start(403, { { "x-a", "1\n" } })) },
  ws { name = "ws-denial-header-uppercase", want = "warn:http.headers.name-lowercase",
    app = sends(deny_start(403, { { "X-A", "1" } }), deny_body("no")) },
  ws { name = "ws-denial-content-length", want = "websocket.denial.keys",
    app = sends(deny_start(403, { { "content-length", "x" } }), deny_body("no")) },
  ws { name = "ws-denial-content-length-exceeded", want = "websocket.denial.keys",
    app = sends(deny_start(403, { { "content-length", "1" } }), deny_body("no")) },
  ws { name = "ws-denial-body-on-304", want = "warn:http.body.no-body-status", app = sends(deny_start(304), deny_body("no")) },
  ws { name = "ws-http-event", want = "core.send.type", app = sends({ type = "http.response.start", status = 403 }) },
  ws { name = "ws-type-unknown", want = "core.send.type", app = sends(accept(), { type = "websocket.ping" }) },
  ws { name = "ws-extension-not-offered", want = "core.send.type", app = sends(accept(), { type = "websocket.x-ping" }) },
}
