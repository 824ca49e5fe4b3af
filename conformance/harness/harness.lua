-- lasgi-check's app harness: plays the server for an app under a real Lua
-- interpreter (lua5.1, lua5.4, luajit), so apps are checked as they will run.
--
--   lua harness.lua APP.lua CASES.lua [LINT.lua [strict] [sandbox]]
--
-- CASES.lua returns the cases lasgi-check wrote: {id, scope, body = {pieces},
-- disconnect_after, timeout}, and for a websocket case ws = {eager, actions = {{text}
-- | {bytes} | {close, code, reason} | {gone}}} (ws_functions), and for a lifespan case
-- lifespan = {http = <an http case, or nil>} (lifespan_functions). The app (wrapped in the lint when given) runs
-- once per case in a coroutine of its own; receive() hands over the body
-- pieces and then http.disconnect; send() passes events on to nothing (the
-- lint judges them). One line per case goes to stdout:
--   result <id-hex> ok|error|declined|timeout|ended <disconnected 0|1> <detail-hex>
-- ("declined": a websocket case's app raised before it sent anything; "waiting": a lifespan
-- case's app called receive() where no event comes), a lifespan case's preceded by
--   lifespan <id-hex> startup|failed|started|stopping|stopped <failed-message-hex>
-- ("ended": the harness ended the call, as a server would, for the rule the detail names)
-- preceded by one line for each warning the lint gave in that case (a rule
-- of level SHOULD, SHOULD NOT or MAY broken; with "strict" the lint raises):
--   warn <id-hex> <rule-hex> <detail-hex>
-- and, when the app file does not load: load <detail-hex>.
--
-- The extensions are played in files next to this one, each a chunk that dofile returns:
-- timers.lua (lasgi.timers, on virtual time) and groups.lua (lasgi.groups, inside the
-- case's one call), which say how.

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

-- The extensions (timers.lua, groups.lua), loaded from this file's directory.
local here = string.match(arg[0] or "", "^(.*)/[^/]*$") or "."
local timers = dofile(here .. "/timers.lua")
local TIMEOUT, value = timers.TIMEOUT, timers.value
local offers_timers, wait_for, timed_out, handed = timers.offers, timers.wait_for, timers.timed_out, timers.handed
local groups = dofile(here .. "/groups.lua")(value)

-- How many times receive() may return http.disconnect in a case before the harness ends
-- it, as the reference server does (bridge.MaxDisconnectReceives): an app spinning on
-- receive() would otherwise cost the case's whole timeout.
local MAX_DISCONNECTS = 1000

-- ws_functions are receive() and send() of a websocket case: websocket.connect, then,
-- once the app has answered it (or at once when the case is eager, the client gone
-- before the answer), each action of the script in turn; its end (the client's close,
-- or the transport gone: 1006) every time after. With nothing to hand over, a server's
-- receive() would wait: the harness ends the case as one the app did not finish (a wait
-- with a timeout gets lasgi.timeout instead, until timed_out finds it stuck).
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
  local offered = offers_timers(c.scope)
  -- The client's events that have reached the server: websocket.connect, then each action
  -- once the app took the one before, the first once it answered (all at once when eager).
  local function arrived()
    if c.ws.eager then return 1 + #acts end
    return answered and math.min(nxt + 1, 1 + #acts) or 1
  end
  local last = acts[#acts]
  local group_send, took, group_message = groups.new(c.scope, "websocket", arrived, function()
    -- Messages reach the call until its side is over or the client's end has come.
    return not done and not st.disconnected and not (last and (last.close or last.gone) and arrived() > #acts)
  end)
  local function next_event(timeout)
    if not connected then
      connected = true
      took()
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
      -- Nothing comes until the app answers the handshake, nor after its denial response.
      if timeout then return timed_out(st, timeout, c.timeout) end
      st.stuck = true
      error("lasgi-check: timeout", 0)
    end
    local a = acts[nxt]
    nxt = nxt + 1
    took()
    if a.close or a.gone then
      the_end(a)
      st.disconnects = 1
      return {type = final.type, code = final.code, reason = final.reason}
    elseif a.bytes then
      return {type = "websocket.receive", bytes = a.bytes}
    end
    return {type = "websocket.receive", text = a.text}
  end
  local function receive(opts)
    if st.ended then error(st.ended, 0) end
    local timeout = wait_for(offered, "websocket", opts)
    -- Once the app closed or denied, what is queued is dropped (websocket.close.then-disconnect).
    local m = not done and group_message()
    if m then return handed(st, m) end
    local ev = next_event(timeout)
    if ev.type == TIMEOUT then return ev end
    return handed(st, ev)
  end
  local function send(event)
    -- Group events first, as bridge.Call.Send does them: a gone client does not stop them.
    if group_send(event) then return end
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

-- TURN is what a lifespan case's receive() yields to the harness when the case's http
-- exchange is due: the lifespan call waits in receive() while the harness plays it.
local TURN = {}

-- lifespan_functions are receive() and send() of a lifespan case: lifespan.startup, and
-- once the app has sent lifespan.startup.complete, the case's http exchange (lifespan.http)
-- and then lifespan.shutdown. Anywhere else a server's receive() would wait (for the
-- app's reply, or for good after the last one): the harness ends the call, st.stuck.
-- st.phase is where the call stands: startup, failed, started, stopping or stopped
-- (conformance/app_lifespan.go); st.message the message of lifespan.startup.failed.
local function lifespan_functions(c, st)
  st.phase, st.message = "startup", ""
  local given = false
  -- A lifespan scope has no extensions, so no timers: any argument raises; and no groups,
  -- nor could a lifespan call be a member of one (groups.lifespan.send-only).
  local offered = offers_timers(c.scope)
  local group_send = groups.new(c.scope, "lifespan", function() return 0 end, function() return false end)
  local function receive(opts)
    wait_for(offered, "lifespan", opts)
    if not given then
      given = true
      return {type = "lifespan.startup"}
    end
    if st.phase == "started" then
      if c.lifespan.http and not st.turned then
        st.turned = true
        coroutine.yield(TURN)
      end
      st.phase = "stopping"
      return {type = "lifespan.shutdown"}
    end
    st.stuck = true
    error("lasgi-check: timeout", 0)
  end
  local function send(event)
    if group_send(event) then return end
    -- The lint has judged the event: only where it moves the call is followed here.
    st.sent = st.sent + 1
    local t = type(event) == "table" and event.type
    if t == "lifespan.startup.complete" then
      st.phase = "started"
    elseif t == "lifespan.startup.failed" then
      st.phase = "failed"
      st.message = type(event.message) == "string" and event.message or ""
    elseif t == "lifespan.shutdown.complete" or t == "lifespan.shutdown.failed" then
      st.phase = "stopped"
    end
  end
  return receive, send
end

-- http_functions are receive() and send() of an http case: the body pieces, then
-- http.disconnect; st.disconnected once the client has gone.
local function http_functions(c, st)
  local pieces, next_piece = c.body, 1
  local offered = offers_timers(c.scope)
  -- The response as sent so far: once it is complete, http.disconnect is due at once
  -- (http.disconnect.after-complete), to a look with a timeout of 0 too.
  local trailers, complete = false, false
  -- How many pieces reach the server (the client leaves in place of the next), each once
  -- the app took the one before.
  local limit = #pieces
  if c.disconnect_after >= 0 and c.disconnect_after < limit then limit = c.disconnect_after end
  local group_send, took, group_message = groups.new(c.scope, "http", function()
    return math.min(next_piece, limit)
  end, function()
    return not complete and not st.disconnected and not (c.disconnect_after >= 0 and next_piece > limit)
  end)
  local function receive(opts)
    if st.ended then error(st.ended, 0) end
    local timeout = wait_for(offered, "http", opts)
    if not st.disconnected and c.disconnect_after >= 0 and next_piece > c.disconnect_after then
      st.disconnected = true
    end
    -- Once the response is complete, queued messages are never returned.
    local m = not complete and group_message()
    if m then return m end
    if not st.disconnected and next_piece <= #pieces then
      local i = next_piece
      next_piece = i + 1
      took()
      return {type = "http.request", body = pieces[i], more_body = i < #pieces}
    end
    if timeout == 0 and not st.disconnected and not complete then
      -- A look, not a wait: the client, still there, has nothing more to send.
      return {type = TIMEOUT}
    end
    -- The body is over and the app waits for more: the client leaves.
    st.disconnected = true
    st.disconnects = st.disconnects + 1
    if st.disconnects > MAX_DISCONNECTS then
      st.ended = "lasgi: http.disconnect.app-return: the app called receive() " .. st.disconnects
        .. " times after http.disconnect without returning; the server ended the call"
      error(st.ended, 0)
    end
    return {type = "http.disconnect"}
  end
  local function send(event)
    if group_send(event) then return end -- as in a websocket case
    if st.disconnected and event ~= nil then
      error("lasgi: disconnected: the client went away", 0)
    end
    -- The lint has judged the event: only where it takes the response is followed here.
    local t = type(event) == "table" and rawget(event, "type")
    if t == "http.response.start" then
      trailers = rawget(event, "trailers") == true
    elseif t == "http.response.body" and not rawget(event, "more_body") then
      complete = not trailers
    elseif t == "http.response.trailers" and not rawget(event, "more_trailers") then
      complete = true
    end
  end
  return receive, send
end

-- run calls the app for case c in a coroutine of its own, under a deadline, and returns
-- how the call ended: "ok", "error" or "timeout", and the error. on_turn is called when
-- the app's receive() yields TURN, before the app is resumed.
local function run(c, st, receive, send, on_turn)
  local deadline = os.clock() + c.timeout
  local co = coroutine.create(function() return app(c.scope, receive, send) end)
  -- LuaJIT's hooks are global, not per coroutine: the hook must not raise in the
  -- harness's own (main) thread, and is cleared when the case ends.
  local function hook()
    local running, main = coroutine.running()
    if running == nil or main then return end
    if st.ended then error(st.ended, 0) end -- the app caught it: raise again
    if st.stuck then error("lasgi-check: timeout", 0) end
    if os.clock() > deadline then error("lasgi-check: timeout", 0) end
  end
  debug.sethook(co, hook, "", 1000)
  local status, detail = "ok", ""
  while true do
    local done, err = coroutine.resume(co)
    if not done then
      status, detail = "error", describe(err)
      if detail == "lasgi-check: timeout" then status = "timeout" end
      break
    end
    if coroutine.status(co) == "dead" then break end
    if err == TURN and on_turn then
      on_turn()
      debug.sethook(co, hook, "", 1000) -- the turn's own call cleared it (LuaJIT)
    end
    -- Otherwise a bare coroutine.yield() from the app: resume it.
  end
  debug.sethook(co)
  if jit then debug.sethook() end
  return status, detail
end

-- play plays case c and writes its lines.
local function play(c)
  local st = {disconnected = false, disconnects = 0, sent = 0, waited = 0}
  local receive, send, on_turn
  if c.ws then
    receive, send = ws_functions(c, st)
  elseif c.lifespan then
    receive, send = lifespan_functions(c, st)
    on_turn = function()
      -- The request's state is a shallow copy of the lifespan state, read raw.
      local h, copy = c.lifespan.http, {}
      for k, v in next, c.scope.state do copy[k] = v end
      h.scope.state = copy
      local mine = warnings
      play(h)
      warnings = mine
    end
  else
    receive, send = http_functions(c, st)
  end
  warnings = {}
  local status, detail = run(c, st, receive, send, on_turn)
  local ended = st.ended
  if st.stuck then status, detail = "timeout", "" end
  -- An error before the app sent anything: how an app that does not serve websocket
  -- scopes refuses them (lasgi-check judges the detail).
  if c.ws and status == "error" and st.sent == 0 then status = "declined" end
  if c.lifespan and st.stuck then status = "waiting" end
  if ended then status, detail = "ended", ended end
  for _, w in ipairs(warnings) do
    write_line("warn ", hex(c.id), " ", hex(clip(w[1])), " ", hex(clip(w[2])), "\n")
  end
  if c.lifespan then
    write_line("lifespan ", hex(c.id), " ", st.phase, " ", hex(clip(st.message)), "\n")
  end
  write_line("result ", hex(c.id), " ", status, " ", st.disconnected and "1" or "0", " ", hex(detail), "\n")
  io.stdout:flush()
end

for _, c in ipairs(cases) do
  play(c)
end
