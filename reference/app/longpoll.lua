-- LASGI reference app: long polling. A GET waits for the next message published to a
-- topic, or gives up after a timeout; a POST publishes one. It needs the lasgi.groups
-- and lasgi.timers extensions (spec/groups.md, spec/timers.md) and raises, before it
-- sends anything, in a scope that does not offer both (the server answers 500); it
-- serves http scopes only.
--
--   GET /poll/TOPIC          waits for the next message to TOPIC: 200 text/plain with
--                            the message as its body (and x-dropped: N when N messages
--                            to this poll were dropped before it, which takes more than
--                            the server's group queue of them in a burst); 204 when
--                            none came within the timeout. A client that leaves ends
--                            the wait at once.
--     query timeout=SECONDS  a decimal number (digits, at most one point) from 0 to
--                            300; default 30.
--   POST /publish/TOPIC      publishes the request body to TOPIC: 202 text/plain once
--                            it is sent to every poll waiting then, on every worker and
--                            every process that shares the server's groups; 413 when
--                            the body is more than max_message_bytes less 19 (the size
--                            of {body = ""}); 503 with the server's error when it
--                            cannot pass the message on (its groups service is down).
--   HEAD                     as GET without a body, and without waiting.
--   other paths 404; other methods 405.
--
-- TOPIC is 1 to 94 characters of A-Z a-z 0-9 . _ -; its group is "poll.TOPIC". A
-- message published while no poll waits reaches nobody: a poller that wants every
-- message polls again at once, and the server's queue keeps what comes meanwhile
-- only for a poll still waiting.
local MAX_TOPIC = 94 -- "poll." plus 94 is within the 99 a group name may have
local OVERHEAD = 19 -- the size of {body = ""}: a table 5, the key 5 + 4, the value 5
local DEFAULT_TIMEOUT, MAX_TIMEOUT = 30, 300

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

local function answer(send, status, text, headers)
  local h = { { "content-type", "text/plain" } }
  for _, kv in ipairs(headers or {}) do
    h[#h + 1] = kv
  end
  send({ type = "http.response.start", status = status, headers = h })
  send({ type = "http.response.body", body = text, more_body = false })
end

-- The raw value of the first `name=` parameter of qs, or nil.
local function query_value(qs, name)
  for pair in string.gmatch(qs, "[^&]+") do
    local k, v = string.match(pair, "^([^=]*)=(.*)$")
    if k == name then
      return v
    end
  end
  return nil
end

-- The timeout the query asks for: the default when absent, nil when invalid.
local function timeout_of(qs)
  local v = query_value(qs, "timeout")
  if v == nil then
    return DEFAULT_TIMEOUT
  end
  if not (string.find(v, "^%d+%.?%d*$") or string.find(v, "^%.%d+$")) then
    return nil
  end
  local n = tonumber(v)
  if n == nil or n > MAX_TIMEOUT then
    return nil
  end
  return n
end

-- Reads the request body, at most limit bytes: the body, or nil when it is longer
-- (what is left is not read: the server discards it) or the client left (false).
local function read_body(receive, limit)
  local parts, size = {}, 0
  while true do
    local event = receive()
    if event.type == "http.disconnect" then
      return false
    end
    local body = event.body or ""
    size = size + #body
    if size > limit then
      return nil
    end
    parts[#parts + 1] = body
    if not event.more_body then
      return table.concat(parts)
    end
  end
end

local function poll(receive, send, group, timeout)
  send({ type = "lasgi.group.join", group = group }) -- before the wait: nothing is missed
  local left = timeout
  while true do
    local event = receive({ timeout = left })
    local t = event.type
    if t == "lasgi.group.message" then
      local headers = {}
      if event.dropped then
        headers[1] = { "x-dropped", tostring(event.dropped) }
      end
      local body = event.data.body
      return answer(send, 200, type(body) == "string" and body or "", headers)
    elseif t == "lasgi.timeout" then
      return answer(send, 204, "")
    elseif t == "http.disconnect" then
      return
    end
    -- http.request (a GET's empty body): the wait goes on. It took no time worth
    -- counting; a body sent slowly makes the wait longer, never shorter.
  end
end

local function publish(receive, send, group, limits)
  local max = limits.max_message_bytes - OVERHEAD
  local body = read_body(receive, max)
  if body == false then
    return
  elseif body == nil then
    return answer(send, 413, "longpoll.lua: a message is " .. max .. " bytes at most\n")
  end
  -- A server whose groups span processes raises when it cannot reach them
  -- (groups.send.unavailable): the client is told, the call goes on.
  local ok, err = try_send(send, { type = "lasgi.group.send", group = group, data = { body = body } })
  if not ok then
    return answer(send, 503, "longpoll.lua: not published: " .. tostring(err) .. "\n")
  end
  return answer(send, 202, "longpoll.lua: published\n")
end

return function(scope, receive, send)
  if scope.type ~= "http" then
    error("longpoll.lua serves http scopes only, not " .. tostring(scope.type), 0)
  end
  -- LASGI 1.x only (spec rule core.scope.version-check).
  local lasgi = scope.lasgi
  if type(lasgi) == "table" and type(lasgi.version) == "string" and lasgi.version:sub(1, 2) ~= "1." then
    error("longpoll.lua knows LASGI 1.x, not " .. lasgi.version, 0)
  end
  local ext = scope.extensions
  local limits = type(ext) == "table" and ext["lasgi.groups"]
  if type(limits) ~= "table" or ext["lasgi.timers"] == nil then
    error("longpoll.lua needs the lasgi.groups and lasgi.timers extensions, which this server does not both offer", 0)
  end
  local kind, topic = string.match(scope.path, "^/(%l+)/([A-Za-z0-9._-]+)$")
  if (kind ~= "poll" and kind ~= "publish") or #topic > MAX_TOPIC then
    return answer(send, 404, "longpoll.lua: GET /poll/TOPIC or POST /publish/TOPIC\n")
  end
  local method = scope.method
  if kind == "publish" then
    if method ~= "POST" then
      return answer(send, 405, "longpoll.lua: POST only\n", { { "allow", "POST" } })
    end
    return publish(receive, send, "poll." .. topic, limits)
  end
  if method == "HEAD" then
    return answer(send, 204, "")
  elseif method ~= "GET" then
    return answer(send, 405, "longpoll.lua: GET or HEAD only\n", { { "allow", "GET, HEAD" } })
  end
  local timeout = timeout_of(scope.query_string or "")
  if timeout == nil then
    return answer(send, 400, "longpoll.lua: timeout must be a decimal number of seconds from 0 to 300\n")
  end
  return poll(receive, send, "poll." .. topic, timeout)
end
