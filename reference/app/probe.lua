-- LASGI conformance probe. The protocol is fixtures/PROBE.md; in short:
--
-- The request header `lasgi-probe` holds a script (default: `drain start:200 end:ok`):
-- actions separated by single spaces, each a verb with optional `:`-separated,
-- percent-encoded arguments. The probe runs the actions in order and records what it
-- observed: the scope, each received event, the length and Adler-32 of the request body,
-- and the outcome of every `bad:` send and every failed send. The report goes out in the
-- `lasgi-probe-report` header of the response head (`start`), and, with `token:T`, it is
-- kept in this Lua state until a request with the script `report:T` fetches it.
--
-- One file, no dependencies, plain Lua 5.1 that also runs on Lua 5.4, LuaJIT and
-- gopher-lua. Request data is only ever parsed, never evaluated.
--
-- Notes on the implementation:
--   * The whole script is checked before the first action runs: an unknown action or a
--     malformed argument is answered `400 text/plain` naming the action, and nothing else
--     is done. An action that cannot run in the state it finds (`echo` before the head was
--     sent) is recorded in `sends` and answered 400 when the head is not sent yet; either
--     way the script ends there.
--   * `receive` is never called inside `pcall`, so a server that does not make `pcall`
--     yield-safe (Lua 5.1, gopher-lua) can still suspend the probe in `receive`. Every
--     `send` is in `pcall`, as the protocol requires. `pcall` is looked up at call time,
--     so a yield-safe replacement installed by the server is used whenever it was set.
--   * `drain` and `echo` do nothing once the request body is complete (an `http.request`
--     without `more_body = true`, or an `http.disconnect`, was received): receiving again
--     would wait for the end of the response, which only the probe itself can bring.
--   * Lists in the report (`events`, `sends`) are always JSON arrays, `[]` when empty;
--     scope values follow scope.lua's mapping (an empty Lua table is `{}`).
--   * Each entry of `events` has `type`, `more_body` and `len` (null when absent, `len`
--     null when `body` is not a string), and `body` while the bodies received so far,
--     this one included, total at most 65536 bytes. Each entry of `sends` has `action`
--     (the action as written in the script), `ok` and `error` (null when ok). A `bad:`
--     send never ends the script, whatever its outcome.
--   * The first `lasgi-probe` header counts. With several `token:` actions the last one
--     counts; a token used again replaces the report kept under it. A kept report is
--     forgotten once the answer to `report:T` was sent without error.

local byte, char, find, format, gsub, rep, sub =
  string.byte, string.char, string.find, string.format, string.gsub, string.rep, string.sub
local concat, sort = table.concat, table.sort
local floor, huge = math.floor, math.huge
local mathtype = math.type -- Lua 5.3+ only
local error, getmetatable, pairs, rawget, setmetatable, tonumber, tostring, type =
  error, getmetatable, pairs, rawget, setmetatable, tonumber, tostring, type

local DEFAULT_SCRIPT = "drain start:200 end:ok"
local DEFAULT_WS_SCRIPT = "recv accept echo" -- a websocket scope without a script: an echo
local REPORT_HEADER = "lasgi-probe-report"
local MAX_RECORDED_BODY = 65536 -- body values are recorded while the total is at most this
local MAX_KEPT = 1000 -- kept reports, the oldest dropped beyond this
local PART = 65536 -- fill: bytes per body event
local FILL_PART = rep("0123456789abcdef", 4096) -- PART bytes

local START, BODY, TRAILERS = "http.response.start", "http.response.body", "http.response.trailers"
-- In a websocket scope `start`, `body` and `end` send the denial response (fixtures/PROBE.md,
-- "WebSocket scopes").
local WS_START, WS_BODY = "websocket.http.response.start", "websocket.http.response.body"
local WS_ACCEPT, WS_SEND, WS_CLOSE = "websocket.accept", "websocket.send", "websocket.close"

-- ---------------------------------------------------------------------------------------
-- JSON, with scope.lua's byte-string convention: each byte of a Lua string is one JSON
-- character; printable ASCII 0x20-0x7E is itself (`"` and `\` escaped), every other byte
-- is \u00XX. The text is printable ASCII, so it is also a valid header value.
--
-- Lua values map as in scope.lua (tables with keys exactly 1..n are arrays, other tables
-- objects with sorted keys, empty tables {}, integral numbers without a decimal point,
-- NaN and infinities null, other types "<typename>"), except that a table that contains
-- itself is written "<cycle>" instead of failing. Two internal kinds of tables: LIST
-- tables are always arrays (`[]` when empty), RAW tables hold JSON text written as is.

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

local NULL = {} -- an absent value written as null
local LIST_MT = {} -- metatable of report lists
local RAW_MT = {} -- metatable of {json_text}

local function list()
  return setmetatable({}, LIST_MT)
end

local function raw(text)
  return setmetatable({ text }, RAW_MT)
end

local QUOTE = { ['"'] = '\\"', ["\\"] = "\\\\" }
local CONTROL = {}
for b = 0, 255 do
  if b < 0x20 or b > 0x7e then
    CONTROL[char(b)] = format("\\u%04x", b)
  end
end

-- gopher-lua's gsub copies the whole result so far for each replacement, which is
-- quadratic; long strings are therefore escaped in slices of 128 bytes.
local SLICE = 128

local function escape(s)
  s = gsub(s, '["\\]', QUOTE)
  return (gsub(s, "[^ -~]", CONTROL))
end

local function encode_string(s)
  local n = #s
  if n <= SLICE then
    return '"' .. escape(s) .. '"'
  end
  local parts, m = {}, 0
  for i = 1, n, SLICE do
    m = m + 1
    parts[m] = escape(sub(s, i, i + SLICE - 1))
  end
  return '"' .. join(parts, m, "") .. '"'
end

local FORMATS = { "%.14g", "%.15g", "%.16g", "%.17g" }

local function encode_number(n)
  if n ~= n or n == huge or n == -huge then
    return "null"
  end
  if mathtype and mathtype(n) == "integer" then
    return format("%d", n)
  end
  if n == floor(n) and n > -2 ^ 53 and n < 2 ^ 53 then
    return format("%d", n)
  end
  local s
  for i = 1, #FORMATS do
    s = format(FORMATS[i], n)
    if tonumber(s) == n then
      break
    end
  end
  return s
end

local function key_string(k)
  local t = type(k)
  if t == "string" then
    return k
  elseif t == "number" then
    return encode_number(k)
  elseif t == "boolean" then
    return k and "true" or "false"
  end
  return "<" .. t .. ">"
end

local function entry_less(a, b)
  if a[1] ~= b[1] then
    return a[1] < b[1]
  end
  return a[2] < b[2]
end

local encode_value

-- Appends the JSON text of table t to out; returns the new length of out.
local function encode_table(t, out, n, seen)
  local mt = getmetatable(t)
  if mt == RAW_MT then
    n = n + 1; out[n] = t[1]
    return n
  end
  if seen[t] then
    n = n + 1; out[n] = '"<cycle>"'
    return n
  end
  seen[t] = true

  local count, is_array = 0, true
  if mt == LIST_MT then
    count = #t
  else
    for k in pairs(t) do
      count = count + 1
      if is_array and (type(k) ~= "number" or k < 1 or k ~= floor(k)) then
        is_array = false
      end
    end
    -- all keys are positive integers; they are exactly 1..count when none exceeds count
    if is_array and count > 0 then
      for i = 1, count do
        if rawget(t, i) == nil then
          is_array = false
          break
        end
      end
    end
    if count == 0 then
      is_array = false
    end
  end

  if is_array then
    n = n + 1; out[n] = "["
    for i = 1, count do
      if i > 1 then
        n = n + 1; out[n] = ","
      end
      n = encode_value(rawget(t, i), out, n, seen)
    end
    n = n + 1; out[n] = "]"
  elseif count == 0 then
    n = n + 1; out[n] = "{}"
  else
    local entries = {}
    for k, v in pairs(t) do
      entries[#entries + 1] = { key_string(k), type(k), v }
    end
    sort(entries, entry_less)
    n = n + 1; out[n] = "{"
    for i = 1, #entries do
      local e = entries[i]
      if i > 1 then
        n = n + 1; out[n] = ","
      end
      n = n + 1; out[n] = encode_string(e[1])
      n = n + 1; out[n] = ":"
      n = encode_value(e[3], out, n, seen)
    end
    n = n + 1; out[n] = "}"
  end

  seen[t] = nil
  return n
end

encode_value = function(v, out, n, seen)
  local t = type(v)
  if v == NULL or v == nil then
    n = n + 1; out[n] = "null"
  elseif t == "table" then
    n = encode_table(v, out, n, seen)
  elseif t == "string" then
    n = n + 1; out[n] = encode_string(v)
  elseif t == "number" then
    n = n + 1; out[n] = encode_number(v)
  elseif t == "boolean" then
    n = n + 1; out[n] = v and "true" or "false"
  else
    n = n + 1; out[n] = encode_string("<" .. t .. ">")
  end
  return n
end

local function encode(v)
  local out = {}
  local n = encode_value(v, out, 0, {})
  return join(out, n, "")
end

local SCOPE_KEYS = {
  "type", "asgi", "lasgi", "http_version", "method", "scheme", "path", "raw_path",
  "query_string", "root_path", "headers", "client", "server", "state", "extensions",
}

-- The scope as JSON text: every key, the standard ones null when absent.
local function encode_scope(scope)
  if type(scope) ~= "table" then
    return encode(scope)
  end
  local copy = {}
  for k, v in pairs(scope) do
    copy[k] = v
  end
  for i = 1, #SCOPE_KEYS do
    if copy[SCOPE_KEYS[i]] == nil then
      copy[SCOPE_KEYS[i]] = NULL
    end
  end
  return encode(copy)
end

-- ---------------------------------------------------------------------------------------
-- Adler-32 (RFC 1950) in plain arithmetic. Within a block of 4096 bytes the sums stay
-- far below 2^53 (a < 2^21, b < 2^33), so the modulo is taken once per block.

local MOD = 65521

local function adler_update(a, b, s)
  local n, i = #s, 1
  while i <= n do
    local stop = i + 4095
    if stop > n then
      stop = n
    end
    while i + 15 <= stop do
      local c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15, c16 = byte(s, i, i + 15)
      a = a + c1; b = b + a
      a = a + c2; b = b + a
      a = a + c3; b = b + a
      a = a + c4; b = b + a
      a = a + c5; b = b + a
      a = a + c6; b = b + a
      a = a + c7; b = b + a
      a = a + c8; b = b + a
      a = a + c9; b = b + a
      a = a + c10; b = b + a
      a = a + c11; b = b + a
      a = a + c12; b = b + a
      a = a + c13; b = b + a
      a = a + c14; b = b + a
      a = a + c15; b = b + a
      a = a + c16; b = b + a
      i = i + 16
    end
    while i <= stop do
      a = a + byte(s, i); b = b + a
      i = i + 1
    end
    a = a % MOD
    b = b % MOD
  end
  return a, b
end

-- ---------------------------------------------------------------------------------------
-- The script

-- Splits s at each occurrence of the one-character sep, keeping empty fields.
local function split(s, sep)
  local out, n, i = {}, 0, 1
  while true do
    local j = find(s, sep, i, true)
    n = n + 1
    if not j then
      out[n] = sub(s, i)
      return out, n
    end
    out[n] = sub(s, i, j - 1)
    i = j + 1
  end
end

local function unhex(h)
  return char(tonumber(h, 16))
end

-- Percent-decodes s; nil when a `%` is not followed by two hex digits.
local function decode_arg(s)
  if find((gsub(s, "%%%x%x", "")), "%", 1, true) then
    return nil
  end
  return (gsub(s, "%%(%x%x)", unhex))
end

-- verb -> {fewest arguments, most arguments}
local VERBS = {
  token = { 1, 1 }, recv = { 0, 0 }, drain = { 0, 0 }, hdr = { 2, 2 }, trailers = { 0, 0 },
  noreport = { 0, 0 }, start = { 1, 1 }, body = { 1, 1 }, ["end"] = { 0, 1 }, fill = { 1, 1 },
  echo = { 0, 0 }, trailer = { 2, 2 }, sendtrailers = { 0, 0 }, bad = { 1, 1 }, raise = { 1, 1 }, throw = { 1, 1 },
  ["return"] = { 0, 0 }, report = { 1, 1 },
  -- the lasgi.timers extension
  wait = { 0, 1 }, badwait = { 1, 1 },
  -- websocket scopes
  accept = { 0, 1 }, text = { 1, 1 }, bytes = { 1, 1 }, close = { 0, 2 },
}

-- The verbs defined in sections of their own below ("Table checks", "Groups"): {arity,
-- check, run}, run returning as try_send does; and the hooks those sections define.
local CHECK_VERBS = {}
local before_send, after_send, on_receive, on_group_message

-- The invalid arguments of receive() of badwait:KIND (the lasgi.timers extension), a new
-- value each time.
local BAD_WAIT = {
  negative = function() return { timeout = -1 } end,
  string = function() return { timeout = "1" } end,
  ["not-table"] = function() return 1 end,
  nan = function() return { timeout = 0 / 0 } end,
  -- 1 / 0, not math.huge: gopher-lua's math.huge is the largest finite double.
  infinite = function() return { timeout = 1 / 0 } end,
}

-- The invalid events of bad:KIND, a new table each time.
-- Error values of other types than string, for throw:KIND.
local THROWN_KINDS = { table = true, ["nil"] = true, number = true, boolean = true }
local function thrown(kind)
  if kind == "table" then
    return { probe = "an error value that is a table" }
  elseif kind == "number" then
    return 42
  elseif kind == "boolean" then
    return false
  end
  return nil
end

local BAD = {
  ["not-table"] = function() return START end,
  ["no-type"] = function() return { status = 200 } end,
  ["unknown-type"] = function() return { type = "http.response.begin" } end,
  ["status-string"] = function() return { type = START, status = "200" } end,
  ["status-float"] = function() return { type = START, status = 200.5 } end,
  ["status-missing"] = function() return { type = START } end,
  ["status-1xx"] = function() return { type = START, status = 103 } end,
  ["status-600"] = function() return { type = START, status = 600 } end,
  ["headers-map"] = function() return { type = START, status = 200, headers = { ["x-a"] = "1" } } end,
  ["header-single"] = function() return { type = START, status = 200, headers = { { "x-a" } } } end,
  ["header-number"] = function() return { type = START, status = 200, headers = { { "x-a", 1 } } } end,
  ["header-upper"] = function() return { type = START, status = 200, headers = { { "X-A", "1" } } } end,
  ["header-crlf"] = function()
    return { type = START, status = 200, headers = { { "x-a", "1\r\nx-b: 2" } } }
  end,
  ["header-space"] = function() return { type = START, status = 200, headers = { { "x a", "1" } } } end,
  ["header-empty-name"] = function() return { type = START, status = 200, headers = { { "", "1" } } } end,
  ["trailers-number"] = function() return { type = START, status = 200, trailers = 1 } end,
  ["content-length-bad"] = function()
    return { type = START, status = 200, headers = { { "content-length", "ten" } } }
  end,
  ["body-before-start"] = function() return { type = BODY, body = "x" } end,
  ["start-again"] = function() return { type = START, status = 200 } end,
  ["body-number"] = function() return { type = BODY, body = 5 } end,
  ["more-body-string"] = function() return { type = BODY, body = "", more_body = "yes" } end,
  ["body-nonempty"] = function() return { type = BODY, body = "x", more_body = true } end,
  ["trailers-unasked"] = function() return { type = TRAILERS, headers = {} } end,
  ["more-trailers-string"] = function() return { type = TRAILERS, headers = {}, more_trailers = "no" } end,
  ["after-complete"] = function() return { type = BODY, body = "late" } end,
  -- websocket scopes
  ["ws-send-both"] = function() return { type = WS_SEND, text = "a", bytes = "b" } end,
  ["ws-send-neither"] = function() return { type = WS_SEND } end,
  ["ws-text-number"] = function() return { type = WS_SEND, text = 5 } end,
  ["ws-text-invalid"] = function() return { type = WS_SEND, text = "\255" } end,
  ["ws-bytes-number"] = function() return { type = WS_SEND, bytes = 5 } end,
  ["ws-close-code-1005"] = function() return { type = WS_CLOSE, code = 1005 } end,
  ["ws-close-code-string"] = function() return { type = WS_CLOSE, code = "1000" } end,
  ["ws-close-reason-long"] = function() return { type = WS_CLOSE, reason = rep("x", 124) } end,
  ["ws-subprotocol-unknown"] = function() return { type = WS_ACCEPT, subprotocol = "x-not-offered" } end,
  ["ws-protocol-header"] = function()
    return { type = WS_ACCEPT, headers = { { "sec-websocket-protocol", "x" } } }
  end,
  ["ws-accept-headers-map"] = function() return { type = WS_ACCEPT, headers = { ["x-a"] = "1" } } end,
  ["ws-send"] = function() return { type = WS_SEND, text = "early or late" } end,
  ["ws-accept"] = function() return { type = WS_ACCEPT } end,
}

-- Parses the script. Returns the list of actions and the token (or nil), or nil, the
-- offending action text and the reason.
local function parse(script)
  local pieces, count = split(script, " ")
  local actions, token = {}, nil
  for i = 1, count do
    local text = pieces[i]
    local fields, nfields = split(text, ":")
    local verb = fields[1]
    local arity = VERBS[verb] or (CHECK_VERBS[verb] and CHECK_VERBS[verb].arity)
    if not arity then
      return nil, text, "unknown action"
    end
    local nargs = nfields - 1
    if nargs < arity[1] or nargs > arity[2] then
      return nil, text, "wrong number of arguments for " .. verb
    end
    local args = {}
    for j = 1, nargs do
      local arg = decode_arg(fields[j + 1])
      if arg == nil then
        return nil, text, "bad percent-encoding in argument " .. j
      end
      args[j] = arg
    end
    local action = { verb = verb, text = text, args = args }
    if verb == "start" then
      if not find(args[1], "^%d+$") or #args[1] > 9 then
        return nil, text, "status is not a decimal integer"
      end
      action.status = tonumber(args[1])
    elseif verb == "fill" then
      if not find(args[1], "^%d+$") or #args[1] > 15 then
        return nil, text, "length is not a decimal integer"
      end
      action.count = tonumber(args[1])
    elseif verb == "bad" then
      if not BAD[args[1]] then
        return nil, text, "unknown kind of invalid event"
      end
    elseif verb == "wait" and args[1] ~= nil then
      if not find(args[1], "^%d+%.?%d*$") or #args[1] > 12 then
        return nil, text, "timeout is not a decimal number of seconds"
      end
      action.timeout = tonumber(args[1])
    elseif verb == "badwait" then
      if not BAD_WAIT[args[1]] then
        return nil, text, "unknown kind of invalid receive argument"
      end
    elseif verb == "throw" then
      if not THROWN_KINDS[args[1]] then
        return nil, text, "unknown kind of error value"
      end
    elseif verb == "close" and args[1] ~= nil then
      if not find(args[1], "^%d+$") or #args[1] > 9 then
        return nil, text, "close code is not a decimal integer"
      end
      action.code = tonumber(args[1])
    elseif verb == "report" then
      if count ~= 1 then
        return nil, text, "report must be the only action"
      end
    elseif verb == "token" then
      token = args[1]
    elseif CHECK_VERBS[verb] and CHECK_VERBS[verb].check then
      local why = CHECK_VERBS[verb].check(args)
      if why then
        return nil, text, why
      end
    end
    actions[i] = action
  end
  return actions, token
end

-- ---------------------------------------------------------------------------------------
-- Reports

-- Whether the app runs inside a coroutine other than the main one (coroutine.running()
-- returns nil in Lua 5.1's main thread, and the main thread plus true in 5.2+).
local function in_coroutine()
  local co, main = coroutine.running()
  return co ~= nil and not main
end

local function new_exchange(scope)
  return {
    coroutine = in_coroutine(),
    scope = scope, -- for the table checks
    scope_json = raw(encode_scope(scope)),
    events = list(),
    sends = list(),
    seen = 0, -- body bytes received, recorded or not
    length = 0, -- http.request body bytes
    a = 1, b = 0, -- Adler-32 state
    complete = false, -- the request body is complete (or the client is gone)
    head = {}, -- pending response headers
    trailer_list = {}, -- pending trailers
    want_trailers = false,
    noreport = false,
    head_sent = false,
  }
end

local function report(x, full)
  local events = x.events
  if not full then
    events = list()
    for i = 1, #x.events do
      local e = x.events[i]
      events[i] = { type = e.type, more_body = e.more_body, len = e.len, values = e.values }
    end
  end
  return {
    scope = x.scope_json,
    events = events,
    body = { len = x.length, adler32 = x.b * 65536 + x.a },
    sends = x.sends,
    coroutine = x.coroutine,
    script = x.script,
    script_from = x.script_from,
    running = full and x.running or nil, -- a kept report of a call still running: partial
    lifespan = x.lifespan, -- the `state` verb's
  }
end

local function describe(err)
  local ok, s = pcall(tostring, err)
  if ok and type(s) == "string" then
    return s
  end
  return "<" .. type(err) .. ">"
end

local function record(x, action, ok, err)
  local sends = x.sends
  sends[#sends + 1] = { action = action, ok = ok, error = ok and NULL or describe(err) }
end

local function is_disconnected(err)
  return find(describe(err), "lasgi: disconnected:", 1, true) ~= nil
end

-- Kept reports: token -> {seq, exchange}; queue holds {token, seq} oldest first, with
-- stale entries (replaced or fetched reports) skipped when met and compacted now and then.
local kept, kept_count, seq = {}, 0, 0
local queue, qhead, qtail = {}, 1, 0

local function keep(token, x)
  seq = seq + 1
  if kept[token] == nil then
    kept_count = kept_count + 1
  end
  kept[token] = { seq = seq, exchange = x }
  qtail = qtail + 1
  queue[qtail] = { token, seq }
  while kept_count > MAX_KEPT do
    local e = queue[qhead]
    queue[qhead] = nil
    qhead = qhead + 1
    local k = kept[e[1]]
    if k and k.seq == e[2] then
      kept[e[1]] = nil
      kept_count = kept_count - 1
    end
  end
  if qtail - qhead + 1 > 2 * MAX_KEPT then
    local fresh, n = {}, 0
    for i = qhead, qtail do
      local e = queue[i]
      local k = kept[e[1]]
      if k and k.seq == e[2] then
        n = n + 1
        fresh[n] = e
      end
    end
    queue, qhead, qtail = fresh, 1, n
  end
end

local function forget(token, k)
  if kept[token] == k then
    kept[token] = nil
    kept_count = kept_count - 1
  end
end

-- ---------------------------------------------------------------------------------------
-- Receiving and sending

local function count_values(...)
  return select("#", ...), ...
end

-- Calls receive() once, with opts when given (wait), and records the event (and how
-- many values receive returned, when that is not exactly one).
local function receive_one(x, receive, opts)
  local count, ev
  if opts ~= nil then
    count, ev = count_values(receive(opts))
  else
    count, ev = count_values(receive())
  end
  local rec = { type = NULL, more_body = NULL, len = NULL }
  if count ~= 1 then
    rec.values = count
  end
  if type(ev) == "table" then
    local t, body, more = ev.type, ev.body, ev.more_body
    if t ~= nil then
      rec.type = t
    end
    if more ~= nil then
      rec.more_body = more
    end
    if type(body) == "string" then
      local n = #body
      rec.len = n
      x.seen = x.seen + n
      if x.seen <= MAX_RECORDED_BODY then
        rec.body = body
      end
      if t == "http.request" then
        x.length = x.length + n
        x.a, x.b = adler_update(x.a, x.b, body)
      end
    end
    if x.websocket then
      local text, bytes = ev.text, ev.bytes
      for key, v in pairs({ text = text, bytes = bytes }) do
        if type(v) == "string" then
          x.seen = x.seen + #v
          if x.seen <= MAX_RECORDED_BODY then
            rec[key] = v
          end
        elseif v ~= nil then
          rec[key] = "<" .. type(v) .. ">"
        end
      end
      if ev.code ~= nil then
        rec.code = ev.code
      end
      if ev.reason ~= nil then
        rec.reason = ev.reason
      end
    end
    if (t == "http.request" and more ~= true) or t == "http.disconnect" or t == "websocket.disconnect" then
      x.complete = true
    end
    if t == "lasgi.group.message" then
      on_group_message(rec, ev)
    end
  end
  local events = x.events
  events[#events + 1] = rec
  if x.watch then
    on_receive(x, ev)
  end
  return ev
end

-- Sends ev in pcall. Returns nothing when it was accepted; otherwise records the error
-- and returns true (the script ends) and the error when it must be raised again.
local function try_send(x, send, action, ev)
  local hooked = x.watch or x.extra
  if hooked then
    before_send(x, ev)
  end
  local ok, err = pcall(send, ev)
  if hooked then
    after_send(x, action, ev)
  end
  if ok then
    return nil
  end
  record(x, action, false, err)
  if is_disconnected(err) then
    return true, err
  end
  return true, nil
end

-- A complete response in two sends. Returns as try_send, and the error.
local function answer(x, send, action, status, content_type, text)
  local stop, err = try_send(x, send, action,
    { type = START, status = status, headers = { { "content-type", content_type } } })
  if stop then
    return stop, err
  end
  return try_send(x, send, action, { type = BODY, body = text, more_body = false })
end

-- An action that cannot run: recorded, answered 400 when the head is not sent yet.
local function refuse(x, send, action, reason)
  record(x, action, false, "probe: " .. reason)
  if x.head_sent or x.websocket then
    return true, nil
  end
  local stop, err = answer(x, send, action, 400, "text/plain", "probe: " .. reason .. ": " .. action .. "\n")
  return true, err
end

-- ---------------------------------------------------------------------------------------
-- Table checks: `watch`, `verify`, `extra`, `cocall:KIND` (fixtures/PROBE.md, "Table
-- checks"). Whether the server hands the app fresh tables and leaves them alone
-- (core.scope.fresh, core.receive.fresh), leaves the app's sent tables alone
-- (core.send.unmodified), ignores keys it does not know in sent events
-- (core.send.unknown-keys), and refuses receive/send from a coroutine of the app's own
-- (core.call.wrong-coroutine). Problems are recorded in `sends` as one `verify` entry
-- whose error is "probe: <rule-id>: <detail>" joined by "; ".

-- The previous watched call's scope and received tables, in this Lua state.
local last_scope, last_received = nil, {}

-- A copy of v to compare with later: a table becomes {id = the table, keys = copies}.
local function snapshot(v, seen)
  if type(v) ~= "table" then
    return v
  end
  seen = seen or {}
  if seen[v] then
    return seen[v]
  end
  local s = { id = v, keys = {} }
  seen[v] = s
  for k, e in pairs(v) do
    s.keys[k] = snapshot(e, seen)
  end
  return s
end

-- The first difference between v and the snapshot s, as text, or nil.
local function differs(v, s, path, seen)
  if type(s) ~= "table" then
    if v ~= s and not (v ~= v and s ~= s) then
      return path .. " was " .. describe(s) .. ", now " .. describe(v)
    end
    return nil
  end
  if v ~= s.id then
    return path .. " is no longer the same table"
  end
  seen = seen or {}
  if seen[s] then
    return nil
  end
  seen[s] = true
  for k, e in pairs(s.keys) do
    local d = differs(rawget(v, k), e, path .. "." .. key_string(k), seen)
    if d then
      return d
    end
  end
  for k in pairs(v) do
    if s.keys[k] == nil then
      return path .. "." .. key_string(k) .. " was added"
    end
  end
  return nil
end

local WATCHED_RULES = { ["core.scope.fresh"] = true, ["core.receive.fresh"] = true, ["core.send.unmodified"] = true }

local function problem(w, rule, detail)
  w.problems[#w.problems + 1] = { rule, "probe: " .. rule .. ": " .. detail }
end

on_receive = function(x, ev)
  local w = x.watch
  if type(ev) ~= "table" then
    return
  end
  local n = #w.received + 1
  for i = 1, #w.received do
    if w.received[i][1] == ev then
      problem(w, "core.receive.fresh", "receive " .. n .. " returned the table of receive " .. i)
    end
  end
  for i = 1, #w.earlier do
    if w.earlier[i] == ev then
      problem(w, "core.receive.fresh", "receive " .. n .. " returned a table an earlier call received")
    end
  end
  w.received[n] = { ev, snapshot(ev) }
  w.tables[n] = ev
end

before_send = function(x, ev)
  if x.extra then
    ev.x_probe = 1
  end
  if x.watch then
    x.watch.pending = snapshot(ev)
  end
end

after_send = function(x, action, ev)
  local w = x.watch
  if w then
    local d = differs(ev, w.pending, "event")
    if d then
      problem(w, "core.send.unmodified", "send changed the event of " .. action .. ": " .. d)
    end
    w.sent[#w.sent + 1] = { ev, w.pending, action }
  end
end

CHECK_VERBS.watch = {
  arity = { 0, 0 },
  run = function(x)
    if x.watch then
      return
    end
    local w = { problems = {}, received = {}, tables = {}, sent = {}, scope = snapshot(x.scope),
      earlier = last_received }
    x.watch = w
    if x.scope == last_scope then
      problem(w, "core.scope.fresh", "the scope is the table of the previous call in this Lua state")
    end
    last_scope, last_received = x.scope, w.tables
  end,
}

CHECK_VERBS.verify = {
  arity = { 0, 3 },
  check = function(args)
    for i = 1, #args do
      if not WATCHED_RULES[args[i]] then
        return "verify takes core.scope.fresh, core.receive.fresh or core.send.unmodified"
      end
    end
  end,
  run = function(x, action)
    local w = x.watch
    if not w then
      record(x, action.text, false, "probe: verify without watch")
      return
    end
    local d = differs(x.scope, w.scope, "scope")
    if d then
      problem(w, "core.scope.fresh", "the scope changed after the call started: " .. d)
    end
    for i = 1, #w.received do
      d = differs(w.received[i][1], w.received[i][2], "event")
      if d then
        problem(w, "core.receive.fresh", "the table of receive " .. i .. " changed after receive returned it: " .. d)
      end
    end
    for i = 1, #w.sent do
      d = differs(w.sent[i][1], w.sent[i][2], "event")
      if d then
        problem(w, "core.send.unmodified", "the event of " .. w.sent[i][3] .. " changed after send returned: " .. d)
      end
    end
    -- only the problems with the rules named, when some are
    local only, found = nil, {}
    if #action.args > 0 then
      only = {}
      for i = 1, #action.args do
        only[action.args[i]] = true
      end
    end
    for i = 1, #w.problems do
      if not only or only[w.problems[i][1]] then
        found[#found + 1] = w.problems[i][2]
      end
    end
    record(x, action.text, #found == 0, concat(found, "; "))
  end,
}

CHECK_VERBS.extra = {
  arity = { 0, 0 },
  run = function(x)
    x.extra = true
  end,
}

CHECK_VERBS.cocall = {
  arity = { 1, 1 },
  check = function(args)
    if args[1] ~= "recv" and args[1] ~= "send" then
      return "cocall takes recv or send"
    end
  end,
  run = function(x, action, receive, send)
    local kind = action.args[1]
    local co = coroutine.create(function()
      if kind == "recv" then
        receive()
      else
        send({ type = START, status = 200 })
      end
    end)
    local ok, err = coroutine.resume(co)
    if ok and coroutine.status(co) ~= "dead" then
      record(x, action.text, false, "probe: " .. kind .. " in a coroutine of the app's own yielded it instead of raising an error")
      return
    end
    record(x, action.text, ok, err)
    if ok and kind == "send" then
      x.head_sent = true
    end
  end,
}

-- ---------------------------------------------------------------------------------------
-- Groups: the lasgi.groups extension (fixtures/PROBE.md, "Groups"). The probe joins,
-- leaves and sends to groups, sends the invalid group events of gbad:KIND, and records each
-- lasgi.group.message it receives with its group, data and dropped, noting data tables
-- that are not its own (groups.copy).

local GROUP_JOIN, GROUP_LEAVE, GROUP_SEND = "lasgi.group.join", "lasgi.group.leave", "lasgi.group.send"
local DEFAULT_DRAIN = 0.5 -- gdrain's timeout, seconds

-- The limit of the scope's lasgi.groups entry named, or nil when it gives none usable.
local function group_limit(x, name)
  local ext = type(x.scope) == "table" and x.scope.extensions
  local entry = type(ext) == "table" and ext["lasgi.groups"]
  local v = type(entry) == "table" and entry[name]
  if type(v) == "number" and v >= 1 and v == floor(v) then
    return v
  end
  return nil
end

-- Tables this Lua state sent as group data, and tables receive() handed it as group data:
-- a received table that is either was shared, not copied. gopher-lua has no weak tables,
-- so a registry starts afresh past SEEN_MAX tables instead of holding them for good.
local SEEN_MAX = 4096
local sent_tables, received_tables = { n = 0, set = {} }, { n = 0, set = {} }

local function remember(reg, t, depth)
  if reg.n >= SEEN_MAX then
    reg.n, reg.set = 0, {}
  end
  if reg.set[t] or depth > 40 then
    return
  end
  reg.set[t], reg.n = true, reg.n + 1
  for _, v in pairs(t) do
    if type(v) == "table" then
      remember(reg, v, depth + 1)
    end
  end
end

-- Where in received data (path) a table that was sent or received before is, or nil.
local function shared(t, path, depth)
  if sent_tables.set[t] then
    return path .. " is a table the sender sent, not a copy"
  elseif received_tables.set[t] then
    return path .. " is a table an earlier receive() in this Lua state was handed"
  elseif depth > 40 then
    return nil
  end
  for k, v in pairs(t) do
    if type(v) == "table" then
      local why = shared(v, path .. "." .. key_string(k), depth + 1)
      if why then
        return why
      end
    end
  end
  return nil
end

on_group_message = function(rec, ev)
  rec.group = ev.group
  rec.dropped = ev.dropped
  local data = ev.data
  if type(data) ~= "table" then
    rec.data_type = type(data)
    return
  end
  rec.data = raw(encode(data))
  rec.copy = shared(data, "data", 1)
  remember(received_tables, data, 1)
end

-- Changes every table of sent data after send returned: a member handed the sender's
-- tables, or data encoded only later, shows it.
local function scribble(t, depth)
  local keys = {}
  for k, v in pairs(t) do
    keys[#keys + 1] = k
    if type(v) == "table" and depth < 40 then
      scribble(v, depth + 1)
    end
  end
  for i = 1, #keys do
    t[keys[i]] = "changed by the sender after send"
  end
  t.probe_added = "by the sender after send"
end

-- Sends data to group as try_send does, then scribbles on it.
local function send_data(x, send, action, group, data)
  remember(sent_tables, data, 1)
  local stop, err = try_send(x, send, action, { type = GROUP_SEND, group = group, data = data })
  scribble(data, 1)
  return stop, err
end

-- gdata:G:KIND's data, a new table each time.
local GROUP_DATA = {
  -- Every kind of value and key groups.data allows, bytes that are not text among them.
  mixed = function()
    return {
      text = "a\0b\255", int = 42, neg = -7, big = 2 ^ 53, float = 1.5, tenth = 0.1, huge = 1e300,
      yes = true, no = false, list = { "x", "y", "z" }, empty = {},
      nested = { deeper = { deepest = { n = 1 } } },
      [1.5] = "a float key", [-1] = "a negative key", ["k\0ey"] = "a NUL in a key",
    }
  end,
}

-- n tables nested under the key d, data itself the first.
local function nest(n)
  local t = {}
  for _ = 2, n do
    t = { d = t }
  end
  return t
end

local function bad_send(data)
  return { type = GROUP_SEND, group = "probe.bad", data = data }
end

-- gbad:KIND's events (max-groups is apart: it takes several), each built when sent; one
-- that cannot be built returns nil and why.
local GROUP_BAD = {
  ["name-empty"] = function() return { type = GROUP_JOIN, group = "" } end,
  ["name-long"] = function() return { type = GROUP_LEAVE, group = rep("a", 100) } end,
  ["name-char"] = function() return { type = GROUP_SEND, group = "room 1", data = { text = "x" } } end,
  ["name-number"] = function() return { type = GROUP_JOIN, group = 5 } end,
  ["data-function"] = function() return bad_send({ f = function() end }) end,
  ["data-table-key"] = function() return bad_send({ [{}] = 1 }) end,
  ["data-bool-key"] = function() return bad_send({ [true] = 1 }) end,
  ["data-nan-key"] = function()
    local t = {}
    local ok, err = pcall(function() t[0 / 0] = 1 end)
    if not ok then
      return nil, err
    end
    return bad_send(t)
  end,
  ["data-cycle"] = function()
    local t = { text = "x" }
    t.self = t
    return bad_send(t)
  end,
  ["data-deep"] = function() return bad_send(nest(33)) end,
  ["data-not-table"] = function() return bad_send("text") end,
  -- 5 for data, 5 + 4 for the key text, 5 + n for the value (groups.data.size).
  ["data-size"] = function(max) return bad_send({ text = rep("x", max - 18) }) end,
  ["ok-size"] = function(max) return bad_send({ text = rep("x", max - 19) }) end,
  ["ok-deep"] = function() return bad_send(nest(32)) end,
}

-- gbad:max-groups: joins distinct groups until one is refused or max_groups + 1 are
-- joined, records the last join's outcome, and leaves them.
local function join_past_max(x, text, send)
  local most = group_limit(x, "max_groups")
  if not most then
    record(x, text, false, "probe: the scope's lasgi.groups entry gives no max_groups")
    return
  end
  local joined, ok, err = {}, true, nil
  for i = 1, most + 1 do
    local g = "probe.max-groups." .. i
    ok, err = pcall(send, { type = GROUP_JOIN, group = g })
    if not ok then
      break
    end
    joined[#joined + 1] = g
  end
  for i = 1, #joined do
    pcall(send, { type = GROUP_LEAVE, group = joined[i] })
  end
  record(x, text, ok, err)
end

-- A check that argument i is a decimal integer of at most most digits.
local function integer_arg(i, most, why)
  return function(args)
    if not find(args[i], "^%d+$") or #args[i] > most then
      return why
    end
  end
end

CHECK_VERBS.gjoin = {
  arity = { 1, 1 },
  run = function(x, action, _, send)
    return try_send(x, send, action.text, { type = GROUP_JOIN, group = action.args[1] })
  end,
}

CHECK_VERBS.gleave = {
  arity = { 1, 1 },
  run = function(x, action, _, send)
    return try_send(x, send, action.text, { type = GROUP_LEAVE, group = action.args[1] })
  end,
}

CHECK_VERBS.gsend = {
  arity = { 2, 2 },
  run = function(x, action, _, send)
    return send_data(x, send, action.text, action.args[1], { text = action.args[2] })
  end,
}

CHECK_VERBS.gdata = {
  arity = { 2, 2 },
  check = function(args)
    if not GROUP_DATA[args[2]] then
      return "unknown kind of group data"
    end
  end,
  run = function(x, action, _, send)
    return send_data(x, send, action.text, action.args[1], GROUP_DATA[action.args[2]]())
  end,
}

CHECK_VERBS.gflood = {
  arity = { 2, 2 },
  check = integer_arg(2, 6, "the number past queue is not a decimal integer"),
  run = function(x, action, _, send)
    local queue = group_limit(x, "queue")
    if not queue then
      record(x, action.text, false, "probe: the scope's lasgi.groups entry gives no queue")
      return true, nil
    end
    for k = 1, queue + tonumber(action.args[2]) do
      local stop, err = send_data(x, send, action.text, action.args[1], { seq = k })
      if stop then
        return stop, err
      end
    end
  end,
}

CHECK_VERBS.gbad = {
  arity = { 1, 1 },
  check = function(args)
    if not GROUP_BAD[args[1]] and args[1] ~= "max-groups" then
      return "unknown kind of invalid group event"
    end
  end,
  run = function(x, action, _, send)
    local kind, text = action.args[1], action.text
    if kind == "max-groups" then
      return join_past_max(x, text, send)
    end
    local max = group_limit(x, "max_message_bytes")
    if not max and (kind == "data-size" or kind == "ok-size") then
      record(x, text, false, "probe: the scope's lasgi.groups entry gives no max_message_bytes")
      return
    end
    local ev, why = GROUP_BAD[kind](max)
    if ev == nil then
      -- No app on this Lua can send such a table, so it cannot break the rule this way.
      record(x, text, false, "lasgi: groups.data: probe: this Lua refuses to make the table itself (" .. describe(why) .. ")")
      return
    end
    local ok, err = pcall(send, ev)
    record(x, text, ok, err)
  end,
}

CHECK_VERBS.gdrain = {
  arity = { 0, 1 },
  check = function(args)
    if args[1] ~= nil and (not find(args[1], "^%d+%.?%d*$") or #args[1] > 12) then
      return "timeout is not a decimal number of seconds"
    end
  end,
  run = function(x, action, receive)
    local timeout = tonumber(action.args[1]) or DEFAULT_DRAIN
    while true do
      local ev = receive_one(x, receive, { timeout = timeout })
      if type(ev) ~= "table" or ev.type ~= "lasgi.group.message" then
        return
      end
    end
  end,
}

-- busy:MS: runs MS milliseconds without yielding, so that messages on their way (through a
-- hub between processes, which delivers later) reach the call before it receives.
CHECK_VERBS.busy = {
  arity = { 1, 1 },
  check = integer_arg(1, 4, "busy takes a decimal number of milliseconds, at most 9999"),
  run = function(x, action)
    local clock = type(os) == "table" and os.clock
    if not clock then
      record(x, action.text, false, "probe: busy needs os.clock, which this server takes away")
      return true, nil
    end
    local stop = clock() + tonumber(action.args[1]) / 1000
    while clock() < stop do
    end
  end,
}

-- gforward: receives one event; a group message's data.text (or what is wrong with the
-- message) goes on to the client, as a binary message or a body part.
CHECK_VERBS.gforward = {
  arity = { 0, 0 },
  run = function(x, action, receive, send)
    local ev = receive_one(x, receive)
    if type(ev) ~= "table" or ev.type ~= "lasgi.group.message" then
      return
    end
    local rec = x.events[#x.events]
    local out = type(ev.data) == "table" and ev.data.text
    if rec.copy then
      out = "probe: groups.copy: " .. rec.copy
    elseif type(out) ~= "string" then
      out = "probe: the message has no data.text"
    end
    if x.websocket then
      return try_send(x, send, action.text, { type = WS_SEND, bytes = out })
    end
    if not x.head_sent then
      return refuse(x, send, action.text, "gforward before the response head was sent")
    end
    return try_send(x, send, action.text, { type = BODY, body = out, more_body = true })
  end,
}

-- Runs the actions. Returns true and the error value when the app must raise it.
local function run(x, actions, receive, send)
  for i = 1, #actions do
    local action = actions[i]
    local verb, args, text = action.verb, action.args, action.text
    local stop, err
    if verb == "recv" then
      receive_one(x, receive)
    elseif verb == "wait" then
      receive_one(x, receive, { timeout = action.timeout })
    elseif verb == "badwait" then
      local ok, e = pcall(receive, BAD_WAIT[args[1]]())
      record(x, text, ok, e)
    elseif verb == "drain" then
      while not x.complete do
        if type(receive_one(x, receive)) ~= "table" then
          break
        end
      end
    elseif verb == "hdr" then
      x.head[#x.head + 1] = { args[1], args[2] }
    elseif verb == "trailers" then
      x.want_trailers = true
    elseif verb == "noreport" then
      x.noreport = true
    elseif verb == "start" then
      local headers = {}
      for j = 1, #x.head do
        headers[j] = { x.head[j][1], x.head[j][2] }
      end
      if not x.noreport then
        headers[#headers + 1] = { REPORT_HEADER, encode(report(x, false)) }
      end
      local ev = { type = x.websocket and WS_START or START, status = action.status, headers = headers }
      if x.want_trailers then
        ev.trailers = true
      end
      stop, err = try_send(x, send, text, ev)
      if not stop then
        x.head_sent = true
      end
    elseif verb == "body" then
      stop, err = try_send(x, send, text, { type = x.websocket and WS_BODY or BODY, body = args[1], more_body = true })
    elseif verb == "end" then
      stop, err = try_send(x, send, text, { type = x.websocket and WS_BODY or BODY, body = args[1] or "", more_body = false })
    elseif verb == "accept" or verb == "text" or verb == "bytes" or verb == "close" then
      if not x.websocket then
        stop, err = refuse(x, send, text, verb .. " outside a websocket scope")
      else
        local ev
        if verb == "accept" then
          local headers = {}
          for j = 1, #x.head do
            headers[j] = { x.head[j][1], x.head[j][2] }
          end
          ev = { type = WS_ACCEPT, headers = headers, subprotocol = args[1] }
        elseif verb == "close" then
          ev = { type = WS_CLOSE, code = action.code, reason = args[2] }
        else
          ev = { type = WS_SEND, [verb] = args[1] }
        end
        stop, err = try_send(x, send, text, ev)
      end
    elseif verb == "fill" then
      local left = action.count
      while left > 0 and not stop do
        local part = FILL_PART
        if left < PART then
          part = sub(FILL_PART, 1, left)
        end
        left = left - #part
        stop, err = try_send(x, send, text, { type = BODY, body = part, more_body = true })
      end
    elseif verb == "echo" and x.websocket then
      while not stop and not x.complete do
        local ev = receive_one(x, receive)
        if type(ev) ~= "table" then
          break
        end
        if ev.type == "websocket.receive" then
          stop, err = try_send(x, send, text, { type = WS_SEND, text = ev.text, bytes = ev.bytes })
        end
      end
    elseif verb == "echo" then
      if not x.head_sent then
        stop, err = refuse(x, send, text, "echo before the response head was sent")
      end
      while not stop and not x.complete do
        local ev = receive_one(x, receive)
        if type(ev) ~= "table" then
          break
        end
        local body = ev.body
        if ev.type == "http.request" and type(body) == "string" and body ~= "" then
          stop, err = try_send(x, send, text, { type = BODY, body = body, more_body = true })
        end
      end
    elseif verb == "trailer" then
      x.trailer_list[#x.trailer_list + 1] = { args[1], args[2] }
    elseif verb == "sendtrailers" then
      local headers = x.trailer_list
      x.trailer_list = {}
      stop, err = try_send(x, send, text, { type = TRAILERS, headers = headers, more_trailers = false })
    elseif verb == "bad" then
      local ev = BAD[args[1]]()
      local ok, e = pcall(send, ev)
      record(x, text, ok, e)
      if ok and type(ev) == "table" and ev.type == START then
        x.head_sent = true
      end
    elseif verb == "raise" then
      return true, args[1]
    elseif verb == "throw" then
      return true, thrown(args[1])
    elseif verb == "return" then
      return false
    elseif CHECK_VERBS[verb] then
      stop, err = CHECK_VERBS[verb].run(x, action, receive, send)
    end
    -- token: taken by parse; report: handled before run
    if stop then
      return err ~= nil, err
    end
  end
  return false
end

-- ---------------------------------------------------------------------------------------
-- Lifespan (fixtures/PROBE.md, "Lifespan"). Only when lasgi-check starts the server itself
-- does the probe take part in lifespan: it then puts, on the first line of this file, a
-- local `lasgi_probe_lifespan` = {startup = WHAT, shutdown = WHAT, record = FILE}, which
-- this file sees as that local (and, without the line, as an unset global). Otherwise the
-- probe raises for the lifespan scope, as an app without lifespan does.
--
-- Every Lua state has an id; the probe appends one JSON line per thing it saw to the
-- record file: {"state": ID, "at": "startup" | "startup-reply" | "shutdown" |
-- "shutdown-reply" | "after" | "call" | "call-end", ...}. Lines are short and written
-- with one write on a file opened for appending, so the lines of several Lua states do not
-- mix.
local life_config = lasgi_probe_lifespan
local life = { id = tostring({}):gsub("^table: ", ""), startup = "none" }

local function note(line)
  if type(life_config) ~= "table" or type(life_config.record) ~= "string" then
    return
  end
  line.state = life.id
  local open = type(io) == "table" and io.open
  local f = open and open(life_config.record, "a")
  if f then
    f:write(encode(line) .. "\n")
    f:close()
  end
end

-- Some work before a reply, so that a server that does not wait for it (lifespan.shutdown.wait)
-- has ended before the reply's line is written.
local function work()
  local t = os.clock() + 0.2
  while os.clock() < t do
  end
end

local function event_type(ev)
  if type(ev) == "table" then
    return ev.type
  end
  return describe(ev)
end

local function lifespan(scope, receive, send)
  local startup = life_config.startup or "complete"
  life.startup = "pending"
  local ev = receive()
  note({ at = "startup", event = event_type(ev), scope = raw(encode_scope(scope)) })
  if startup == "raise" then
    life.startup = "raised"
    error("probe: lifespan startup raises, as the case asks", 0)
  elseif startup == "return" then
    life.startup = "returned"
    return
  elseif startup == "hang" then
    -- Nothing comes before a shutdown, which must not come (lifespan.shutdown.only-after-startup).
    note({ at = "after", event = event_type(receive()) })
    return
  end
  if type(scope.state) == "table" then
    life.shared = { n = 0 }
    life.state = scope.state
    scope.state.lasgi_probe = "lifespan"
    scope.state.lasgi_probe_shared = life.shared
  end
  if startup == "fail" or startup == "fail-then-raise" then
    life.startup = "failed"
    note({ at = "startup-reply", sent = "lifespan.startup.failed" })
    pcall(send, { type = "lifespan.startup.failed", message = "probe: startup fails, as the case asks" })
    if startup == "fail-then-raise" then
      error("probe: lifespan raises after startup.failed, as the case asks", 0)
    end
    note({ at = "after", event = event_type(receive()) })
    return
  end
  -- Set before the send, which may yield: a call that sees "complete" ran after the reply.
  life.startup = "complete"
  note({ at = "startup-reply", sent = "lifespan.startup.complete" })
  pcall(send, { type = "lifespan.startup.complete" })
  if startup == "complete-then-raise" then
    error("probe: lifespan raises after startup.complete, as the case asks", 0)
  end
  ev = receive()
  note({ at = "shutdown", event = event_type(ev) })
  local shutdown = life_config.shutdown or "complete"
  if shutdown == "raise" then
    error("probe: lifespan shutdown raises, as the case asks", 0)
  end
  work()
  local reply = shutdown == "fail" and "lifespan.shutdown.failed" or "lifespan.shutdown.complete"
  note({ at = "shutdown-reply", sent = reply })
  pcall(send, { type = reply, message = shutdown == "fail" and "probe: shutdown fails, as the case asks" or nil })
end

-- What the `state` verb reports of a call's scope.state: this Lua state's lifespan startup,
-- the state's keys (strings as themselves, other values as their type), whether the table
-- is new (not the lifespan's, nor an earlier call's), and whether the table under
-- lasgi_probe_shared is the one the lifespan put there; and the keys of the lifespan's own
-- state table, which the server must leave alone. Then it changes its copy, which later
-- calls must not see, and the shared table, which they must.
CHECK_VERBS.state = {
  arity = { 0, 0 },
  run = function(x)
    local function keys(t)
      local out = {}
      for k, v in pairs(t) do
        out[tostring(k)] = type(v) == "string" and v or "<" .. type(v) .. ">"
      end
      return out
    end
    local st = x.scope.state
    local r = { startup = life.startup, state = type(st), lifespan_state = life.state and keys(life.state) }
    if type(st) == "table" then
      r.state = keys(st)
      r.fresh = st ~= life.state and st ~= life.last
      r.shared = life.shared ~= nil and rawequal(st.lasgi_probe_shared, life.shared)
      life.last = st
      st.lasgi_probe = "changed by a call"
      st.lasgi_probe_added = "by a call"
      if type(st.lasgi_probe_shared) == "table" then
        st.lasgi_probe_shared.n = (tonumber(st.lasgi_probe_shared.n) or 0) + 1
      end
    end
    x.lifespan = r
  end,
}

-- Answers report:T.
local function fetch(token, send)
  local k = kept[token]
  local x = { sends = list() } -- answer() records failed sends here; nobody reads it
  if k == nil then
    local _, err = answer(x, send, "report", 404, "text/plain",
      "probe: no report is kept under this token in this Lua state\n")
    return err
  end
  local running = k.exchange.running
  local stop, err = answer(x, send, "report", 200, "application/json", encode(report(k.exchange, true)))
  if not stop and not running then
    forget(token, k)
  end
  return err
end

local function serve(scope, receive, send)
  -- Only http and websocket scopes of LASGI 1.x (spec rules core.app.scope-type,
  -- core.scope.version-check).
  local websocket = scope.type == "websocket"
  if scope.type ~= "http" and not websocket then
    error("probe.lua serves http and websocket scopes only, not " .. tostring(scope.type), 0)
  end
  local lasgi = scope.lasgi
  if type(lasgi) == "table" and type(lasgi.version) == "string" and lasgi.version:sub(1, 2) ~= "1." then
    error("probe.lua knows LASGI 1.x, not " .. lasgi.version, 0)
  end
  local script
  local headers = type(scope) == "table" and scope.headers
  if type(headers) == "table" then
    for i = 1, #headers do
      local h = headers[i]
      if type(h) == "table" and h[1] == "lasgi-probe" and type(h[2]) == "string" then
        script = h[2]
        break
      end
    end
  end
  local from = "header"
  if script == nil then
    script, from = websocket and DEFAULT_WS_SCRIPT or DEFAULT_SCRIPT, "default"
  end

  local actions, token, reason = parse(script)
  if websocket and (actions == nil or actions[1].verb == "report") then
    -- No HTTP response to answer with: the server refuses the handshake with a 500.
    error("probe: " .. (reason or "report:T is asked over http") .. ": " .. (token or script), 0)
  end
  if actions == nil then
    local bad_action = token
    local _, err = answer({ sends = list() }, send, bad_action, 400, "text/plain",
      "probe: " .. reason .. ": " .. bad_action .. "\n")
    if err ~= nil then
      error(err, 0)
    end
    return
  end
  if actions[1].verb == "report" then
    local err = fetch(actions[1].args[1], send)
    if err ~= nil then
      error(err, 0)
    end
    return
  end

  local x = new_exchange(scope)
  x.websocket = websocket
  x.script, x.script_from = script, from
  -- Kept from the start, marked running until the script ends: when a server
  -- never lets receive() or send() return, the checker still gets what the
  -- probe saw up to there, and judges it, instead of waiting for nothing.
  x.running = true
  if token ~= nil then
    keep(token, x)
  end
  local raise, err = run(x, actions, receive, send)
  x.running = nil
  if raise then
    error(err, 0)
  end
end

return function(scope, receive, send)
  if type(life_config) == "table" and type(scope) == "table" and scope.type == "lifespan" then
    return lifespan(scope, receive, send)
  end
  if life_config == nil then
    return serve(scope, receive, send)
  end
  -- Not in pcall, which would keep a server without a yield-safe pcall from suspending
  -- the probe: a call that raises has no call-end line, as one that was cancelled.
  note({ at = "call", startup = life.startup })
  serve(scope, receive, send)
  note({ at = "call-end" })
end
