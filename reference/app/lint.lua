-- LASGI lint: middleware that checks an app and its server against LASGI 1.1 (1.x) at run time,
-- in the spirit of Rack::Lint and wsgiref.validate.
--
--   local lint = require("lint")         -- or dofile("lint.lua"); `lasgi-check lint` prints it
--   return lint(app)
--
-- lint(app) returns an app that calls `app` with the same scope, a receive() and a send()
-- that check everything passing through, and raises the Lua error
--
--   lasgi-lint: <rule-id>: <detail>
--
-- at the first violation, <rule-id> being the ID of the broken rule in the spec's catalog.
-- A rule whose level is SHOULD, SHOULD NOT or MAY is not raised: its violation is a warning,
-- written once per rule to stderr as "lasgi-lint: warning: <rule-id> (<level>): <detail>",
-- and the app goes on; lint(app, {strict = true}) raises those too, and
-- lint(app, {warn = function(rule, detail) ... end}) receives every warning instead.
--
-- What the server hands the app (server-side rules), in http and websocket scopes:
--   * the scope: type, asgi and lasgi versions, http_version, method (http), scheme, path
--     (and that it is raw_path percent-decoded), raw_path, query_string, root_path,
--     headers, client, server, subprotocols (websocket), state and extensions; checked
--     before the app is called. A websocket scope's keys shared with http are held to the
--     HTTP rules under the websocket rule that refers to them (websocket.scope.target,
--     websocket.scope.headers, ...);
--   * each event receive() returns: exactly one table, its type, its keys, and their order.
--     http: http.request until more_body is false, then only http.disconnect. websocket:
--     websocket.connect first (websocket.disconnect when the client has gone), then
--     websocket.receive with exactly one of text and bytes, only between the app's
--     websocket.accept and its websocket.close, and once websocket.disconnect came, the
--     same one again on every call. A websocket.connect in a scope whose type is not
--     "websocket" breaks websocket.scope.type;
--   * lasgi.timeout (the lasgi.timers extension), which receive() may return only to a call
--     that asked for a timeout, and not while http.disconnect or websocket.disconnect is
--     due at once (after the response is complete, or once the disconnect came);
--   * the lasgi.groups extension: its limits in scope.extensions, and lasgi.group.message
--     (a group name and a data table, dropped a positive count when present), in http no
--     more than any other event once http.disconnect is due at once.
-- What the app sends (app-side rules): every check the reference server makes, in the
-- same order, so the lint names the rule the server would name: the event table, its type
-- and the Lua types of its keys first, then the extension being offered, order and values.
--   http: status, headers, trailers, body, more_body, ordering, 204/205/304,
--   content-length, trailers offered and flagged, nothing after the response is complete.
--   websocket: accept (once, while the handshake is pending, a subprotocol the client
--   offered, headers without sec-websocket-protocol), send (exactly one of text and bytes,
--   only while accepted), close (code, reason), the denial response (only where offered,
--   in place of accept or close, checked as an HTTP response, whose binding rules it
--   breaks are raised as websocket.denial.keys), nothing after
--   websocket.close or after the complete denial response.
--   lasgi.groups, in any scope, before the scope's own checks: join, leave and send only
--   where the scope offers the extension, and join and leave never in a lifespan scope; the
--   group a name of 1 to 99 ASCII letters, digits, '.', '_' and '-'; send's data a table of
--   string or number keys (not NaN) and string, number, boolean or table values, 32 tables
--   deep at most, within the max_message_bytes offered as the extension counts its size;
--   no join past the max_groups offered.
-- A valid event goes on to the real send unchanged; whatever the real send raises (such as
-- the disconnected error) goes on to the app unchanged, and the lint then counts the event
-- as not sent.
-- What the app passes to receive(): nothing (or nil), unless the scope offers lasgi.timers;
-- then a table whose timeout, if any, is a number that is not negative, NaN or infinite.
-- The argument goes on to the real receive unchanged.
-- How the app ends: returning from an http scope without completing the response (unless
-- receive() returned http.disconnect or a send failed), returning with trailers announced
-- but not sent, calling receive() again and again after http.disconnect, serving a scope
-- type or a major version it cannot know. A websocket app may return at any time (the
-- server closes the socket); nothing is checked then.
--
-- The lint does not change what the app sees: the same scope table and event tables, the
-- real send's results and errors; it only raises where the app broke a rule. It never
-- yields itself and uses no pcall, so it works on servers whose pcall cannot yield.
-- In lifespan scopes: the scope (asgi spec_version 2.0, a new empty state), receive()
-- (lifespan.startup first, lifespan.shutdown only after lifespan.startup.complete), what
-- the app sends (one reply to each, only after receiving it, a text message, no other
-- event type), and its end (no return, and no receive(), while a reply is owed).
--
-- One file, no dependencies, plain Lua 5.1 that also runs on Lua 5.4, LuaJIT and
-- gopher-lua. Rule IDs are spelled out in full so that a test can hold every one against
-- the catalog.

local byte, find, format, sub, match = string.byte, string.find, string.format, string.sub, string.match
local lower = string.lower
local concat = table.concat
local floor, huge = math.floor, math.huge
local error, next, rawget, select, tonumber, tostring, type =
  error, next, rawget, select, tonumber, tostring, type
local getmetatable_ = (debug and debug.getmetatable) or getmetatable

local PREFIX = "lasgi-lint: "
local MAX_INT = 9007199254740992 -- 2^53: integers lie within +-2^53 (core.value.integer-range)
local REPEAT_LIMIT = 10 -- receive() calls after http.disconnect before the lint warns (strict: stops the app)
local MAX_LENGTH = "9223372036854775807" -- the largest content-length the server can hold

local START, BODY, TRAILERS = "http.response.start", "http.response.body", "http.response.trailers"
local REQUEST, DISCONNECT = "http.request", "http.disconnect"
local EXT_TRAILERS = "http.response.trailers"
local EXT_TIMERS, TIMEOUT = "lasgi.timers", "lasgi.timeout"

-- ---------------------------------------------------------------------------------------
-- Describing values in messages (the same text on every interpreter)

local function number(n)
  if n ~= n then
    return "nan"
  elseif n == huge or n == -huge or n - n ~= 0 then
    -- An infinity, or math.huge, which is finite on gopher-lua (1/0 is not): "inf" as elsewhere.
    return n > 0 and "inf" or "-inf"
  elseif floor(n) == n and n >= -MAX_INT and n <= MAX_INT then
    return format("%d", n)
  end
  return format("%.17g", n)
end

local function quote(s)
  local n, cut = #s, ""
  if n > 40 then
    n, cut = 40, "..."
  end
  local out = {}
  for i = 1, n do
    local c = byte(s, i)
    if c < 32 or c > 126 or c == 34 or c == 92 then
      out[i] = format("\\%03d", c)
    else
      out[i] = sub(s, i, i)
    end
  end
  return '"' .. concat(out) .. '"' .. cut
end

local function describe(v)
  local t = type(v)
  if t == "string" then
    return "string " .. quote(v)
  elseif t == "number" then
    return "number " .. number(v)
  elseif t == "boolean" then
    return "boolean " .. tostring(v)
  end
  return t -- nil, table, function, userdata, thread
end

-- ADVISORY are the rules the lint checks whose level does not bind: SHOULD, SHOULD NOT or
-- MAY in the catalog (a test keeps this table equal to it). Breaking one is a warning: it
-- goes to the lint's warn function and the app goes on, unless lint(app, {strict = true}).
local ADVISORY = {
  ["core.app.scope-type"] = "SHOULD",
  ["core.scope.version-check"] = "SHOULD",
  ["http.body.no-body-status"] = "SHOULD",
  ["http.disconnect.app-return"] = "SHOULD",
  ["http.headers.name-lowercase"] = "SHOULD",
  ["websocket.disconnect.pending-messages"] = "MAY",
}

-- active holds the options of the lint wrapper whose checks are running. Every entry point
-- (the call, receive, send, the return) sets it before checking: checks never yield, so no
-- other wrapper's call can run in between, and module-level helpers need not be handed
-- the options to report a warning.
local active = {}

-- relabel, while the checks judge an event of a websocket denial response, is the rule
-- that holds its keys to the HTTP rules (websocket.denial.keys): a binding HTTP rule the
-- event breaks is reported under it, naming the HTTP rule in the detail, as the Go
-- checker's event.DenialKeys does. nil otherwise.
local relabel = nil

local function fail(rule, detail)
  if ADVISORY[rule] and not active.strict then
    active.warn(rule, detail)
    return
  end
  if relabel and not ADVISORY[rule] and sub(rule, 1, 5) == "http." then
    detail = detail .. " (" .. rule .. ")"
    rule = relabel
  end
  error(PREFIX .. rule .. ": " .. detail, 0)
end

-- ---------------------------------------------------------------------------------------
-- Values

local function is_integer(v)
  return type(v) == "number" and floor(v) == v and v >= -MAX_INT and v <= MAX_INT
end

-- list_len returns n when t is a table whose keys are exactly 1..n (core.value.list).
local function list_len(t)
  if type(t) ~= "table" then
    return nil
  end
  local n = 0
  for k in next, t do
    if type(k) ~= "number" or k < 1 or floor(k) ~= k then
      return nil
    end
    n = n + 1
  end
  for i = 1, n do
    if rawget(t, i) == nil then
      return nil
    end
  end
  return n
end

-- utf8_end returns the index just past the valid UTF-8 sequence starting at i, or nil.
local function utf8_end(s, i, n)
  local c = byte(s, i)
  local need, lo, hi
  if c < 0x80 then
    return i + 1
  elseif c >= 0xC2 and c <= 0xDF then
    need, lo, hi = 1, 0x80, 0xBF
  elseif c == 0xE0 then
    need, lo, hi = 2, 0xA0, 0xBF
  elseif (c >= 0xE1 and c <= 0xEC) or c == 0xEE or c == 0xEF then
    need, lo, hi = 2, 0x80, 0xBF
  elseif c == 0xED then
    need, lo, hi = 2, 0x80, 0x9F
  elseif c == 0xF0 then
    need, lo, hi = 3, 0x90, 0xBF
  elseif c >= 0xF1 and c <= 0xF3 then
    need, lo, hi = 3, 0x80, 0xBF
  elseif c == 0xF4 then
    need, lo, hi = 3, 0x80, 0x8F
  else
    return nil, 1
  end
  -- On failure the second result is the length of the maximal invalid subpart.
  for k = 1, need do
    local x = i + k <= n and byte(s, i + k) or nil
    if x == nil then
      return nil, k
    end
    if k == 1 then
      if x < lo or x > hi then
        return nil, 1
      end
    elseif x < 0x80 or x > 0xBF then
      return nil, k
    end
  end
  return i + need + 1
end

local function is_text(v)
  if type(v) ~= "string" then
    return false
  end
  if not find(v, "[\128-\255]") then
    return true
  end
  local i, n = 1, #v
  while i <= n do
    i = utf8_end(v, i, n)
    if not i then
      return false
    end
  end
  return true
end

-- to_valid_utf8 replaces each maximal invalid subpart with U+FFFD.
local function to_valid_utf8(s)
  if is_text(s) then
    return s
  end
  local out, m, i, n = {}, 0, 1, #s
  while i <= n do
    local j, bad = utf8_end(s, i, n)
    m = m + 1
    if j then
      out[m] = sub(s, i, j - 1)
      i = j
    else
      out[m] = "\239\191\189"
      i = i + bad
    end
  end
  return concat(out)
end

local function hexval(c)
  if c >= 48 and c <= 57 then
    return c - 48
  elseif c >= 65 and c <= 70 then
    return c - 55
  elseif c >= 97 and c <= 102 then
    return c - 87
  end
  return nil
end

-- decode_path percent-decodes a raw path and reads the bytes as UTF-8, as
-- http.scope.path describes; a malformed escape stays as it is.
local function decode_path(raw)
  if not find(raw, "%", 1, true) then
    return to_valid_utf8(raw)
  end
  local out, m, i, n = {}, 0, 1, #raw
  while i <= n do
    local c = byte(raw, i)
    local h1 = c == 37 and i + 2 <= n and hexval(byte(raw, i + 1))
    local h2 = h1 and hexval(byte(raw, i + 2))
    m = m + 1
    if h2 then
      out[m] = string.char(h1 * 16 + h2)
      i = i + 3
    else
      out[m] = sub(raw, i, i)
      i = i + 1
    end
  end
  return to_valid_utf8(concat(out))
end

-- HTTP token characters (RFC 9110 tchar).
local TOKEN = {}
do
  local chars = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
  for i = 1, #chars do
    TOKEN[byte(chars, i)] = true
  end
end

local function is_token(s)
  if type(s) ~= "string" or s == "" then
    return false
  end
  for i = 1, #s do
    if not TOKEN[byte(s, i)] then
      return false
    end
  end
  return true
end

local function is_callable(v)
  if type(v) == "function" then
    return true
  end
  if type(v) == "table" or type(v) == "userdata" then
    local mt = getmetatable_(v)
    return type(mt) == "table" and rawget(mt, "__call") ~= nil
  end
  return false
end

-- ---------------------------------------------------------------------------------------
-- The scope (server side)

-- The scope and state tables of the last few calls in this Lua state: each call must get
-- new ones. (A short list, not a weak table: gopher-lua has no weak tables.)
local RECENT = 16
local recent, recent_next = {}, 1

local function seen_recently(t)
  for i = 1, RECENT do
    if recent[i] == t then
      return true
    end
  end
  return false
end

local function remember(t)
  recent[recent_next] = t
  recent_next = recent_next % RECENT + 1
end


-- In a websocket scope the keys it shares with an http scope follow the HTTP rules through
-- the websocket rule that refers to them: WS_SCOPE_RULE maps each HTTP rule to that one.
local WS_SCOPE_RULE = {
  ["http.scope.path"] = "websocket.scope.target",
  ["http.scope.raw-path"] = "websocket.scope.target",
  ["http.scope.root-path-in-path"] = "websocket.scope.target",
  ["http.scope.query-string"] = "websocket.scope.target",
  ["http.scope.root-path"] = "websocket.scope.target",
  ["http.scope.headers"] = "websocket.scope.headers",
  ["http.scope.header-names-lowercase"] = "websocket.scope.headers",
  ["http.scope.header-values"] = "websocket.scope.headers",
  ["http.scope.pseudo-headers"] = "websocket.scope.headers",
  ["http.scope.client"] = "websocket.scope.client-server",
  ["http.scope.server"] = "websocket.scope.client-server",
  ["http.scope.state"] = "websocket.scope.state",
  ["http.scope.extensions"] = "websocket.scope.extensions",
}

-- scope_fail fails with the HTTP scope rule, or in a websocket scope (ws true) with the
-- websocket rule that refers to it, the detail naming the HTTP rule.
local function scope_fail(ws, rule, detail)
  if ws then
    detail = detail .. " (as " .. rule .. " describes)"
    rule = WS_SCOPE_RULE[rule]
  end
  fail(rule, detail)
end

local function check_addr(v, ws, rule, key, allow_path)
  if v == nil then
    return
  end
  local n = list_len(v)
  if n == 2 and is_text(rawget(v, 1)) and is_integer(rawget(v, 2)) then
    return
  end
  if allow_path and n == 1 and is_text(rawget(v, 1)) then
    return
  end
  local shape = allow_path and "{host, port} or {path}" or "{host, port}"
  if n == nil then
    scope_fail(ws, rule, "scope." .. key .. " must be a list " .. shape .. ", got " .. describe(v))
  end
  scope_fail(ws, rule, "scope." .. key .. " must be a list " .. shape .. " of text and an integer, got {"
    .. describe(rawget(v, 1)) .. ", " .. describe(rawget(v, 2)) .. (n > 2 and ", ..." or "") .. "}")
end

-- check_conn_scope checks the keys an http and a websocket scope (ws true) share: path,
-- raw_path, root_path, query_string, headers (hv being the scope's http_version), client,
-- server, state and extensions. It returns scope.extensions.
local function check_conn_scope(scope, ws, hv)
  local path, raw = rawget(scope, "path"), rawget(scope, "raw_path")
  if not is_text(path) then
    scope_fail(ws, "http.scope.path", "scope.path must be text (a string of valid UTF-8), got " .. describe(path))
  end
  if type(raw) ~= "string" then
    scope_fail(ws, "http.scope.raw-path", "scope.raw_path must be a byte string, got " .. describe(raw))
  end
  if find(raw, "?", 1, true) then
    scope_fail(ws, "http.scope.raw-path", "scope.raw_path must not hold the query string, got " .. describe(raw))
  end
  local decoded = decode_path(raw)
  local root = rawget(scope, "root_path")
  if type(root) == "string" and root ~= "" and path ~= "*" then
    local prefix = (sub(root, -1) == "/") and sub(root, 1, -2) or root
    local after = sub(path, #prefix + 1, #prefix + 1)
    if sub(path, 1, #prefix) ~= prefix or (after ~= "" and after ~= "/") then
      scope_fail(ws, "http.scope.root-path-in-path", "scope.path " .. quote(path) .. " does not begin with the"
        .. " root_path " .. quote(root) .. ": the server must put root_path back in front of a stripped path")
    end
  end
  if decoded ~= path then
    scope_fail(ws, "http.scope.path", "scope.path must be scope.raw_path percent-decoded as UTF-8: raw_path "
      .. quote(raw) .. " decodes to " .. quote(decoded) .. ", but path is " .. quote(path))
  end
  local qs = rawget(scope, "query_string")
  if type(qs) ~= "string" then
    scope_fail(ws, "http.scope.query-string", "scope.query_string must be a byte string, got " .. describe(qs))
  end
  if not is_text(root) then
    scope_fail(ws, "http.scope.root-path", "scope.root_path must be text (\"\" when none is configured), got "
      .. describe(root))
  end
  local headers = rawget(scope, "headers")
  local n = list_len(headers)
  if n == nil then
    scope_fail(ws, "http.scope.headers", "scope.headers must be a list, got " .. describe(headers))
  end
  for i = 1, n do
    local pair = rawget(headers, i)
    local name, value = type(pair) == "table" and rawget(pair, 1), type(pair) == "table" and rawget(pair, 2)
    if list_len(pair) ~= 2 or type(name) ~= "string" or type(value) ~= "string" or name == "" then
      scope_fail(ws, "http.scope.headers", "scope.headers[" .. i .. "] must be a list of two byte strings"
        .. " {name, value} with a non-empty name, got " .. (type(pair) == "table" and ("{" .. describe(name)
          .. ", " .. describe(value) .. "}") or describe(pair)))
    end
    if find(name, "[A-Z]") then
      scope_fail(ws, "http.scope.header-names-lowercase", "scope.headers[" .. i .. "] name " .. quote(name)
        .. " is not lowercase")
    end
    if hv == "2" and byte(name, 1) == 58 then
      scope_fail(ws, "http.scope.pseudo-headers", "scope.headers[" .. i .. "] is the pseudo-header " .. quote(name))
    end
    if find(value, "^[ \t]") or find(value, "[ \t]$") then
      scope_fail(ws, "http.scope.header-values", "scope.headers[" .. i .. "] (" .. quote(name)
        .. ") value has leading or trailing spaces or tabs: " .. quote(value))
    end
  end
  check_addr(rawget(scope, "client"), ws, "http.scope.client", "client", false)
  check_addr(rawget(scope, "server"), ws, "http.scope.server", "server", true)
  local state = rawget(scope, "state")
  if type(state) ~= "table" then
    scope_fail(ws, "http.scope.state", "scope.state must be a table, got " .. describe(state))
  end
  if seen_recently(state) then
    scope_fail(ws, "http.scope.state", "scope.state must be a new table for each call, got one an earlier call had")
  end
  remember(state)
  local ext = rawget(scope, "extensions")
  if type(ext) ~= "table" then
    scope_fail(ws, "http.scope.extensions", "scope.extensions must be a table, got " .. describe(ext))
  end
  for k, v in next, ext do
    if type(k) ~= "string" or type(v) ~= "table" then
      fail("core.extensions.entry", "scope.extensions must map extension names to tables, got ["
        .. describe(k) .. "] = " .. describe(v))
    end
  end
  return ext
end

-- check_http_scope checks the keys of an http scope (LASGI 1.x) and returns whether it
-- offers trailers.
local function check_http_scope(scope)
  local asgi = rawget(scope, "asgi")
  if type(asgi) ~= "table" or rawget(asgi, "version") ~= "3.0" or rawget(asgi, "spec_version") ~= "2.5" then
    fail("http.scope.asgi-version", "scope.asgi must be {version = \"3.0\", spec_version = \"2.5\"}, got "
      .. (type(asgi) == "table" and ("{version = " .. describe(rawget(asgi, "version")) .. ", spec_version = "
        .. describe(rawget(asgi, "spec_version")) .. "}") or describe(asgi)))
  end
  local hv = rawget(scope, "http_version")
  if hv ~= "1.0" and hv ~= "1.1" and hv ~= "2" then
    fail("http.scope.http-version", "scope.http_version must be \"1.0\", \"1.1\" or \"2\", got " .. describe(hv))
  end
  local method = rawget(scope, "method")
  if not is_token(method) or find(method, "[a-z]") then
    fail("http.scope.method", "scope.method must be an uppercase method token, got " .. describe(method))
  end
  local scheme = rawget(scope, "scheme")
  if scheme ~= "http" and scheme ~= "https" then
    fail("http.scope.scheme", "scope.scheme must be \"http\" or \"https\", got " .. describe(scheme))
  end
  return rawget(check_conn_scope(scope, false, hv), EXT_TRAILERS) ~= nil
end

-- ---------------------------------------------------------------------------------------
-- Events the app sends (app side), checked in the reference server's order: the event
-- table, its type, the Lua types of its keys, the extension being offered, then order and
-- values against the response so far.

-- check_headers_type returns the number of headers, or fails with rule.
local function check_headers_type(v, rule)
  if v == nil then
    return 0
  end
  if type(v) ~= "table" then
    fail(rule, "headers must be a list of {name, value} pairs, got " .. describe(v))
  end
  local n = list_len(v)
  if n == nil then
    for key in next, v do
      if type(key) ~= "number" or key < 1 or floor(key) ~= key then
        fail(rule, "headers must be a list (keys 1..n), found key " .. describe(key))
      end
    end
    fail(rule, "headers must be a list (keys 1..n), but it has holes")
  end
  for i = 1, n do
    local pair = rawget(v, i)
    if list_len(pair) ~= 2 then
      fail(rule, "header " .. i .. " must be a {name, value} pair, got " .. describe(pair)
        .. (type(pair) == "table" and " that is not a list of two values" or ""))
    end
    local name, value = rawget(pair, 1), rawget(pair, 2)
    if type(name) ~= "string" or type(value) ~= "string" then
      fail(rule, "header " .. i .. " must be two strings, got {" .. describe(name) .. ", " .. describe(value) .. "}")
    end
  end
  return n
end

local function check_bool(ev, key, rule)
  local v = rawget(ev, key)
  if v ~= nil and type(v) ~= "boolean" then
    fail(rule, key .. " must be a boolean, got " .. describe(v))
  end
  return v == true
end

-- check_header_bytes checks one header an app sends (as the server's CheckHeader).
local function check_header_bytes(name, value, i)
  if name == "" then
    fail("http.headers.valid-bytes", "header " .. i .. " has an empty name")
  end
  for j = 1, #name do
    local c = byte(name, j)
    if not TOKEN[c] then
      fail("http.headers.valid-bytes", "header " .. i .. " name " .. quote(name) .. " has byte "
        .. format("0x%02x", c) .. ", which is not allowed in a field name")
    end
  end
  -- RFC 9110 5.5: no control character but HTAB (0x00-0x08, 0x0a-0x1f, 0x7f).
  if find(value, "[\1-\8\10-\31\127]") or find(value, "\0", 1, true) then
    for j = 1, #value do
      local c = byte(value, j)
      if (c < 32 and c ~= 9) or c == 127 then
        fail("http.headers.valid-bytes", "header " .. i .. " (" .. quote(name) .. ") value has control character "
          .. format("0x%02x", c) .. " (only HTAB is allowed)")
      end
    end
  end
end

-- check_header_case warns of a header name with uppercase letters.
local function check_header_case(name, i)
  if find(name, "[A-Z]") then
    -- SHOULD: the server lowercases the name.
    fail("http.headers.name-lowercase", "header " .. i .. " name " .. quote(name) .. " is not lowercase; the server sends "
      .. quote(lower(name)))
  end
end

-- check_header checks one header of a response or its trailers.
local function check_header(name, value, i)
  check_header_bytes(name, value, i)
  check_header_case(name, i)
end

-- content_length returns the declared length as {digits, number}, or fails.
local function content_length(value)
  local digits = match(value, "^%d+$")
  if digits then
    digits = match(digits, "^0*(%d.*)$") or digits
    if #digits > #MAX_LENGTH or (#digits == #MAX_LENGTH and digits > MAX_LENGTH) then
      digits = nil
    end
  end
  if not digits then
    fail("http.body.content-length", "content-length " .. quote(value) .. " is not one non-negative decimal integer")
  end
  return digits
end

-- A response is one HTTP response as the app sent it: the response of an http scope, or the
-- denial response of a websocket scope, whose start and body events the same checks judge.
-- start_type and body_type name its events in messages.
local function new_response(start_type, body_type)
  return {
    start_type = start_type, body_type = body_type,
    started = false, complete = false, status = 0, wants_trailers = false,
    body_done = false, length = -1, length_digits = nil, sent_bytes = 0,
  }
end

-- start_types checks the Lua types of a start event's status and headers (headers_rule
-- being the rule of its headers) and returns the status and the number of headers.
local function start_types(ev, headers_rule)
  local st = rawget(ev, "status")
  if type(st) ~= "number" or floor(st) ~= st or st == huge or st == -huge then
    fail("http.start.status-type", "status must be an integer, got " .. describe(st))
  end
  if st < -1e9 or st > 1e9 then
    fail("http.start.status-range", "status " .. number(st) .. " is outside 200..599")
  end
  return st, check_headers_type(rawget(ev, "headers"), headers_rule)
end

-- body_types checks the Lua types of a body event's body and more_body and returns them.
local function body_types(ev)
  local body = rawget(ev, "body")
  if body ~= nil and type(body) ~= "string" then
    fail("http.body.body-type", "body must be a string, got " .. describe(body))
  end
  return body or "", check_bool(ev, "more_body", "http.body.more-body-type")
end

-- check_start checks a start event (status st, headers with nheaders entries, trailers
-- asked for or not) against the response r and returns what it changes.
local function check_start(r, st, headers, nheaders, trailers)
  if r.started then
    fail("http.start.once", r.start_type .. " sent twice")
  end
  if st < 200 or st > 599 then
    fail("http.start.status-range", "status " .. number(st) .. " is outside 200..599")
  end
  local digits = nil
  for i = 1, nheaders do
    local pair = rawget(headers, i)
    local name, value = rawget(pair, 1), rawget(pair, 2)
    check_header(name, value, i)
    if lower(name) == "content-length" then
      local d = content_length(value)
      if digits and d ~= digits then
        fail("http.body.content-length", "content-length " .. quote(value)
          .. " is not one non-negative decimal integer (an earlier content-length says " .. digits .. ")")
      end
      digits = d
    end
  end
  return function()
    r.started, r.status, r.wants_trailers = true, st, trailers
    r.length_digits = digits
    r.length = digits and tonumber(digits) or -1
  end
end

-- check_body checks a body event against the response r and returns what it changes.
local function check_body(r, body, more)
  if not r.started then
    fail("http.start.first", r.body_type .. " sent before " .. r.start_type)
  end
  if r.body_done then
    fail("http.trailers.after-body", r.body_type .. " sent after the last body event;"
      .. " only http.response.trailers may follow")
  end
  local n, status = #body, r.status
  local no_body = status == 204 or status == 205 or status == 304
  if n > 0 and no_body then
    -- SHOULD: the server discards the bytes.
    fail("http.body.no-body-status", "a " .. number(status) .. " response has no content, but " .. n
      .. " body bytes were sent; they are discarded")
    n = 0
  end
  if r.length >= 0 and not no_body and r.sent_bytes + n > r.length then
    fail("http.body.content-length", "body exceeds the declared content-length " .. r.length_digits
      .. " (" .. number(r.sent_bytes + n) .. " bytes sent)")
  end
  return function()
    r.sent_bytes = r.sent_bytes + n
    if not more then
      r.body_done = true
      r.complete = not r.wants_trailers
    end
  end
end

-- ---------------------------------------------------------------------------------------
-- WebSocket scopes (the WebSocket part of the spec)

local WS_CONNECT, WS_ACCEPT, WS_RECEIVE = "websocket.connect", "websocket.accept", "websocket.receive"
local WS_SEND, WS_CLOSE, WS_DISCONNECT = "websocket.send", "websocket.close", "websocket.disconnect"
local DENY_START, DENY_BODY = "websocket.http.response.start", "websocket.http.response.body"
local EXT_DENIAL = "websocket.http.response"
local MAX_CLOSE_REASON = 123 -- the bytes of a reason that fit a close frame
local PROTOCOL_HEADER = "sec-websocket-protocol"

-- check_websocket_scope checks the keys of a websocket scope (LASGI 1.x) whose asgi key
-- core.scope.asgi has checked, and returns whether it offers the denial response.
local function check_websocket_scope(scope)
  local spec_version = rawget(rawget(scope, "asgi"), "spec_version")
  if spec_version ~= "2.5" then
    fail("websocket.scope.asgi-version", "scope.asgi must be {version = \"3.0\", spec_version = \"2.5\"}, got"
      .. " spec_version " .. describe(spec_version))
  end
  local hv = rawget(scope, "http_version")
  if hv ~= "1.1" and hv ~= "2" then
    fail("websocket.scope.http-version", "scope.http_version must be \"1.1\" or \"2\", got " .. describe(hv))
  end
  local scheme = rawget(scope, "scheme")
  if scheme ~= "ws" and scheme ~= "wss" then
    fail("websocket.scope.scheme", "scope.scheme must be \"ws\" or \"wss\", got " .. describe(scheme))
  end
  local ext = check_conn_scope(scope, true, hv)
  local subprotocols = rawget(scope, "subprotocols")
  local n = list_len(subprotocols)
  if n == nil then
    fail("websocket.scope.subprotocols", "scope.subprotocols must be a list of text ({} when the client offered"
      .. " none), got " .. describe(subprotocols))
  end
  for i = 1, n do
    local name = rawget(subprotocols, i)
    if not is_text(name) then
      fail("websocket.scope.subprotocols", "scope.subprotocols[" .. i .. "] must be text, got " .. describe(name))
    end
    if find(name, ",", 1, true) or find(name, "^[ \t]") or find(name, "[ \t]$") then
      fail("websocket.scope.subprotocols", "scope.subprotocols[" .. i .. "] is " .. quote(name) .. ": the"
        .. " sec-websocket-protocol values are split at commas and the spaces around each name removed")
    end
  end
  return rawget(ext, EXT_DENIAL) ~= nil
end

local function listed(list, v)
  for i = 1, list_len(list) do
    if rawget(list, i) == v then
      return true
    end
  end
  return false
end

local function close_code_valid(c)
  return (c >= 1000 and c <= 1003) or (c >= 1007 and c <= 1014) or (c >= 3000 and c <= 4999)
end

local function unchanged()
end

-- websocket_conversation follows one websocket scope: what receive() returns and what the
-- app sends. It returns two functions, each called once the checks every scope shares have
-- passed (an event table with a string type):
--   received(ev, typ)  checks an event receive() returned (server side);
--   send(ev, typ)      checks an event the app sends (app side) in the reference server's
--                      order: the Lua types of its keys, then order and values, and returns
--                      what the event changes once the real send has taken it.
-- A third function, gone(), says whether websocket.disconnect has come (every later call
-- must return it again at once).
-- subprotocols are the scope's, ext its extensions, offered whether the denial response is.
local function websocket_conversation(subprotocols, ext, offered)
  -- Where the socket stands, as the app has sent it: "pending" (the handshake waits for the
  -- app's answer), "open" (accepted), "closed" (the app sent websocket.close), "denying"
  -- (the denial response has started) or "denied" (it is complete).
  local state = "pending"
  local denial = new_response(DENY_START, DENY_BODY)
  -- What receive() returned: how many events, and the first websocket.disconnect.
  local count, gone, gone_code, gone_reason = 0, false, nil, nil

  local function received(ev, typ)
    count = count + 1
    if gone then
      local code, reason = rawget(ev, "code"), rawget(ev, "reason")
      if typ == WS_DISCONNECT and code == gone_code and reason == gone_reason then
        return
      end
      if typ == WS_RECEIVE then
        -- MAY in the catalog (a server may deliver messages ahead of the disconnect), so a
        -- warning; its MUST NOT half is websocket.disconnect.repeat's, which follows.
        fail("websocket.disconnect.pending-messages", "receive() returned a websocket.receive after"
          .. " websocket.disconnect; messages may come only ahead of it")
      end
      fail("websocket.disconnect.repeat", "receive() returned " .. (typ == WS_DISCONNECT
        and ("websocket.disconnect with code " .. describe(code) .. " and reason " .. describe(reason))
        or quote(typ)) .. " after websocket.disconnect with code " .. number(gone_code) .. " and reason "
        .. quote(gone_reason) .. "; every later call must return that one again")
    end
    if count == 1 and typ ~= WS_CONNECT and typ ~= WS_DISCONNECT then
      fail("websocket.connect.first", "the first receive() returned " .. quote(typ)
        .. ", not websocket.connect (or websocket.disconnect when the client has gone)")
    end
    if typ == WS_CONNECT then
      if count > 1 then
        fail("websocket.connect.first", "receive() returned websocket.connect again; only the first call returns it")
      end
    elseif typ == WS_RECEIVE then
      if state == "closed" then
        fail("websocket.close.then-disconnect", "receive() returned websocket.receive after the app sent"
          .. " websocket.close; only websocket.disconnect may come")
      end
      if state ~= "open" then
        fail("websocket.receive.before-accept", "receive() returned websocket.receive before the app sent websocket.accept")
      end
      local bytes, text = rawget(ev, "bytes"), rawget(ev, "text")
      if (bytes == nil) == (text == nil) then
        fail("websocket.receive.one-of", "websocket.receive must have exactly one of bytes and text, got "
          .. (bytes == nil and "neither" or "both"))
      end
      if bytes ~= nil and type(bytes) ~= "string" then
        fail("websocket.receive.binary", "websocket.receive bytes must be a byte string, got " .. describe(bytes))
      end
      if text ~= nil and not is_text(text) then
        fail("websocket.receive.text", "websocket.receive text must be text (a string of valid UTF-8), got "
          .. describe(text))
      end
    elseif typ == WS_DISCONNECT then
      local code, reason = rawget(ev, "code"), rawget(ev, "reason")
      if code == nil then
        fail("core.receive.complete-keys", "websocket.disconnect has no code key")
      end
      if not is_integer(code) then
        fail("websocket.disconnect.code", "websocket.disconnect code must be an integer, got " .. describe(code))
      end
      if reason == nil then
        fail("core.receive.complete-keys", "websocket.disconnect has no reason key (\"\" when there was none)")
      end
      if not is_text(reason) then
        fail("websocket.disconnect.reason", "websocket.disconnect reason must be text (a string of valid UTF-8), got "
          .. describe(reason))
      end
      gone, gone_code, gone_reason = true, code, reason
    end
    -- Other types: a later minor version may add events; none is judged.
  end

  -- check_types checks the Lua types of the keys of an event the app sends, as the engine
  -- does when it reads the event, and returns what the order checks need.
  local function check_types(ev, typ)
    if typ == WS_ACCEPT then
      local subprotocol = rawget(ev, "subprotocol")
      if subprotocol ~= nil and type(subprotocol) ~= "string" then
        fail("websocket.accept.subprotocol", "subprotocol must be a string, got " .. describe(subprotocol))
      end
      return check_headers_type(rawget(ev, "headers"), "websocket.accept.headers-type")
    elseif typ == WS_SEND then
      local text, bytes = rawget(ev, "text"), rawget(ev, "bytes")
      if (text == nil) == (bytes == nil) then
        fail("websocket.send.one-of", "websocket.send must have exactly one of text and bytes, got "
          .. (text == nil and "neither" or "both"))
      end
      if text ~= nil and type(text) ~= "string" then
        fail("websocket.send.text-type", "text must be a string, got " .. describe(text))
      end
      if bytes ~= nil and type(bytes) ~= "string" then
        fail("websocket.send.bytes-type", "bytes must be a string, got " .. describe(bytes))
      end
    elseif typ == WS_CLOSE then
      local code, reason = rawget(ev, "code"), rawget(ev, "reason")
      if code ~= nil and not is_integer(code) then
        fail("websocket.close.code", "code must be an integer, got " .. describe(code))
      end
      if reason ~= nil and type(reason) ~= "string" then
        fail("websocket.close.reason", "reason must be a string, got " .. describe(reason))
      end
    elseif typ == DENY_START then
      return start_types(ev, "http.start.headers-type")
    elseif typ == DENY_BODY then
      return body_types(ev)
    end
  end

  -- accept checks a websocket.accept (its headers has n entries) and returns its change.
  local function accept(ev, n)
    if state ~= "pending" then
      fail("websocket.accept.once", "websocket.accept sent after the handshake was answered")
    end
    local subprotocol = rawget(ev, "subprotocol")
    -- "" counts as absent, as in the reference server (which sends no subprotocol then).
    if subprotocol ~= nil and subprotocol ~= "" and not listed(subprotocols, subprotocol) then
      fail("websocket.accept.subprotocol", "subprotocol " .. quote(subprotocol) .. " is not one the client offered"
        .. " in scope.subprotocols")
    end
    local headers = rawget(ev, "headers")
    for i = 1, n do
      local pair = rawget(headers, i)
      local name = rawget(pair, 1)
      check_header_bytes(name, rawget(pair, 2), i)
      if lower(name) == PROTOCOL_HEADER then
        fail("websocket.accept.no-protocol-header", "headers include " .. PROTOCOL_HEADER
          .. "; the subprotocol key chooses one")
      end
    end
    for i = 1, n do
      check_header_case(rawget(rawget(headers, i), 1), i)
    end
    return function()
      state = "open"
    end
  end

  -- close checks a websocket.close and returns its change.
  local function close(ev)
    if state == "denying" then
      fail("websocket.denial.when", "websocket.close sent while the denial response is being sent")
    end
    local code, reason = rawget(ev, "code"), rawget(ev, "reason")
    -- 0 counts as absent, as in the reference server (which sends 1000 then).
    if code ~= nil and code ~= 0 and not close_code_valid(code) then
      fail("websocket.close.code", "code " .. number(code) .. " is not one an endpoint may send"
        .. " (1000-1003, 1007-1014, 3000-4999)")
    end
    if reason ~= nil and #reason > MAX_CLOSE_REASON then
      fail("websocket.close.reason", "reason of " .. #reason .. " bytes; at most " .. MAX_CLOSE_REASON
        .. " fit a close frame")
    end
    if reason ~= nil and not is_text(reason) then
      fail("websocket.close.reason", "reason is not valid UTF-8: " .. quote(reason))
    end
    return function()
      state = "closed"
    end
  end

  -- deny checks an event of the denial response, whose types check_types returned (a, b),
  -- as the HTTP response event it stands for, and returns its change.
  local function deny(ev, typ, a, b)
    if not offered then
      fail("websocket.denial.offered", typ .. " sent, but the scope does not offer the " .. EXT_DENIAL .. " extension")
    end
    if state == "open" then
      fail("websocket.denial.when", typ .. " sent after websocket.accept")
    end
    local change
    if typ == DENY_START then
      change = check_start(denial, a, rawget(ev, "headers"), b, false)
    else
      change = check_body(denial, a, b)
    end
    return function()
      change()
      state = denial.complete and "denied" or "denying"
    end
  end

  local send_checked
  local function send(ev, typ)
    if typ ~= DENY_START and typ ~= DENY_BODY then
      return send_checked(ev, typ)
    end
    relabel = "websocket.denial.keys"
    local ok, change = pcall(send_checked, ev, typ)
    relabel = nil
    if not ok then
      error(change, 0)
    end
    return change
  end

  function send_checked(ev, typ)
    local a, b = check_types(ev, typ)
    -- Order and values: nothing goes after a complete denial response or a close.
    if state == "denied" then
      fail("websocket.denial.close", typ .. " sent after the denial response was complete")
    end
    if state == "closed" then
      fail("websocket.send.after-close", typ .. " sent after websocket.close")
    end
    if typ == WS_ACCEPT then
      return accept(ev, a)
    elseif typ == WS_SEND then
      if state == "pending" then
        fail("websocket.send.after-accept", "websocket.send before websocket.accept")
      elseif state == "denying" then
        fail("websocket.connect.reply", "websocket.send while the denial response is being sent")
      end
      local text = rawget(ev, "text")
      if text ~= nil and not is_text(text) then
        fail("websocket.send.text-type", "text is not valid UTF-8: " .. quote(text))
      end
      return unchanged
    elseif typ == WS_CLOSE then
      return close(ev)
    elseif typ == DENY_START or typ == DENY_BODY then
      return deny(ev, typ, a, b)
    elseif rawget(ext, typ) ~= nil then
      -- An event of an extension the server offers and the lint does not know: the server
      -- judges it.
      return unchanged
    end
    fail("core.send.type", quote(typ) .. " is not an event an app sends in a websocket scope")
  end

  return received, send, function()
    return gone
  end
end

-- ---------------------------------------------------------------------------------------
-- Lifespan scopes

local LS_STARTUP, LS_SHUTDOWN = "lifespan.startup", "lifespan.shutdown"
local LS_STARTED, LS_START_FAILED = "lifespan.startup.complete", "lifespan.startup.failed"
local LS_STOPPED, LS_STOP_FAILED = "lifespan.shutdown.complete", "lifespan.shutdown.failed"

-- check_lifespan_scope checks the keys of a lifespan scope (LASGI 1.x) whose asgi key
-- check_scope has found to be a table with version "3.0".
local function check_lifespan_scope(scope)
  local spec = rawget(rawget(scope, "asgi"), "spec_version")
  if spec ~= "2.0" then
    fail("lifespan.scope.asgi-version", "scope.asgi.spec_version must be \"2.0\", got " .. describe(spec))
  end
  local state = rawget(scope, "state")
  if type(state) ~= "table" or next(state) ~= nil then
    fail("lifespan.scope.state", "scope.state must be a new, empty table, got "
      .. (type(state) == "table" and "a table with keys" or describe(state)))
  end
  return false
end

-- lifespan_conversation follows one lifespan scope. It returns four functions, the last
-- three called once the checks every scope shares have passed (an event table with a
-- string type):
--   receiving()        before each receive(): the server sends nothing while the app owes
--                      it a reply, so such a call would wait for good;
--   received(ev, typ)  checks an event receive() returned (server side);
--   send(ev, typ)      checks an event the app sends in the reference server's order (the
--                      message's Lua type, then order, then its UTF-8), and returns what the
--                      event changes once the real send has taken it;
--   finish()           checks the app's return.
local function lifespan_conversation()
  local count = 0 -- events receive() returned
  local got_startup, got_shutdown = false, false
  local startup_reply, shutdown_reply = nil, nil -- the event types the app replied with

  local function receiving()
    if got_startup and not startup_reply then
      fail("lifespan.startup.reply", "receive() called before replying to lifespan.startup; the server"
        .. " sends nothing more until the app sends lifespan.startup.complete or lifespan.startup.failed")
    end
    if got_shutdown and not shutdown_reply then
      fail("lifespan.shutdown.reply", "receive() called before replying to lifespan.shutdown; the server"
        .. " sends nothing more, it waits for lifespan.shutdown.complete or lifespan.shutdown.failed")
    end
  end

  local function received(ev, typ)
    count = count + 1
    if count == 1 and typ ~= LS_STARTUP then
      fail("lifespan.startup.first", "the first receive() returned " .. quote(typ) .. ", not lifespan.startup")
    end
    if typ == LS_STARTUP then
      got_startup = true
    elseif typ == LS_SHUTDOWN then
      if startup_reply ~= LS_STARTED then
        fail("lifespan.shutdown.only-after-startup", "receive() returned lifespan.shutdown, but the app"
          .. (startup_reply and (" sent " .. startup_reply) or " has not sent lifespan.startup.complete"))
      end
      got_shutdown = true
    end
  end

  -- message checks the message of a failed event ev: its Lua type first, its UTF-8 once
  -- the order has been checked (utf8 true), under rule.
  local function message(ev, rule, utf8)
    local m = rawget(ev, "message")
    if m ~= nil and type(m) ~= "string" then
      fail(rule, "message must be a string, got " .. describe(m))
    end
    if utf8 and m ~= nil and not is_text(m) then
      fail(rule, "message is not valid UTF-8 text")
    end
  end

  -- order checks that a reply typ comes after the event want was received (got) and is
  -- the first reply to it (before: the reply sent already, or nil), under rule.
  local function order(typ, want, got, before, rule)
    if not got then
      fail(rule, typ .. " sent before " .. want .. " was received")
    end
    if before then
      fail(rule, typ .. " sent after " .. before .. "; " .. sub(want, 10) .. " takes one reply")
    end
  end

  -- reply checks a reply to lifespan.startup or lifespan.shutdown: a failed one's message
  -- type, then the order, then the message's text, as the engine checks them.
  local function reply(ev, typ, failed, asked, got, done, order_rule, message_rule)
    if failed then
      message(ev, message_rule, false)
    end
    order(typ, asked, got, done, order_rule)
    if failed then
      message(ev, message_rule, true)
    end
  end

  local function send(ev, typ)
    if typ == LS_STARTED or typ == LS_START_FAILED then
      reply(ev, typ, typ == LS_START_FAILED, LS_STARTUP, got_startup, startup_reply,
        "lifespan.startup.order", "lifespan.startup.message-type")
      return function()
        startup_reply = typ
      end
    elseif typ == LS_STOPPED or typ == LS_STOP_FAILED then
      reply(ev, typ, typ == LS_STOP_FAILED, LS_SHUTDOWN, got_shutdown, shutdown_reply,
        "lifespan.shutdown.reply", "lifespan.shutdown.message-type")
      return function()
        shutdown_reply = typ
      end
    end
    fail("core.send.type", quote(typ) .. " is not an event an app sends in a lifespan scope")
  end

  local function finish()
    if got_shutdown and not shutdown_reply then
      fail("lifespan.shutdown.reply", "the app returned without replying to lifespan.shutdown")
    end
  end

  return receiving, received, send, finish
end

-- ---------------------------------------------------------------------------------------
-- The lasgi.groups extension (the groups part of the spec)

local EXT_GROUPS = "lasgi.groups"
local GROUP_JOIN, GROUP_LEAVE, GROUP_SEND = "lasgi.group.join", "lasgi.group.leave", "lasgi.group.send"
local GROUP_MESSAGE = "lasgi.group.message"
local GROUP_EVENTS = { [GROUP_JOIN] = true, [GROUP_LEAVE] = true, [GROUP_SEND] = true }
local MAX_GROUP_NAME, MAX_GROUP_DEPTH = 99, 32
-- The limits a server offers, each a key and the least integer it may be.
local GROUP_LIMITS = { "max_message_bytes", 1024, "queue", 16, "max_groups", 16 }

-- groups_offer checks the lasgi.groups entry of a scope (server side) and returns it, or nil
-- when the scope does not offer groups.
local function groups_offer(scope)
  local ext = rawget(scope, "extensions")
  local entry = nil
  if type(ext) == "table" then
    entry = rawget(ext, EXT_GROUPS)
  end
  if entry == nil then
    return nil
  end
  if type(entry) ~= "table" then
    fail("groups.offer.limits", "scope.extensions[\"" .. EXT_GROUPS .. "\"] must be a table of limits, got "
      .. describe(entry))
  end
  for i = 1, #GROUP_LIMITS, 2 do
    local key, least = GROUP_LIMITS[i], GROUP_LIMITS[i + 1]
    local v = rawget(entry, key)
    if not is_integer(v) or v < least then
      fail("groups.offer.limits", "scope.extensions[\"" .. EXT_GROUPS .. "\"]." .. key .. " must be an integer of"
        .. " at least " .. least .. ", got " .. describe(v))
    end
  end
  return entry
end

local function check_group_name(name)
  if type(name) ~= "string" then
    fail("groups.name", "group must be a string, got " .. describe(name))
  end
  if #name == 0 or #name > MAX_GROUP_NAME then
    fail("groups.name", "a group name is 1 to " .. MAX_GROUP_NAME .. " characters, got " .. #name)
  end
  -- The ASCII classes spelled out: %w would take other letters on some interpreters.
  local at = find(name, "[^A-Za-z0-9._-]")
  if at then
    fail("groups.name", "group name " .. quote(name) .. " has byte " .. format("0x%02x", byte(name, at)) .. " at "
      .. at .. ": only ASCII letters, digits, '.', '_' and '-'")
  end
end

-- group_data_size checks the data table t of a lasgi.group.send at depth (data itself is 1)
-- and returns size plus its size, at most max: 5 for each table, 5 plus the length of each
-- string, 9 for each number, 1 for each boolean, keys and values. It fails where the
-- reference engine stops encoding: a table too deep before it counts, a key or value of the
-- wrong kind before it counts, the first count past max.
local function group_data_size(t, depth, size, max)
  local function grow(n)
    size = size + n
    if size > max then
      fail("groups.data.size", "data is larger than max_message_bytes, " .. number(max) .. " bytes, counted"
        .. " as the groups extension counts it")
    end
  end
  if depth > MAX_GROUP_DEPTH then
    fail("groups.data", "data nests tables more than " .. MAX_GROUP_DEPTH .. " deep (a table that holds itself"
      .. " nests without end)")
  end
  grow(5)
  for k, v in next, t do
    local tk, tv = type(k), type(v)
    if tk == "string" then
      grow(5 + #k)
    elseif tk == "number" and k == k then
      grow(9)
    else
      fail("groups.data", "data keys must be strings or numbers other than NaN, found a key " .. describe(k))
    end
    if tv == "string" then
      grow(5 + #v)
    elseif tv == "number" then
      grow(9)
    elseif tv == "boolean" then
      grow(1)
    elseif tv == "table" then
      size = group_data_size(v, depth + 1, size, max)
    else
      fail("groups.data", "data values must be strings, numbers, booleans or tables, found " .. describe(v))
    end
  end
  return size
end

-- groups_conversation follows the group events of one call in a scope of mode offering
-- groups with entry (nil: not offered). It returns two functions:
--   send(ev, typ)  checks a group event the app sends (app side) in the reference engine's
--                  order (the lifespan scope, the extension offered, the name, the data, the
--                  call's memberships) and returns what it changes once the real send has
--                  taken it;
--   received(ev)   checks a lasgi.group.message receive() returned (server side).
local function groups_conversation(entry, mode)
  local joined, count = {}, 0 -- the groups the call is a member of, and how many

  local function send(ev, typ)
    -- A lifespan call may not join whether or not groups are offered there.
    if mode == "lifespan" and typ ~= GROUP_SEND then
      fail("groups.lifespan.send-only", typ .. " sent in a lifespan scope: a lifespan call may send to groups, not"
        .. " join or leave them")
    end
    if not entry then
      fail("core.extensions.offered-only", typ .. " sent, but the scope does not offer the " .. EXT_GROUPS
        .. " extension")
    end
    local name = rawget(ev, "group")
    check_group_name(name)
    if typ == GROUP_SEND then
      local data = rawget(ev, "data")
      if type(data) ~= "table" then
        fail("groups.data", "data must be a table, got " .. describe(data))
      end
      group_data_size(data, 1, 0, rawget(entry, "max_message_bytes"))
      return unchanged
    elseif joined[name] then
      if typ == GROUP_JOIN then
        return unchanged -- a member already: nothing changes
      end
      return function()
        joined[name], count = nil, count - 1
      end
    elseif typ == GROUP_LEAVE then
      return unchanged
    end
    if count >= rawget(entry, "max_groups") then
      fail("groups.max-groups", "the call is a member of " .. count .. " groups already, max_groups; join of "
        .. quote(name) .. " refused")
    end
    return function()
      joined[name], count = true, count + 1
    end
  end

  local function received(ev)
    local group, data, dropped = rawget(ev, "group"), rawget(ev, "data"), rawget(ev, "dropped")
    if type(group) ~= "string" or type(data) ~= "table" then
      fail("groups.message", "lasgi.group.message must have group, a string, and data, a table; got group "
        .. describe(group) .. " and data " .. describe(data))
    end
    if dropped ~= nil and (not is_integer(dropped) or dropped < 1) then
      fail("groups.dropped", "dropped must be the number of messages dropped, at least 1, and absent when none"
        .. " were; got " .. describe(dropped))
    end
  end

  return send, received
end

-- ---------------------------------------------------------------------------------------
-- Which checks a scope gets

-- offers says whether a scope offers the extension name, whatever its checks found.
local function offers(scope, name)
  local ext = rawget(scope, "extensions")
  return type(ext) == "table" and rawget(ext, name) ~= nil
end

-- offers_trailers says whether a scope the lint does not check offers trailers.
local function offers_trailers(scope)
  return offers(scope, EXT_TRAILERS)
end

-- wait_options checks the argument of a receive() call (app side) as the reference engine
-- does, before it waits (luatype.ReceiveOptions), in a scope of type scope_type that offers
-- lasgi.timers or not, and returns whether the call asks for a timeout.
local function wait_options(timers, scope_type, opts)
  if opts == nil then
    return false
  end
  if not timers then
    fail("timers.offered-only", "receive takes no argument in a " .. tostring(scope_type) .. " scope (it does"
      .. " not offer the " .. EXT_TIMERS .. " extension), got " .. describe(opts))
  end
  if type(opts) ~= "table" then
    fail("timers.receive.options", "receive takes an options table, got " .. describe(opts))
  end
  local t = rawget(opts, "timeout")
  if t == nil then
    return false
  end
  if type(t) ~= "number" then
    fail("timers.receive.options", "timeout must be a number of seconds, got " .. describe(t))
  end
  -- t - t is NaN for NaN and both infinities (math.huge is finite on gopher-lua: 1/0 is not).
  if t < 0 or t - t ~= 0 then
    fail("timers.receive.options", "timeout must be a number of seconds, not negative, NaN or infinite; got "
      .. describe(t))
  end
  return true
end

-- check_scope checks what every scope holds and returns its mode: "http", "websocket",
-- "lifespan", "unknown-type" or "unknown-major" (the
-- app should refuse the scope), and whether the scope offers the extension its protocol's
-- checks ask about: trailers for http (and the scopes checked as http), the denial
-- response for websocket.
local function check_scope(scope)
  for k in next, scope do
    if type(k) ~= "string" then
      fail("core.value.table-keys", "scope keys must be strings, got key " .. describe(k))
    end
  end
  if seen_recently(scope) then
    fail("core.scope.fresh", "the scope table was passed to an earlier call")
  end
  remember(scope)
  local typ = rawget(scope, "type")
  if not is_text(typ) or typ == "" then
    fail("core.scope.type", "scope.type must be text naming the protocol, got " .. describe(typ))
  end
  local lasgi = rawget(scope, "lasgi")
  local version = type(lasgi) == "table" and rawget(lasgi, "version")
  local major = type(version) == "string" and match(version, "^(%d+)%.%d+$")
  if not major then
    fail("core.scope.lasgi", "scope.lasgi must be a table with version = \"MAJOR.MINOR\", got "
      .. (type(lasgi) == "table" and ("{version = " .. describe(version) .. "}") or describe(lasgi)))
  end
  if major ~= "1" then
    return "unknown-major", offers_trailers(scope), version
  end
  if typ == "http" then
    return "http", check_http_scope(scope), version
  end
  local asgi = rawget(scope, "asgi")
  if type(asgi) ~= "table" or rawget(asgi, "version") ~= "3.0" or type(rawget(asgi, "spec_version")) ~= "string" then
    fail("core.scope.asgi", "scope.asgi must be a table with version = \"3.0\" and a spec_version, got " .. describe(asgi))
  end
  if typ == "websocket" then
    return "websocket", check_websocket_scope(scope), version
  elseif typ == "lifespan" then
    return "lifespan", check_lifespan_scope(scope), version
  end
  return "unknown-type", offers_trailers(scope), version
end


-- ---------------------------------------------------------------------------------------
-- lint(app)

-- warn_once is the default warn function: each rule's first warning goes to stderr.
local function warn_once()
  local said = {}
  return function(rule, detail)
    if not said[rule] then
      said[rule] = true
      local stderr = io and io.stderr
      if stderr then
        stderr:write(PREFIX, "warning: ", rule, " (", ADVISORY[rule], "): ", detail, "\n")
      end
    end
  end
end

-- lint(app [, options]): options.strict raises for SHOULD rules too; options.warn(rule,
-- detail) receives each warning instead of stderr.
local function lint(app, options)
  if options ~= nil and type(options) ~= "table" then
    error(PREFIX .. "lint(app, options): options must be a table, got " .. describe(options), 2)
  end
  local opts = {strict = options and options.strict == true, warn = options and options.warn or warn_once()}
  active = opts
  if not is_callable(app) then
    fail("core.app.callable", "the app is " .. describe(app) .. ", not a function or a table with __call")
  end

  local function lint_app(scope, receive, send, ...)
    active = opts
    if type(scope) ~= "table" or not is_callable(receive) or not is_callable(send) then
      fail("core.call.once", "the app must be called with the scope table, receive and send, got "
        .. describe(scope) .. ", " .. describe(receive) .. ", " .. describe(send))
    end
    local mode, offered, version = check_scope(scope)
    local scope_type = rawget(scope, "type")
    -- Whether the server offers lasgi.timers here, as it built the scope: what the app does
    -- to scope.extensions afterwards changes nothing.
    local timers = offers(scope, EXT_TIMERS)
    -- The same for lasgi.groups, with its limits; and the call's memberships.
    local groups = groups_offer(scope)
    local group_send, group_received = groups_conversation(groups, mode)
    -- A websocket or lifespan scope's own checks (the http ones below are for every other
    -- mode).
    local own_received, own_send, ws_gone
    local ls_receiving, ls_finish
    if mode == "websocket" then
      own_received, own_send, ws_gone = websocket_conversation(rawget(scope, "subprotocols"), rawget(scope, "extensions"), offered)
    elseif mode == "lifespan" then
      ls_receiving, own_received, own_send, ls_finish = lifespan_conversation()
    end

    -- The response as the app sent it.
    local resp = new_response(START, BODY)
    local sent_types, sent_count = {}, 0 -- the first few types sent, and how many events
    -- The request as the server handed it.
    local body_complete, got_disconnect, after_disconnect = false, false, 0
    local last_event = nil
    -- The call.
    local finished, pending, send_failed, foreign = false, false, false, false
    -- The call's own coroutine, when receive() and send() can be held to it: not where
    -- pcall runs its function in a coroutine of its own (gopher-lua, whose server checks
    -- core.call.same-coroutine itself), nor outside any coroutine.
    local owner = coroutine.running()
    if owner ~= nil and select(2, pcall(coroutine.running)) ~= owner then
      owner = nil
    end
    local function check_caller(what)
      if owner ~= nil and coroutine.running() ~= owner then
        fail("core.call.same-coroutine", what .. "() called from a coroutine other than the one the server"
          .. " created for the call")
      end
    end

    local function settle()
      if pending then
        -- The real send raised and the app caught the error: the event had no effect.
        pending, send_failed = false, true
      end
    end

    -- refuse fails when the app returned normally from a scope it cannot know. (What it
    -- sends there is checked as in an http scope, as the reference server does.)
    local function refuse()
      if mode == "unknown-type" then
        fail("core.app.scope-type", "the app returned normally from a scope of type " .. quote(scope_type)
          .. ", which it cannot know; it should raise an error for scope types it does not support")
      elseif mode == "unknown-major" then
        fail("core.scope.version-check", "the app returned normally from a scope with lasgi.version "
          .. quote(version) .. ", a major version it cannot know; it should raise an error")
      end
    end

    -- check_timeout checks a lasgi.timeout receive() returned, to a call that asked for a
    -- timeout (timed) or not. It is no event of the scope's protocol: nothing else follows it.
    local function check_timeout(timed)
      if not timed then
        fail("timers.receive.without", "receive() returned lasgi.timeout to a call that asked for no timeout;"
          .. " such a call waits for the next event as without timers")
      end
      -- An event that receive() returns at once is available: it comes before any timeout.
      if mode == "http" and (got_disconnect or resp.complete) then
        fail("timers.receive.event-first", "receive() returned lasgi.timeout " .. (got_disconnect
          and "after it had returned http.disconnect" or "after the response was complete")
          .. ", when http.disconnect was due at once")
      end
      if ws_gone and ws_gone() then
        fail("timers.receive.event-first", "receive() returned lasgi.timeout after websocket.disconnect,"
          .. " which every later call must return again at once")
      end
    end

    -- check_received checks what a receive() call that asked for a timeout (timed) or not
    -- returned: n values, the first ev.
    local function check_received(timed, n, ev)
      if n ~= 1 or type(ev) ~= "table" then
        fail("core.receive.event", "receive() must return exactly one event table, got " .. n .. " value"
          .. (n == 1 and "" or "s") .. (n >= 1 and (", the first " .. describe(ev)) or ""))
      end
      if ev == last_event or ev == scope then
        fail("core.receive.fresh", "receive() returned the same table as " .. (ev == scope and "the scope" or "the previous call"))
      end
      last_event = ev
      local typ = rawget(ev, "type")
      if type(typ) ~= "string" then
        fail("core.receive.event", "the event receive() returned has type " .. describe(typ) .. ", not a string")
      end
      if typ == TIMEOUT then
        return check_timeout(timed)
      end
      if typ == GROUP_MESSAGE and groups then
        group_received(ev)
        if mode == "http" then
          -- No more than any other event once http.disconnect is due at once.
          if got_disconnect then
            fail("http.disconnect.repeat", "receive() returned lasgi.group.message after it had returned http.disconnect")
          end
          if resp.complete then
            fail("http.disconnect.after-complete", "receive() returned lasgi.group.message after the response was"
              .. " complete, when http.disconnect was due at once")
          end
          return
        end
      end
      if own_received then
        return own_received(ev, typ)
      end
      if typ == WS_CONNECT and mode ~= "unknown-major" then
        -- A WebSocket handshake, in a scope that does not say so.
        fail("websocket.scope.type", "receive() returned websocket.connect in a scope of type " .. quote(scope_type)
          .. "; a WebSocket scope has type \"websocket\"")
      end
      if mode ~= "http" then
        return
      end
      if typ == REQUEST then
        if got_disconnect then
          fail("http.disconnect.repeat", "receive() returned http.request after it had returned http.disconnect")
        end
        if body_complete then
          fail("http.request.more-body", "receive() returned http.request after the one with more_body = false")
        end
        local body, more = rawget(ev, "body"), rawget(ev, "more_body")
        if body == nil then
          fail("core.receive.complete-keys", "http.request has no body key (\"\" when the event carries no bytes)")
        end
        if type(body) ~= "string" then
          fail("http.request.body-type", "http.request body must be a byte string, got " .. describe(body))
        end
        if more == nil then
          fail("core.receive.complete-keys", "http.request has no more_body key")
        end
        if type(more) ~= "boolean" then
          fail("core.value.boolean", "http.request more_body must be a boolean, got " .. describe(more))
        end
        if not more then
          body_complete = true
        end
      elseif typ == DISCONNECT then
        got_disconnect = true
      elseif version == "1.0" or version == "1.1" or version == "1.2" then
        -- A later 1.x may add events; under 1.0 to 1.2 only these two exist
        -- (and those of the extensions offered, taken above).
        if got_disconnect then
          fail("http.disconnect.repeat", "receive() returned " .. quote(typ) .. " after it had returned http.disconnect")
        elseif not body_complete then
          fail("http.request.first", "receive() returned " .. quote(typ)
            .. " before the request body was complete; only http.request or http.disconnect may come")
        else
          fail("http.disconnect.wait", "receive() returned " .. quote(typ)
            .. " after the request body was complete; only http.disconnect may come")
        end
      end
    end

    local function received(timed, ...)
      active = opts
      check_received(timed, select("#", ...), (...))
      return ...
    end

    local function lint_receive(...)
      active = opts
      if finished then
        fail("core.call.same-coroutine", "receive() called after the app call returned")
      end
      check_caller("receive")
      settle()
      -- The argument first, as the engine checks it before anything else happens.
      local timed = wait_options(timers, scope_type, (...))
      if ls_receiving then
        ls_receiving()
      end
      if got_disconnect and mode == "http" then
        after_disconnect = after_disconnect + 1
        if after_disconnect == REPEAT_LIMIT + 1 or (after_disconnect > REPEAT_LIMIT and active.strict) then
          fail("http.disconnect.app-return", "receive() called " .. after_disconnect
            .. " more times after it returned http.disconnect; the app should return")
        end
      end
      return received(timed, receive(...))
    end

    -- check_send checks ev as the next event and returns what it changes.
    local function check_send(ev)
      if type(ev) ~= "table" then
        fail("core.send.event-table", "send takes an event table, got " .. describe(ev))
      end
      local typ = rawget(ev, "type")
      if type(typ) ~= "string" then
        fail("core.send.type", "event type must be a string, got " .. describe(typ))
      end
      -- Group events before the scope's own: the engine reads them before its protocol does.
      if GROUP_EVENTS[typ] then
        return group_send(ev, typ)
      end
      if own_send then
        return own_send(ev, typ)
      end
      -- The Lua types of the keys.
      local st, nheaders, trailers, body, more, more_trailers
      if typ == START then
        st, nheaders = start_types(ev, "http.start.headers-type")
        trailers = check_bool(ev, "trailers", "http.start.trailers-type")
      elseif typ == BODY then
        body, more = body_types(ev)
      elseif typ == TRAILERS then
        nheaders = check_headers_type(rawget(ev, "headers"), "http.trailers.headers-type")
        more_trailers = check_bool(ev, "more_trailers", "http.trailers.more-trailers-type")
      end
      -- The extension must be offered.
      if not resp.complete and not offered then
        if typ == START and trailers then
          fail("http.trailers.offered", "trailers = true, but the scope does not offer the "
            .. EXT_TRAILERS .. " extension")
        elseif typ == TRAILERS then
          fail("core.extensions.offered-only", typ .. " sent, but the scope does not offer that extension")
        end
      end
      -- Order and values.
      if resp.complete then
        fail("http.send.after-complete", typ .. " sent after the response was complete")
      end
      if typ == START then
        return check_start(resp, st, rawget(ev, "headers"), nheaders, trailers)
      elseif typ == BODY then
        return check_body(resp, body, more)
      elseif typ == TRAILERS then
        if not resp.started then
          fail("http.start.first", "http.response.trailers sent before http.response.start")
        end
        if not resp.wants_trailers then
          fail("http.trailers.requires-flag", "http.response.trailers sent but http.response.start"
            .. " did not set trailers = true")
        end
        if not resp.body_done then
          fail("http.trailers.after-body", "http.response.trailers sent before the last http.response.body")
        end
        local headers = rawget(ev, "headers")
        for i = 1, nheaders do
          local pair = rawget(headers, i)
          check_header(rawget(pair, 1), rawget(pair, 2), i)
        end
        return function()
          resp.complete = not more_trailers
        end
      end
      local ext = rawget(scope, "extensions")
      if type(ext) == "table" and rawget(ext, typ) ~= nil then
        -- An event of an extension the server offers and the lint does not know: the
        -- server judges it, and the lint no longer judges how the response ends.
        return function()
          foreign = true
        end
      end
      fail("core.send.type", quote(typ) .. " is not an event an app sends in an http scope")
    end

    -- sent records that the real send accepted the event being sent.
    local applying, applying_type
    local function sent(...)
      active = opts
      pending = false
      applying()
      sent_count = sent_count + 1
      if sent_count <= 8 then
        sent_types[sent_count] = applying_type
      end
      return ...
    end

    local function lint_send(ev, ...)
      active = opts
      if finished then
        fail("core.call.same-coroutine", "send() called after the app call returned")
      end
      check_caller("send")
      settle()
      applying, applying_type = check_send(ev), rawget(ev, "type")
      pending = true
      return sent(send(ev, ...))
    end

    local function finish(...)
      active = opts
      finished = true
      settle()
      refuse()
      if ls_finish then
        ls_finish()
      end
      -- An app that returned from a scope it cannot know broke the SHOULD rule above;
      -- how it answered is not judged (as lasgi-check app's Go checker does not). A
      -- websocket app may return at any time: the server closes the socket.
      local judged = mode == "http"
      if judged and not resp.complete and not got_disconnect and not send_failed and not foreign then
        if resp.wants_trailers and resp.body_done then
          fail("http.trailers.required", "the app set trailers = true and sent its last body,"
            .. " but returned without http.response.trailers")
        end
        fail("core.app.complete-response", "the app returned without completing its response (events sent: "
          .. (sent_count > 0 and concat(sent_types, ", ") or "none")
          .. (sent_count > 8 and (", ... (" .. sent_count .. " in all)") or "") .. ")")
      end
      return ...
    end

    return finish(app(scope, lint_receive, lint_send, ...))
  end

  return lint_app
end

return lint
