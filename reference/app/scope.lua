-- LASGI reference app: scope dump.
-- Reads the request body to the end (on http.disconnect it returns without responding),
-- then answers 200 application/json with
--   {"events": [<each http.request event received>, ...], "scope": {<the scope>}}
-- Every key of the scope and of the events is written. The standard scope keys (type, asgi,
-- lasgi, http_version, method, scheme, path, raw_path, query_string, root_path, headers,
-- client, server, state, extensions) and the event keys type, body and more_body are always
-- present: null when absent.
--
-- JSON mapping of Lua values:
--   table   with keys exactly 1..n (n >= 1) -> array; empty table -> {}; any other table ->
--           object, keys sorted bytewise (number keys written as numbers in a string,
--           booleans as "true"/"false")
--   number  integral values without a decimal point (8080, not 8080.0); others with the
--           fewest digits (14 to 17 significant) that read back as the same number;
--           NaN and infinities -> null
--   boolean -> true/false; nil (absent standard key) -> null
--   other values (functions, userdata, threads) -> the string "<typename>"
--
-- STRING ENCODING CONVENTION. Lua strings are bytes; each byte becomes one JSON character:
--   * printable ASCII 0x20-0x7E is written as itself, except `"` and `\` which are written
--     as \" and \\;
--   * every other byte b (0x00-0x1F, 0x7F-0xFF) is written as \u00XX, XX = lowercase hex of b.
-- So the JSON text is pure printable ASCII, and a decoded JSON string holds only code points
-- U+0000-U+00FF, one per byte (the Latin-1 mapping): the exact bytes are recovered by
-- taking each code point as a byte value. UTF-8 text therefore shows up byte by byte.

local concat, sort = table.concat, table.sort
local format, gsub, floor = string.format, string.gsub, math.floor
local huge = math.huge
local mathtype = math.type -- Lua 5.3+ only

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

local NULL = {} -- marks an absent standard key

local SCOPE_KEYS = {
  "type", "asgi", "lasgi", "http_version", "method", "scheme", "path", "raw_path",
  "query_string", "root_path", "headers", "client", "server", "state", "extensions",
}
local EVENT_KEYS = { "type", "body", "more_body" }

-- Byte -> JSON escape, for the bytes not written as themselves.
local QUOTE = { ['"'] = '\\"', ["\\"] = "\\\\" }
local CONTROL = {}
for b = 0, 255 do
  if b < 0x20 or b > 0x7e then
    CONTROL[string.char(b)] = format("\\u%04x", b)
  end
end

local function encode_string(s)
  s = gsub(s, '["\\]', QUOTE)
  s = gsub(s, "[^ -~]", CONTROL)
  return '"' .. s .. '"'
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

local encode_value

-- Appends the JSON text of table t to out; returns the new length of out.
local function encode_table(t, out, n, seen)
  if seen[t] then
    error("scope.lua: cannot encode a table that contains itself", 0)
  end
  seen[t] = true

  local count, is_array = 0, true
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
    n = n + 1; out[n] = "{}"
  elseif is_array then
    n = n + 1; out[n] = "["
    for i = 1, count do
      if i > 1 then
        n = n + 1; out[n] = ","
      end
      n = encode_value(rawget(t, i), out, n, seen)
    end
    n = n + 1; out[n] = "]"
  else
    local entries = {}
    for k, v in pairs(t) do
      entries[#entries + 1] = { key_string(k), type(k), v }
    end
    sort(entries, function(a, b)
      if a[1] ~= b[1] then
        return a[1] < b[1]
      end
      return a[2] < b[2]
    end)
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

-- A shallow copy of t in which each of the given keys is present (NULL when absent).
local function with_keys(t, keys)
  local copy = {}
  for k, v in pairs(t) do
    copy[k] = v
  end
  for i = 1, #keys do
    if copy[keys[i]] == nil then
      copy[keys[i]] = NULL
    end
  end
  return copy
end

local function encode(v)
  local out = {}
  local n = encode_value(v, out, 0, {})
  return join(out, n, "")
end

return function(scope, receive, send)
  -- Only http scopes of LASGI 1.x (spec rules core.app.scope-type, core.scope.version-check).
  if scope.type ~= "http" then
    error("scope.lua serves http scopes only, not " .. tostring(scope.type), 0)
  end
  local lasgi = scope.lasgi
  if type(lasgi) == "table" and type(lasgi.version) == "string" and lasgi.version:sub(1, 2) ~= "1." then
    error("scope.lua knows LASGI 1.x, not " .. lasgi.version, 0)
  end
  local events = {}
  while true do
    local event = receive()
    local t = event.type
    if t == "http.disconnect" then
      return
    elseif t == "http.request" then
      events[#events + 1] = with_keys(event, EVENT_KEYS)
      if not event.more_body then
        break
      end
    end
  end

  local body = encode({ scope = with_keys(scope, SCOPE_KEYS), events = events })
  send({
    type = "http.response.start",
    status = 200,
    headers = { { "content-type", "application/json" } },
  })
  send({ type = "http.response.body", body = body, more_body = false })
end
