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
-- (code 1000) again and again, as a server does once the socket has closed (up to a
-- limit: after it the driver's own http.disconnect comes, for an app that never stops).
local function client(...)
  local list = { ... }
  local n = #list
  return setmetatable(list, { __index = function(_, i)
    if type(i) == "number" and i > n and i <= n + 100 then
      return disconnect(1000, "")
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
}
