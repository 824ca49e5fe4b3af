-- Test driver for the LASGI reference apps; runs unchanged on lua5.1, lua5.4, luajit and
-- gopher-lua.
--
-- As a script:  lua drive.lua APPFILE MODE < INPUT   (writes the transcript to stdout)
-- As a chunk:   dofile("drive.lua") returns drive(app, input, mode) -> transcript, where
--               app is a file name or the app itself.
--
-- INPUT is Lua source returning {scope = <scope>, events = {<event>, ...}}. The app is
-- called once with the scope, a receive() that hands out the events in order (then
-- {type = "http.disconnect"} forever), and a send() that records each event at the time
-- it is sent. MODE "sync" calls the app directly; MODE "coroutine" runs it in a coroutine
-- and makes receive() and send() yield to the driver, as a server does.
--
-- The transcript has one record per line:
--   receive              receive() was called
--   send                 send(event) was called; the event follows, one line per value:
--     PATH VALUE           PATH is $ for the event, then .name (identifier keys),
--                          ["hex"] (other string keys), [number], [true]/[false], [?type];
--                          VALUE is t (a table, its fields follow sorted by key), s:HEX
--                          (a string, as hex bytes), n:NUMBER, b:true/b:false, or a type name
--   end                  end of the sent event
--   return               the app returned
--   error s:HEX          the app raised an error (message as hex bytes)
--   global NAME          the app created or changed the global NAME
local unpack_ = table.unpack or unpack
local load_ = loadstring or load
local concat = table.concat

-- table.concat(list, sep, 1, n), in groups of at most 1000 elements: gopher-lua's
-- table.concat pushes every element and separator onto its fixed-size value stack and
-- fails with "registry overflow" beyond about 2500 elements.
local function join(list, n, sep)
  while n > 1000 do
    local groups, m = {}, 0
    for i = 1, n, 1000 do
      local j = i + 999
      if j > n then
        j = n
      end
      m = m + 1
      groups[m] = concat(list, sep, i, j)
    end
    list, n = groups, m
  end
  return concat(list, sep, 1, n)
end

local MAX_DISCONNECTS = 1000

local HEXFMT = {}
local function hex(s)
  local out, m, n, i = {}, 0, #s, 1
  while i <= n do
    local j = i + 63
    if j > n then
      j = n
    end
    local cnt = j - i + 1
    local f = HEXFMT[cnt]
    if not f then
      f = string.rep("%02x", cnt)
      HEXFMT[cnt] = f
    end
    m = m + 1
    out[m] = string.format(f, string.byte(s, i, j))
    i = j + 1
  end
  return join(out, m, "")
end

local function number(n)
  if n ~= n then
    return "nan"
  elseif n == math.huge then
    return "inf"
  elseif n == -math.huge then
    return "-inf"
  elseif n == math.floor(n) and n > -2 ^ 53 and n < 2 ^ 53 then
    return string.format("%d", n)
  end
  return string.format("%.17g", n)
end

local TYPE_ORDER = { number = 1, boolean = 2, string = 3 }

local function key_less(a, b)
  local ta, tb = type(a), type(b)
  if ta ~= tb then
    return (TYPE_ORDER[ta] or 4) < (TYPE_ORDER[tb] or 4)
  end
  if ta == "number" or ta == "string" then
    return a < b
  elseif ta == "boolean" then
    return (not a) and b
  end
  return false
end

local function key_path(k)
  local t = type(k)
  if t == "string" then
    if string.find(k, "^[A-Za-z_][A-Za-z0-9_]*$") then
      return "." .. k
    end
    return '["' .. hex(k) .. '"]'
  elseif t == "number" then
    return "[" .. number(k) .. "]"
  elseif t == "boolean" then
    return k and "[true]" or "[false]"
  end
  return "[?" .. t .. "]"
end

local function serialize(v, path, out, seen)
  local t = type(v)
  if t == "string" then
    out[#out + 1] = path .. " s:" .. hex(v)
  elseif t == "number" then
    out[#out + 1] = path .. " n:" .. number(v)
  elseif t == "boolean" then
    out[#out + 1] = path .. (v and " b:true" or " b:false")
  elseif t == "table" then
    if seen[v] then
      out[#out + 1] = path .. " cycle"
      return
    end
    seen[v] = true
    out[#out + 1] = path .. " t"
    local keys = {}
    for k in pairs(v) do
      keys[#keys + 1] = k
    end
    table.sort(keys, key_less)
    for i = 1, #keys do
      serialize(v[keys[i]], path .. key_path(keys[i]), out, seen)
    end
    seen[v] = nil
  else
    out[#out + 1] = path .. " " .. t
  end
end

local function drive(app, input, mode)
  local chunk = assert(load_(input, "=input"))
  local data = chunk()
  local scope, events = data.scope, data.events or {}

  local globals = {}
  for k, v in pairs(_G) do
    globals[k] = v
  end

  if type(app) == "string" then
    app = assert(loadfile(app))()
  end

  local out = {}
  local next_event, disconnects = 1, 0
  local function next_receive()
    out[#out + 1] = "receive"
    local ev = events[next_event]
    if ev ~= nil then
      next_event = next_event + 1
      return ev
    end
    disconnects = disconnects + 1
    if disconnects > MAX_DISCONNECTS then
      error("drive.lua: receive() called too often after http.disconnect", 0)
    end
    return { type = "http.disconnect" }
  end
  local function record_send(ev)
    out[#out + 1] = "send"
    serialize(ev, "$", out, {})
    out[#out + 1] = "end"
  end

  if mode == "sync" then
    local ok, err = pcall(app, scope, next_receive, function(ev)
      record_send(ev)
    end)
    if ok then
      out[#out + 1] = "return"
    else
      out[#out + 1] = "error s:" .. hex(tostring(err))
    end
  elseif mode == "coroutine" then
    local function receive()
      return coroutine.yield("receive")
    end
    local function send(ev)
      coroutine.yield("send", ev)
    end
    local co = coroutine.create(function()
      return app(scope, receive, send)
    end)
    local resume_args = { n = 0 }
    while true do
      local ok, op, ev = coroutine.resume(co, unpack_(resume_args, 1, resume_args.n))
      if not ok then
        out[#out + 1] = "error s:" .. hex(tostring(op))
        break
      end
      if coroutine.status(co) == "dead" then
        out[#out + 1] = "return"
        break
      end
      if op == "receive" then
        local rok, rev = pcall(next_receive)
        if not rok then
          out[#out + 1] = "error s:" .. hex(tostring(rev))
          break
        end
        resume_args = { rev, n = 1 }
      elseif op == "send" then
        record_send(ev)
        resume_args = { n = 0 }
      else
        out[#out + 1] = "error s:" .. hex("drive.lua: app yielded " .. tostring(op))
        break
      end
    end
  else
    error("drive.lua: unknown mode " .. tostring(mode))
  end

  local changed = {}
  for k, v in pairs(_G) do
    if globals[k] ~= v then
      changed[#changed + 1] = tostring(k)
    end
  end
  table.sort(changed)
  for i = 1, #changed do
    out[#out + 1] = "global " .. changed[i]
  end

  out[#out + 1] = ""
  return join(out, #out, "\n")
end

if select("#", ...) > 0 then
  local appfile, mode = ...
  io.write(drive(appfile, io.read("*a"), mode))
  return
end
return drive
