-- Test driver for the LASGI lint (reference/app/lint.lua); runs unchanged on lua5.1,
-- lua5.4, luajit and gopher-lua.
--
-- As a script:  lua drive.lua LINT.lua CASES.lua MODE      (writes the transcript to stdout)
-- As a chunk:   dofile("drive.lua") returns drive(lint_path, cases_path, mode) -> transcript
--
-- CASES.lua returns a list of cases, each a table:
--   name    the case's name (one word)
--   want    the rule ID the lint must raise, "warn:" and the rule ID it must warn of (the
--           app returns normally), "ok" (the app returns normally) or "error" (the app
--           raises an error of its own); the driver only prints it, the Go test compares
--   app     the app the lint wraps
--   scope   optional function(scope) changing the base scope (a valid HTTP/1.1 GET), or
--           returning a new one
--   events  what receive() hands out in order, then {type = "http.disconnect"} forever;
--           default: one http.request without body. An entry that is a function is called
--           and all its results are returned
--   raise   optional {[n] = value}: the n-th call of the real send raises value, at once
--           (without yielding, as a server does when it rejects an event)
--   after   optional function() called after the app call ended (in pcall), and
--   after_want what it must raise, as want
--   strict  optional: lint(app, {strict = true}), which raises for SHOULD rules too
--
-- lint(app)(scope, receive, send) runs once per case (an error from lint(app) itself ends
-- the case with its result line). MODE "sync" calls it directly;
-- "coroutine" runs it in a coroutine whose receive() and send() yield to the driver, as a
-- server does. The transcript has for each case the lines
--   case NAME want WANT [after AFTER_WANT]
--   receive TYPE         receive() handed out an event (TYPE, or "values" for a function)
--   send TYPE            the real send got an event (its type, or the Lua type of a non-table)
--   warn RULE            the lint warned that the app broke RULE (a SHOULD rule)
--   result ok            the call returned
--   result error MSG     the call raised MSG (tostring of the value)
--   after ok | after error MSG
local unpack_ = table.unpack or unpack

local function base_scope()
  return {
    type = "http",
    asgi = { version = "3.0", spec_version = "2.5" },
    lasgi = { version = "1.0" },
    http_version = "1.1",
    method = "GET",
    scheme = "http",
    path = "/caf\195\169 menu",
    raw_path = "/caf%C3%A9%20menu",
    query_string = "a=1",
    root_path = "",
    headers = { { "host", "example.test" }, { "accept", "*/*" } },
    client = { "127.0.0.1", 51000 },
    server = { "127.0.0.1", 8000 },
    state = {},
    extensions = { ["http.response.trailers"] = {} },
  }
end

local function run_case(lint, c, mode, out)
  local function line(s)
    out[#out + 1] = s
  end
  line("case " .. c.name .. " want " .. tostring(c.want) .. (c.after and (" after " .. tostring(c.after_want)) or ""))
  local scope = base_scope()
  if c.scope then
    scope = c.scope(scope) or scope
  end
  local events = c.events or { { type = "http.request", body = "", more_body = false } }
  local next_event, disconnects, sends = 1, 0, 0

  -- next_event_values returns the values receive() hands out.
  local function next_values()
    local ev = events[next_event]
    if ev ~= nil then
      next_event = next_event + 1
      if type(ev) == "function" then
        line("receive values")
        local r = { n = 0 }
        local function pack(...)
          r.n = select("#", ...)
          for i = 1, r.n do
            r[i] = select(i, ...)
          end
        end
        pack(ev())
        return r
      end
      line("receive " .. tostring(ev.type))
      return { ev, n = 1 }
    end
    disconnects = disconnects + 1
    if disconnects > 1000 then
      error("drive.lua: receive() called too often after http.disconnect", 0)
    end
    line("receive http.disconnect")
    return { { type = "http.disconnect" }, n = 1 }
  end
  local function record_send(ev)
    sends = sends + 1
    if c.raise and c.raise[sends] ~= nil then
      line("send raises")
      error(c.raise[sends], 0)
    end
    line("send " .. (type(ev) == "table" and tostring(rawget(ev, "type")) or type(ev)))
  end

  local wok, app = pcall(lint, c.app, {strict = c.strict, warn = function(rule)
    line("warn " .. rule)
  end})
  if not wok then
    line("result error " .. tostring(app))
    return
  end
  local ok, err
  if mode == "sync" then
    ok, err = pcall(app, scope, function()
      local r = next_values()
      return unpack_(r, 1, r.n)
    end, function(ev)
      record_send(ev)
    end)
  elseif mode == "coroutine" then
    local co = coroutine.create(function()
      return app(scope, function()
        return coroutine.yield("receive")
      end, function(ev)
        if c.raise and c.raise[sends + 1] ~= nil then
          record_send(ev) -- raises at once, as a server rejecting an event does
        end
        coroutine.yield("send", ev)
      end)
    end)
    local args = { n = 0 }
    while true do
      local rok, op, ev = coroutine.resume(co, unpack_(args, 1, args.n))
      if not rok then
        ok, err = false, op
        break
      end
      if coroutine.status(co) == "dead" then
        ok = true
        break
      end
      if op == "receive" then
        local pok, r = pcall(next_values)
        if not pok then
          ok, err = false, r
          break
        end
        args = r
      elseif op == "send" then
        record_send(ev)
        args = { n = 0 }
      else
        ok, err = false, "drive.lua: the app yielded " .. tostring(op)
        break
      end
    end
  else
    error("drive.lua: unknown mode " .. tostring(mode))
  end
  if ok then
    line("result ok")
  else
    line("result error " .. tostring(err))
  end
  if c.after then
    local aok, aerr = pcall(c.after)
    line(aok and "after ok" or ("after error " .. tostring(aerr)))
  end
end

local function drive(lint_path, cases_path, mode)
  local lint = dofile(lint_path)
  local cases = dofile(cases_path)
  local out = {}
  for i = 1, #cases do
    run_case(lint, cases[i], mode, out)
  end
  out[#out + 1] = ""
  return table.concat(out, "\n")
end

if select("#", ...) > 0 then
  local lint_path, cases_path, mode = ...
  io.write(drive(lint_path, cases_path, mode))
  return
end
return drive
