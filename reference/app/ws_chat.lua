-- LASGI reference app: a WebSocket chat. A client connects to /room/NAME, and every
-- text message it sends reaches every socket in that room, itself included, on every
-- worker of the server and, when the server's groups span processes (lasgi-serve
-- --groups redis://HOST:PORT), on every process. It needs the lasgi.groups extension
-- (spec/groups.md).
--
--   websocket /room/NAME   NAME is 1 to 90 characters of A-Z a-z 0-9 . _ -; the room is
--                          the group "room.NAME". Accepted, then:
--                            a text message T        goes to the room; every member sends
--                                                    its client T as a text message
--                            a binary message        answered, to the sender alone, with the
--                                                    text "ws_chat.lua: text messages only"
--                            a message too large     (more than max_message_bytes less 19,
--                                                    the size of {text = ""}) answered so:
--                                                    "ws_chat.lua: message too large (N bytes
--                                                    at most)"
--                            a message the server cannot pass on (its groups
--                                                    service is down) answered to the
--                                                    sender: "ws_chat.lua: not sent: ERROR"
--                          When messages to a socket were dropped because it fell behind
--                          (its queue, scope.extensions["lasgi.groups"].queue, was full),
--                          it is sent "ws_chat.lua: N messages dropped" before the next one.
--   websocket, other paths   denied: closed before the handshake (the client sees 403).
--   websocket, no groups     closed after accepting it, with code 1011 and a reason; so
--                            too when the server cannot join the room (its groups
--                            service is down), after a text message saying why.
--   http                     200 text/plain saying how to connect; 405 but for GET and HEAD.
--   lifespan                 supported, with nothing to set up.
--
-- The room is left when the socket closes: the call returns and its memberships end
-- with it (groups.call-end).
local MAX_NAME = 90 -- "room." plus 90 is within the 99 a group name may have
local OVERHEAD = 19 -- the size of {text = ""}: a table 5, the key 5 + 4, the value 5

-- Whether pcall can hold a receive() or send() that yields: Lua 5.2 and later and
-- LuaJIT can; plain Lua 5.1 and gopher-lua cannot, unless the server replaced pcall
-- with a Lua function that can, as lasgi-serve does on gopher-lua (spec rule
-- core.call.yield-safe-pcall). Where it cannot, a send that has to wait inside pcall
-- would fail, so the app sends without catching, and a server that cannot reach its
-- groups then ends the call. (Trying a yield inside pcall to find out is no good:
-- gopher-lua's own pcall breaks on the second.)
local YIELD_SAFE_PCALL = _VERSION ~= "Lua 5.1" or type(jit) == "table"
  or (type(debug) == "table" and type(debug.getinfo) == "function" and debug.getinfo(pcall, "S").what == "Lua")

-- try_send sends ev, returning false and the error where send raised, when it can.
local function try_send(send, ev)
  if YIELD_SAFE_PCALL then
    return pcall(send, ev)
  end
  send(ev)
  return true
end

local function http(scope, send)
  local status, body, headers = 200, "ws_chat.lua: connect a WebSocket to /room/NAME\n", {}
  if scope.method ~= "GET" and scope.method ~= "HEAD" then
    status, body = 405, "ws_chat.lua: GET or HEAD only\n"
    headers[1] = { "allow", "GET, HEAD" }
  end
  table.insert(headers, 1, { "content-type", "text/plain" })
  send({ type = "http.response.start", status = status, headers = headers })
  send({ type = "http.response.body", body = scope.method == "HEAD" and "" or body, more_body = false })
end

local function lifespan(receive, send)
  while true do
    local event = receive()
    if event.type == "lifespan.startup" then
      send({ type = "lifespan.startup.complete" })
    elseif event.type == "lifespan.shutdown" then
      send({ type = "lifespan.shutdown.complete" })
      return
    end
  end
end

local function say(send, text)
  send({ type = "websocket.send", text = text })
end

local function chat(send, receive, room, limits)
  local max_text = limits.max_message_bytes - OVERHEAD
  send({ type = "websocket.accept" })
  local joined, err = try_send(send, { type = "lasgi.group.join", group = room })
  if not joined then -- the server cannot reach its groups service
    say(send, "ws_chat.lua: cannot join the room: " .. tostring(err))
    send({ type = "websocket.close", code = 1011, reason = "ws_chat.lua: the room is unreachable" })
    return
  end
  while true do
    local event = receive()
    local t = event.type
    if t == "lasgi.group.message" then
      if event.dropped then
        say(send, "ws_chat.lua: " .. event.dropped .. " messages dropped")
      end
      local text = event.data.text
      if type(text) == "string" then
        say(send, text)
      end
    elseif t == "websocket.receive" then
      local text = event.text
      if text == nil then
        say(send, "ws_chat.lua: text messages only")
      elseif #text > max_text then
        say(send, "ws_chat.lua: message too large (" .. max_text .. " bytes at most)")
      else
        -- A server whose groups span processes raises when it cannot reach
        -- them (groups.send.unavailable): the sender is told, the socket stays.
        local ok, err = try_send(send, { type = "lasgi.group.send", group = room, data = { text = text } })
        if not ok then
          say(send, "ws_chat.lua: not sent: " .. tostring(err))
        end
      end
    elseif t == "websocket.disconnect" then
      return
    end
  end
end

return function(scope, receive, send)
  -- LASGI 1.x only (spec rule core.scope.version-check).
  local lasgi = scope.lasgi
  if type(lasgi) == "table" and type(lasgi.version) == "string" and lasgi.version:sub(1, 2) ~= "1." then
    error("ws_chat.lua knows LASGI 1.x, not " .. lasgi.version, 0)
  end
  if scope.type == "lifespan" then
    return lifespan(receive, send)
  elseif scope.type == "http" then
    return http(scope, send)
  elseif scope.type ~= "websocket" then
    error("ws_chat.lua serves websocket, http and lifespan scopes, not " .. tostring(scope.type), 0)
  end
  local name = string.match(scope.path, "^/room/([A-Za-z0-9._-]+)$")
  if name == nil or #name > MAX_NAME then
    receive() -- websocket.connect
    send({ type = "websocket.close" }) -- before accept: the handshake is denied
    return
  end
  local ext = scope.extensions
  local limits = type(ext) == "table" and ext["lasgi.groups"]
  if type(limits) ~= "table" then
    receive()
    send({ type = "websocket.accept" })
    send({ type = "websocket.close", code = 1011, reason = "ws_chat.lua needs the lasgi.groups extension" })
    return
  end
  receive() -- websocket.connect
  return chat(send, receive, "room." .. name, limits)
end
