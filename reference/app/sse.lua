-- LASGI reference app: a server-sent-events clock. It needs the lasgi.timers
-- extension (spec/timers.md) and raises, before it sends anything, in a scope
-- that does not offer it (the server answers 500); it serves http scopes only.
--
--   GET           200 with content-type text/event-stream, cache-control no-cache
--                 and x-accel-buffering no (nginx: do not buffer), then
--                   ": heartbeat\n\n"                  at once, so that clients and
--                                                      proxies see bytes right away,
--                   "id: N\ndata: N TIME\n\n"          one event per interval, N = 1, 2, ...
--                                                      and TIME = os.time() when it is
--                                                      sent (Unix seconds on POSIX and
--                                                      gopher-lua),
--                   ": heartbeat\n\n"                  again whenever `heartbeat` seconds
--                                                      would otherwise pass without a write
--                                                      (only when interval > heartbeat).
--                 A request body, if any, is read and discarded before the response.
--   HEAD          the same head, no body (and no content-length: the GET's is a stream).
--   other methods 405 (allow: GET, HEAD).
--
--   query interval=SECONDS   time between events: a decimal number (digits, at most one
--                            point; no sign or exponent) from 0.05 to 60; default 1.
--   query heartbeat=SECONDS  longest silence, the same syntax and range; default 15.
--   query count=N            complete the response after N events (0 to 10^9; 0: the head
--                            and the first heartbeat only); default: no end.
-- An invalid or out-of-range value is answered with 400 and a text/plain reason; the
-- first occurrence of a parameter counts, unknown parameters are ignored, values are
-- not percent-decoded.
--
-- The stream ends when the client leaves: every wait is a receive({timeout = ...}),
-- which returns http.disconnect as soon as the server sees the client gone, and the app
-- returns without another send. An endless stream also ends at the server's app timeout
-- (lasgi-serve: --app-timeout, 5 minutes by default; -1ns for none).
--
-- The clock. Plain Lua has no wall clock finer than os.time() (whole seconds), and
-- os.clock() is CPU time, which stands still while the app waits. So the app keeps a
-- clock of its own, in seconds since the head: the sum of its waits that ended in
-- lasgi.timeout (each lasted at least its timeout: rule timers.receive.not-early),
-- raised to what os.time() proves has passed (whole seconds, less one for the two
-- truncations). That clock never runs ahead of real time, so no event is early: event
-- N goes out no sooner than N intervals after the head. Each wait lasts until the next
-- tick or the heartbeat due, whichever is first, and a heartbeat does not move the
-- ticks. The clock runs behind real time by what it cannot see: the server's lateness
-- in ending each wait (about 5 ms on the reference server, which ends waits in
-- batches), the app's own run time, a send held up by a slow client. N events take about N x (interval +
-- lateness) then, until os.time() proves the clock behind: a tick due is then sent at
-- once and ticks missed by a whole interval are dropped, not made up (as Go's
-- time.Ticker drops them), so events never come in a burst and ids stay consecutive.
-- With intervals of a few seconds that takes back the lateness once it passes about a
-- second; with short ones it only keeps a stall from being followed by a burst.
-- A wait ended by any other event (none is expected once the body is read) counts for
-- nothing but what os.time() proves.
local DEFAULT_INTERVAL = 1
local DEFAULT_HEARTBEAT = 15
local MIN_SECONDS, MAX_SECONDS = 0.05, 60
local MAX_COUNT = 1000000000
local HEARTBEAT = ": heartbeat\n\n"
local EPS = 1e-6 -- a tick or heartbeat due within a microsecond is due: no waits of 1e-16 s

local HEAD = {
  type = "http.response.start",
  status = 200,
  headers = {
    { "content-type", "text/event-stream" },
    { "cache-control", "no-cache" },
    { "x-accel-buffering", "no" },
  },
}
local EMPTY = { type = "http.response.body", body = "", more_body = false }

local function part(body, more)
  return { type = "http.response.body", body = body, more_body = more }
end

local function answer(send, status, text, headers)
  local h = { { "content-type", "text/plain" } }
  for _, kv in ipairs(headers or {}) do
    h[#h + 1] = kv
  end
  send({ type = "http.response.start", status = status, headers = h })
  send(part("sse.lua: " .. text .. "\n", false))
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

-- Reads the parameter name as seconds: default when absent, nil when invalid.
local function seconds(qs, name, default)
  local v = query_value(qs, name)
  if v == nil then
    return default
  end
  if not (string.find(v, "^%d+%.?%d*$") or string.find(v, "^%.%d+$")) then
    return nil
  end
  local n = tonumber(v)
  if n == nil or n < MIN_SECONDS or n > MAX_SECONDS then
    return nil
  end
  return n
end

-- Reads count: false when absent (no end), nil when invalid.
local function count_of(qs)
  local v = query_value(qs, "count")
  if v == nil then
    return false
  end
  if not string.find(v, "^%d+$") then
    return nil
  end
  v = string.gsub(v, "^0+(%d)", "%1")
  if #v > 10 then -- past MAX_COUNT, and tonumber might make it inf, or nil
    return nil
  end
  local n = tonumber(v)
  if n > MAX_COUNT then
    return nil
  end
  return n
end

-- The events of the stream, paced as the header says; returns when it is complete
-- or the client has gone.
local function stream(receive, send, interval, heartbeat, count)
  send(HEAD)
  local start = os.time()
  send(part(HEARTBEAT, true))
  if count == 0 then
    send(EMPTY)
    return
  end
  local clock = 0 -- seconds since the head, never more than have passed
  local last_write = 0 -- the clock at the last write
  local next_tick = interval
  local n = 0
  while true do
    local proven = os.difftime(os.time(), start) - 1
    if proven > clock then
      clock = proven
    end
    if clock >= next_tick - EPS then
      n = n + 1
      local last = n == count
      send(part(string.format("id: %d\ndata: %d %d\n\n", n, n, os.time()), not last))
      if last then
        return
      end
      last_write = clock
      next_tick = next_tick + interval
      if next_tick <= clock then -- a whole interval behind: drop the missed ticks
        next_tick = next_tick + math.floor((clock - next_tick) / interval + 1) * interval
        while next_tick <= clock do -- rounding
          next_tick = next_tick + interval
        end
      end
    elseif clock >= last_write + heartbeat - EPS then
      send(part(HEARTBEAT, true))
      last_write = clock
    else
      local due = last_write + heartbeat
      if next_tick < due then
        due = next_tick
      end
      local event = receive({ timeout = due - clock })
      local t = event.type
      if t == "lasgi.timeout" then
        clock = due
      elseif t == "http.disconnect" then
        return
      end
    end
  end
end

return function(scope, receive, send)
  -- Only http scopes of LASGI 1.x (spec rules core.app.scope-type, core.scope.version-check).
  if scope.type ~= "http" then
    error("sse.lua serves http scopes only, not " .. tostring(scope.type), 0)
  end
  local lasgi = scope.lasgi
  if type(lasgi) == "table" and type(lasgi.version) == "string" and lasgi.version:sub(1, 2) ~= "1." then
    error("sse.lua knows LASGI 1.x, not " .. lasgi.version, 0)
  end
  -- receive({timeout}) only where offered (spec rule timers.offered-only).
  local ext = scope.extensions
  if type(ext) ~= "table" or ext["lasgi.timers"] == nil then
    error('sse.lua needs the lasgi.timers extension (scope.extensions["lasgi.timers"]), which this server does not offer', 0)
  end

  local method = scope.method
  if method ~= "GET" and method ~= "HEAD" then
    return answer(send, 405, "GET or HEAD only", { { "allow", "GET, HEAD" } })
  end
  local qs = scope.query_string or ""
  local interval = seconds(qs, "interval", DEFAULT_INTERVAL)
  if interval == nil then
    return answer(send, 400, "interval must be a decimal number of seconds from 0.05 to 60")
  end
  local heartbeat = seconds(qs, "heartbeat", DEFAULT_HEARTBEAT)
  if heartbeat == nil then
    return answer(send, 400, "heartbeat must be a decimal number of seconds from 0.05 to 60")
  end
  local count = count_of(qs)
  if count == nil then
    return answer(send, 400, "count must be a whole number from 0 to 1000000000")
  end
  if method == "HEAD" then
    -- An empty part first: the response is then a stream, of no length the server
    -- would state (a content-length: 0 would misdescribe the GET's).
    send(HEAD)
    send(part("", true))
    send(EMPTY)
    return
  end

  -- The request body, read to its end before the stream starts: afterwards only
  -- http.disconnect can end a wait early.
  while true do
    local event = receive()
    if event.type == "http.disconnect" then
      return
    elseif event.type == "http.request" and not event.more_body then
      break
    end
  end
  return stream(receive, send, interval, heartbeat, count)
end
