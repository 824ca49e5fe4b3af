-- lasgi.timers (spec/timers.md) as lasgi-check's harness (harness.lua) plays it. It is
-- offered where the case's scope lists it (lasgi-check's http and websocket cases; a
-- lifespan scope has no extensions), and receive()'s argument is checked as the reference
-- engine checks it (luatype.ReceiveOptions), raising "lasgi: <rule>: ..." at level 0. Time
-- in the harness is virtual: it has no clock to sleep on, and nothing could happen while it
-- slept, since what the client does next is the script's. receive({timeout = T}) returns
-- the event the harness has to give, else lasgi.timeout at once. The client leaves an http
-- case at the same point as lasgi-check's in-process checker (conformance/app.go): once the
-- body is over and the app waits for more, with a timeout or without (a timeout of 0 only
-- looks, and waits for nothing). The timeouts returned add up, from the last event handed
-- over: past the case's timeout the app counts as waiting for good, as the in-process
-- checker finds it after as long.
--
-- dofile("timers.lua") returns the module: TIMEOUT, value (a value in a message), offers,
-- wait_for, timed_out and handed.
local M = {}

local EXT_TIMERS, TIMEOUT = "lasgi.timers", "lasgi.timeout"
M.TIMEOUT = TIMEOUT

local function offers_timers(scope)
  local ext = type(scope) == "table" and rawget(scope, "extensions")
  return type(ext) == "table" and rawget(ext, EXT_TIMERS) ~= nil
end

-- value describes a Lua value in a message, as the engine does (luatype.Describe).
local function value(v)
  local t = type(v)
  if t == "string" then
    return string.format("string %q", #v > 40 and string.sub(v, 1, 40) .. "..." or v)
  elseif t == "number" or t == "boolean" then
    return t .. " " .. tostring(v)
  end
  return t
end

-- wait_for reads receive()'s argument in a scope of type typ that offers timers or not, as
-- the engine does: nil for none (or a table without timeout: receive waits as without the
-- extension), else the timeout in seconds. A wrong argument raises the rule it breaks.
local function wait_for(offered, typ, opts)
  if opts == nil then return nil end
  if not offered then
    error("lasgi: timers.offered-only: receive takes no argument in a " .. tostring(typ)
      .. " scope: it does not offer the " .. EXT_TIMERS .. " extension", 0)
  end
  if type(opts) ~= "table" then
    error("lasgi: timers.receive.options: receive takes an options table, got " .. value(opts), 0)
  end
  local t = rawget(opts, "timeout")
  if t == nil then return nil end
  if type(t) ~= "number" then
    error("lasgi: timers.receive.options: timeout must be a number of seconds, got " .. value(t), 0)
  end
  if t < 0 or t - t ~= 0 then -- t - t is NaN for NaN and both infinities
    error("lasgi: timers.receive.options: timeout must be a number of seconds, not negative, NaN or"
      .. " infinite; got " .. value(t), 0)
  end
  return t
end

-- timed_out is what a wait of t seconds that nothing ends returns: lasgi.timeout, at once
-- (virtual time). st.waited sums the timeouts since the last event handed over (handed()
-- resets it); past limit the app would still be waiting when the case's time was up: it is
-- stuck, as a server's receive() would wait.
local function timed_out(st, t, limit)
  st.waited = st.waited + t
  if st.waited > limit then
    st.stuck = true
    error("lasgi-check: timeout", 0)
  end
  return {type = TIMEOUT}
end

local function handed(st, ev)
  st.waited = 0
  return ev
end

M.offers, M.value, M.wait_for, M.timed_out, M.handed = offers_timers, value, wait_for, timed_out, handed
return M
