-- lasgi-check's app harness: plays the server for an app under a real Lua
-- interpreter (lua5.1, lua5.4, luajit), so apps are checked as they will run.
--
--   lua harness.lua APP.lua CASES.lua [LINT.lua [strict] [sandbox]]
--
-- CASES.lua returns the cases lasgi-check wrote: {id, scope, body = {pieces},
-- disconnect_after, timeout}, and for a websocket case ws = {eager, actions = {{text}
-- | {bytes} | {close, code, reason} | {gone}}} (ws_functions). The app (wrapped in the lint when given) runs
-- once per case in a coroutine of its own; receive() hands over the body
-- pieces and then http.disconnect; send() passes events on to nothing (the
-- lint judges them). One line per case goes to stdout:
--   result <id-hex> ok|error|declined|timeout|ended <disconnected 0|1> <detail-hex>
-- ("declined": a websocket case's app raised before it sent anything)
-- ("ended": the harness ended the call, as a server would, for the rule the detail names)
-- preceded by one line for each warning the lint gave in that case (a rule
-- of level SHOULD, SHOULD NOT or MAY broken; with "strict" the lint raises):
--   warn <id-hex> <rule-hex> <detail-hex>
-- and, when the app file does not load: load <detail-hex>.

local app_path, cases_path, lint_path = arg[1], arg[2], arg[3]
local options = {}
for i = 4, #arg do options[arg[i]] = true end
local strict = options.strict
local dofile = dofile

-- os.exit would end the harness and leave the cases unjudged: it raises, as on
-- the reference server. "sandbox" removes what an untrusted app could use against
-- the machine, the same functions as lasgi-serve --sandbox (gopherlua/sandbox.go).
os.exit = function()
  error("lasgi: os.exit is not available to an app: it would end the server process and every"
    .. " request in it; an app ends its call by returning or raising an error", 2)
end
-- The app's print and io.write go to stderr: stdout carries the harness's lines.
do
  local stderr, tostring, select, concat = io.stderr, tostring, select, table.concat
  print = function(...)
    local parts = {}
    for i = 1, select("#", ...) do parts[i] = tostring((select(i, ...))) end
    stderr:write(concat(parts, "\t"), "\n")
  end
  local out = {} -- what io.write returns, for chained out:write(...)
  local function write(...)
    local args, first = {...}, 1
    if args[1] == out then first = 2 end
    for i = first, select("#", ...) do stderr:write(args[i]) end
    return out
  end
  out.write, out.flush = write, function() return out end
  io.write = write
end
local write_line = function(...) io.stdout:write(...) end
if options.sandbox then
  for lib, names in pairs({
    os = {"execute", "remove", "rename", "tmpname", "getenv", "setlocale"},
    io = {"popen", "open", "lines", "input", "output", "tmpfile"},
    _G = {"dofile", "loadfile"},
  }) do
    local t = lib == "_G" and _G or _G[lib]
    for _, name in ipairs(names) do t[name] = nil end
  end
end
local unpack = unpack or table.unpack

local function hex(s)
  return (string.gsub(s, ".", function(c) return string.format("%02x", string.byte(c)) end))
end

-- A detail goes out clipped: an app's 50 MB error message must not become 100 MB of hex
-- on stdout (lasgi-check keeps 16 MiB of it) nor cost minutes to encode. The bound stays
-- under lasgi-check's own (conformance.MaxText, 4096), which then keeps the text as it is.
local MAX_DETAIL = 4000
local function clip(s)
  if #s <= MAX_DETAIL then return s end
  return string.sub(s, 1, MAX_DETAIL) .. "... (" .. #s .. " bytes)"
end

local function describe(err)
  local ok, s = pcall(tostring, err)
  if ok and type(s) == "string" then return clip(s) end
  return "<" .. type(err) .. ">"
end

if jit and jit.off then jit.off() end -- count hooks do not fire in compiled code

-- Modules next to the app can be required, as the reference server allows.
local dir = string.match(app_path, "^(.*)/[^/]*$") or "."
package.path = dir .. "/?.lua;" .. package.path

local ok, app = pcall(dofile, app_path)
if not ok then
  write_line("load ", hex(describe(app)), "\n")
  return
end
local mt = getmetatable(app)
if type(app) ~= "function" and not (type(mt) == "table" and mt.__call ~= nil) then
  write_line("load ", hex("lasgi: core.app.callable: the file returned a " .. type(app) .. ", not a function or a table with __call"), "\n")
  return
end
local warnings = {} -- the lint's warnings in the case being played
if lint_path then
  local lint = dofile(lint_path)
  app = lint(app, {strict = strict, warn = function(rule, detail)
    -- Each rule once a case: an app may break one in a loop.
    if not warnings[rule] then
      warnings[rule] = true
      warnings[#warnings + 1] = {rule, detail}
    end
  end})
end

local cases = dofile(cases_path)
-- How many times receive() may return http.disconnect in a case before the harness ends
-- it, as the reference server does (bridge.MaxDisconnectReceives): an app spinning on
-- receive() would otherwise cost the case's whole timeout.
local MAX_DISCONNECTS = 1000

-- ws_functions are receive() and send() of a websocket case: websocket.connect, then,
-- once the app has answered it (or at once when the case is eager, the client gone
-- before the answer), each action of the script in turn; its end (the client's close,
-- or the transport gone: 1006) every time after. With nothing to hand over, a server's
-- receive() would wait: the harness ends the case as one the app did not finish.
-- st holds disconnected (the server has seen the end), disconnects, ended and stuck.
local function ws_functions(c, st)
  local acts, nxt, connected = c.ws.actions, 1, false
  local answered, done = false, false -- the app answered the handshake; sent its last event
  local accepted, close_code = false, nil -- the code of the app's close, once sent
  local final -- the websocket.disconnect, once the end has come
  local function the_end(a)
    final = {type = "websocket.disconnect", code = a.gone and 1006 or a.code, reason = a.gone and "" or a.reason}
    st.disconnected = true
  end
  if c.ws.eager then the_end(acts[#acts]) end
  local function receive()
    if st.ended then error(st.ended, 0) end
    if not connected then
      connected = true
      return {type = "websocket.connect"}
    end
    if final and (c.ws.eager or nxt > #acts) then
      st.disconnects = st.disconnects + 1
      if st.disconnects > MAX_DISCONNECTS then
        st.ended = "lasgi: websocket.disconnect.repeat: the app called receive() " .. st.disconnects
          .. " times after websocket.disconnect without returning; the server ended the call"
        error(st.ended, 0)
      end
      return {type = final.type, code = final.code, reason = final.reason}
    end
    if close_code and not final then
      -- The client answers the app's close with its own, and the connection
      -- ends (websocket.close.then-disconnect).
      final = {type = "websocket.disconnect", code = close_code, reason = ""}
      st.disconnected, nxt = true, #acts + 1
      st.disconnects = 1
      return {type = final.type, code = final.code, reason = final.reason}
    end
    if done or not answered then
      st.stuck = true
      error("lasgi-check: timeout", 0)
    end
    local a = acts[nxt]
    nxt = nxt + 1
    if a.close or a.gone then
      the_end(a)
      st.disconnects = 1
      return {type = final.type, code = final.code, reason = final.reason}
    elseif a.bytes then
      return {type = "websocket.receive", bytes = a.bytes}
    end
    return {type = "websocket.receive", text = a.text}
  end
  local function send(event)
    if st.disconnected and not done and event ~= nil then
      error("lasgi: disconnected: the client went away", 0)
    end
    -- The lint has judged the event: only what it changes is followed here.
    st.sent = st.sent + 1
    local t = type(event) == "table" and event.type
    if t == "websocket.accept" or t == "websocket.http.response.start" then
      answered = true
      accepted = accepted or t == "websocket.accept"
    elseif t == "websocket.close" or t == "websocket.http.response.body" and not event.more_body then
      answered, done = true, true
      if t == "websocket.close" and not close_code then
        close_code = accepted and (event.code or 1000) or 1006 -- before the accept: a 403
      end
    end
  end
  return receive, send
end

for _, c in ipairs(cases) do
  local pieces, next_piece, disconnected = c.body, 1, false
  local disconnects, ended = 0, nil -- ended: why the harness ended the case
  local st = {disconnected = false, disconnects = 0, sent = 0} -- a websocket case's (ws_functions)
  local function receive()
    if ended then error(ended, 0) end
    if not disconnected and c.disconnect_after >= 0 and next_piece > c.disconnect_after then
      disconnected = true
    end
    if not disconnected and next_piece <= #pieces then
      local i = next_piece
      next_piece = i + 1
      return {type = "http.request", body = pieces[i], more_body = i < #pieces}
    end
    -- The body is over and the app waits for more: the client leaves.
    disconnected = true
    disconnects = disconnects + 1
    if disconnects > MAX_DISCONNECTS then
      ended = "lasgi: http.disconnect.app-return: the app called receive() " .. disconnects
        .. " times after http.disconnect without returning; the server ended the call"
      error(ended, 0)
    end
    return {type = "http.disconnect"}
  end
  local function send(event)
    if disconnected and event ~= nil then
      error("lasgi: disconnected: the client went away", 0)
    end
  end

  if c.ws then receive, send = ws_functions(c, st) end
  warnings = {}
  local deadline = os.clock() + c.timeout
  local co = coroutine.create(function() return app(c.scope, receive, send) end)
  -- LuaJIT's hooks are global, not per coroutine: the hook must not raise in the
  -- harness's own (main) thread, and is cleared when the case ends.
  debug.sethook(co, function()
    local running, main = coroutine.running()
    if running == nil or main then return end
    ended = ended or st.ended
    if ended then error(ended, 0) end -- the app caught it: raise again
    if st.stuck then error("lasgi-check: timeout", 0) end
    if os.clock() > deadline then error("lasgi-check: timeout", 0) end
  end, "", 1000)
  local status, detail = "ok", ""
  while true do
    local done, err = coroutine.resume(co)
    if not done then
      status, detail = "error", describe(err)
      if detail == "lasgi-check: timeout" then status = "timeout" end
      break
    end
    if coroutine.status(co) == "dead" then break end
    -- A bare coroutine.yield() from the app: resume it.
  end
  ended = ended or st.ended
  if c.ws then disconnected = st.disconnected end
  if st.stuck then status, detail = "timeout", "" end
  -- An error before the app sent anything: how an app that does not serve websocket
  -- scopes refuses them (lasgi-check judges the detail).
  if c.ws and status == "error" and st.sent == 0 then status = "declined" end
  if ended then status, detail = "ended", ended end
  debug.sethook(co)
  if jit then debug.sethook() end
  for _, w in ipairs(warnings) do
    write_line("warn ", hex(c.id), " ", hex(clip(w[1])), " ", hex(clip(w[2])), "\n")
  end
  write_line("result ", hex(c.id), " ", status, " ", disconnected and "1" or "0", " ", hex(detail), "\n")
  io.stdout:flush()
end
