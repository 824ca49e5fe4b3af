-- LASGI reference app: streaming responses.
-- Always answers 200 text/plain without content-length, in several body events.
--
--   path /echo          streams the request body back as it arrives: every non-empty
--                       http.request body is sent at once as a body part (more_body=true),
--                       so arbitrarily large bodies pass through without buffering.
--                       The response starts with the first http.request event; on
--                       http.disconnect the app returns.
--   query size=BYTES    (any other path) streams BYTES bytes of "x" in parts of 64 KiB
--                       (BYTES is capped at 2^40).
--   query parts=N       (any other path, no size) sends N parts "part i\n", i = 1..N
--                       (default 5, at most 1000).
-- Every mode ends with an empty body event with more_body=false.
-- Query values that are not plain decimal digits are ignored.
local CHUNK = 65536
local XS = string.rep("x", CHUNK)
local MAX_SIZE = 2 ^ 40
local MAX_PARTS = 1000
local DEFAULT_PARTS = 5

local START = {
  type = "http.response.start",
  status = 200,
  headers = { { "content-type", "text/plain" } },
}
local FINAL = { type = "http.response.body", body = "", more_body = false }

-- Returns the value of the first `name=digits` parameter as a number, or nil.
local function query_number(qs, name)
  for pair in string.gmatch(qs, "[^&]+") do
    local k, v = string.match(pair, "^([^=]*)=(.*)$")
    if k == name then
      if string.find(v, "^[0-9]+$") then
        return tonumber(v)
      end
      return nil
    end
  end
  return nil
end

local function part(body)
  return { type = "http.response.body", body = body, more_body = true }
end

local function echo(receive, send)
  local started = false
  while true do
    local event = receive()
    local t = event.type
    if t == "http.disconnect" then
      return
    elseif t == "http.request" then
      if not started then
        send(START)
        started = true
      end
      local body = event.body
      if body ~= nil and body ~= "" then
        send(part(body))
      end
      if not event.more_body then
        send(FINAL)
        return
      end
    end
  end
end

return function(scope, receive, send)
  -- Only http scopes of LASGI 1.x (spec rules core.app.scope-type, core.scope.version-check).
  if scope.type ~= "http" then
    error("stream.lua serves http scopes only, not " .. tostring(scope.type), 0)
  end
  local lasgi = scope.lasgi
  if type(lasgi) == "table" and type(lasgi.version) == "string" and lasgi.version:sub(1, 2) ~= "1." then
    error("stream.lua knows LASGI 1.x, not " .. lasgi.version, 0)
  end
  if scope.path == "/echo" then
    return echo(receive, send)
  end

  local qs = scope.query_string or ""
  local size = query_number(qs, "size")
  send(START)
  if size ~= nil then
    if size > MAX_SIZE then
      size = MAX_SIZE
    end
    while size >= CHUNK do
      send(part(XS))
      size = size - CHUNK
    end
    if size > 0 then
      send(part(string.sub(XS, 1, size)))
    end
  else
    local parts = query_number(qs, "parts") or DEFAULT_PARTS
    if parts > MAX_PARTS then
      parts = MAX_PARTS
    end
    for i = 1, parts do
      send(part(string.format("part %d\n", i)))
    end
  end
  send(FINAL)
end
