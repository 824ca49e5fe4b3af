-- Test driver for probe.lua: a small simulated server around drive.lua. Runs unchanged on
-- lua5.1, lua5.4, luajit and gopher-lua; run it from reference/app (it loads
-- testdata/drive.lua).
--
-- As a script:  lua testdata/probe_drive.lua MODE < INPUT   (runs probe.lua; transcript
--               to stdout)
-- As a chunk:   dofile("testdata/probe_drive.lua") returns run(probe_source, input, mode).
--
-- INPUT is Lua source returning a list of exchanges, each
--   {input = <drive.lua input source>, disconnect_after = <n or nil>}.
-- The probe is loaded once, so its kept reports carry over from one exchange to the next.
-- Each exchange runs through drive.lua (MODE "sync" or "coroutine") with a send() that
-- checks every event against the LASGI HTTP rules the way a server does, raising
-- "lasgi: <rule-id>: <detail>" for a broken rule; rejected events have no effect and are
-- not in the transcript. With disconnect_after = n, the client goes away after n
-- accepted sends: later sends raise "lasgi: disconnected: ..." (unless the response is
-- complete, which is checked first) and receive() returns http.disconnect.
-- The transcript is drive.lua's for each exchange, each followed by the line "exchange".
--
-- In coroutine mode, pcall is first replaced by a yield-safe version (as the reference
-- server does on gopher-lua), since the probe calls send inside pcall and send yields.

local load_ = loadstring or load
local drive = dofile("testdata/drive.lua")

local function violation(rule, detail)
  error("lasgi: " .. rule .. ": " .. detail, 0)
end

local function count_keys(t)
  local n = 0
  for _ in pairs(t) do
    n = n + 1
  end
  return n
end

-- A list of {name, value} string pairs, or nil (absent); anything else breaks rule.
local function check_header_list(h, rule)
  if h == nil then
    return {}
  end
  if type(h) ~= "table" then
    violation(rule, "headers must be a list, got " .. type(h))
  end
  local n = count_keys(h)
  for i = 1, n do
    local pair = rawget(h, i)
    if type(pair) ~= "table" then
      violation(rule, "headers must be a list of {name, value} pairs")
    end
    if count_keys(pair) ~= 2 or type(rawget(pair, 1)) ~= "string" or type(rawget(pair, 2)) ~= "string" then
      violation(rule, "header " .. i .. " must be two strings")
    end
  end
  return h
end

local function check_header_bytes(h)
  for i = 1, #h do
    local name, value = h[i][1], h[i][2]
    if name == "" then
      violation("http.headers.valid-bytes", "header " .. i .. " has an empty name")
    end
    if string.find(name, "[A-Z]") then
      violation("http.headers.name-lowercase", "header " .. i .. " name is not lowercase")
    end
    if string.find(name, "[^0-9a-z!#$%%&'*+%-%.%^_`|~]") then
      violation("http.headers.valid-bytes", "header " .. i .. " name is not a token")
    end
    if string.find(value, "\r", 1, true) or string.find(value, "\n", 1, true) or string.find(value, "\0", 1, true) then
      violation("http.headers.valid-bytes", "header " .. i .. " value has CR, LF or NUL")
    end
  end
end

local function check_bool(ev, key, rule)
  local v = rawget(ev, key)
  if v ~= nil and type(v) ~= "boolean" then
    violation(rule, key .. " must be a boolean, got " .. type(v))
  end
  return v == true
end

-- The simulated server's view of one response.
local function new_response()
  return {
    started = false, status = 0, trailers = false, body_done = false, complete = false,
    length = -1, bytes = 0, accepted = 0, gone = false,
  }
end

-- Checks ev as the next event of response r; raises on a broken rule, otherwise advances r.
local function check(r, ev, disconnect_after)
  if type(ev) ~= "table" then
    violation("core.send.event-table", "send takes an event table, got " .. type(ev))
  end
  local t = rawget(ev, "type")
  if type(t) ~= "string" then
    violation("core.send.type", "event type must be a string, got " .. type(t))
  end
  -- value types
  local status, headers, trailers, body, more
  if t == "http.response.start" then
    status = rawget(ev, "status")
    if type(status) ~= "number" or status ~= math.floor(status) or status == math.huge or status == -math.huge then
      violation("http.start.status-type", "status must be an integer, got " .. type(status))
    end
    headers = check_header_list(rawget(ev, "headers"), "http.start.headers-type")
    trailers = check_bool(ev, "trailers", "http.start.trailers-type")
  elseif t == "http.response.body" then
    body = rawget(ev, "body")
    if body == nil then
      body = ""
    elseif type(body) ~= "string" then
      violation("http.body.body-type", "body must be a string, got " .. type(body))
    end
    more = check_bool(ev, "more_body", "http.body.more-body-type")
  elseif t == "http.response.trailers" then
    headers = check_header_list(rawget(ev, "headers"), "http.trailers.headers-type")
    more = check_bool(ev, "more_trailers", "http.trailers.more-trailers-type")
  elseif t == "lasgi.group.join" or t == "lasgi.group.leave" or t == "lasgi.group.send" then
    -- Taken as they are, apart from the response: the probe's tests check what it sent.
    return
  else
    violation("core.send.type", t .. " is not an event an app sends in an http scope")
  end
  -- order and values
  if r.complete then
    violation("http.send.after-complete", t .. " sent after the response was complete")
  end
  if r.gone then
    error("lasgi: disconnected: the client went away", 0)
  end
  if t == "http.response.start" then
    if r.started then
      violation("http.start.once", "http.response.start sent twice")
    end
    if status < 200 or status > 599 then
      violation("http.start.status-range", "status " .. status .. " is outside 200..599")
    end
    check_header_bytes(headers)
    local length = -1
    for i = 1, #headers do
      if headers[i][1] == "content-length" then
        local v = headers[i][2]
        if not string.find(v, "^%d+$") or (length >= 0 and tonumber(v) ~= length) then
          violation("http.body.content-length", "content-length is not one non-negative integer")
        end
        length = tonumber(v)
      end
    end
    r.started, r.status, r.trailers, r.length = true, status, trailers, length
  elseif t == "http.response.body" then
    if not r.started then
      violation("http.start.first", "http.response.body sent before http.response.start")
    end
    if r.body_done then
      violation("http.trailers.after-body", "http.response.body sent after the last body event")
    end
    if #body > 0 and (r.status == 204 or r.status == 304) then
      violation("http.body.no-body-status", "a " .. r.status .. " response has no body")
    end
    if r.length >= 0 and r.bytes + #body > r.length then
      violation("http.body.content-length", "body exceeds the declared content-length")
    end
    r.bytes = r.bytes + #body
    if not more then
      r.body_done = true
      r.complete = not r.trailers
    end
  else
    if not r.started then
      violation("http.start.first", "http.response.trailers sent before http.response.start")
    end
    if not r.trailers then
      violation("http.trailers.requires-flag", "http.response.start did not set trailers = true")
    end
    if not r.body_done then
      violation("http.trailers.after-body", "http.response.trailers sent before the last http.response.body")
    end
    check_header_bytes(headers)
    r.complete = not more
  end
  r.accepted = r.accepted + 1
  if disconnect_after and r.accepted >= disconnect_after then
    r.gone = true
  end
end

-- The probe wrapped in the simulated server's checks for one exchange.
local function serve(app, exchange)
  return function(scope, receive, send)
    local r = new_response()
    local function checked_receive()
      local ev = receive()
      if r.gone then
        return { type = "http.disconnect" }
      end
      return ev
    end
    local function checked_send(ev)
      check(r, ev, exchange.disconnect_after)
      send(ev)
    end
    -- not a tail call: gopher-lua loses a coroutine whose bottom frame was a tail call
    app(scope, checked_receive, checked_send)
  end
end

-- The yield-safe pcall of the reference server's gopher-lua prelude.
local function install_yield_safe_pcall()
  local co_create, co_resume, co_yield, co_status = coroutine.create, coroutine.resume, coroutine.yield, coroutine.status
  local function pass(co, ok, ...)
    if not ok or co_status(co) == "dead" then
      return ok, ...
    end
    return pass(co, co_resume(co, co_yield(...)))
  end
  local function id(...)
    return ...
  end
  pcall = function(f, ...)
    local co = co_create(function(...)
      return id(f(...))
    end)
    return pass(co, co_resume(co, ...))
  end
end

local function run(probe_source, input, mode)
  if mode == "coroutine" then
    install_yield_safe_pcall()
  end
  local app = assert(load_(probe_source, "@probe.lua"))()
  local exchanges = assert(load_(input, "=input"))()
  -- one piece per exchange, concatenated in groups of 100 (gopher-lua's table.concat
  -- overflows its value stack beyond about 2500 elements)
  local out, group = {}, {}
  for i = 1, #exchanges do
    group[#group + 1] = drive(serve(app, exchanges[i]), exchanges[i].input, mode) .. "exchange\n"
    if #group == 100 then
      out[#out + 1] = table.concat(group)
      group = {}
    end
  end
  out[#out + 1] = table.concat(group)
  return table.concat(out)
end

if select("#", ...) > 0 then
  local mode = ...
  local f = assert(io.open("probe.lua", "rb"))
  local src = f:read("*a")
  f:close()
  io.write(run(src, io.read("*a"), mode))
  return
end
return run
