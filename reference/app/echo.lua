-- LASGI reference app: echo.
-- Reads the whole request body, then answers 200 text/plain with
--   METHOD PATH\n
--   name: value\n        (one line per request header, in received order)
--   \n
--   <raw request body bytes>
-- If the client disconnects before the body is complete it returns without responding.
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

return function(scope, receive, send)
  -- Only http scopes of LASGI 1.x (spec rules core.app.scope-type, core.scope.version-check).
  if scope.type ~= "http" then
    error("echo.lua serves http scopes only, not " .. tostring(scope.type), 0)
  end
  local lasgi = scope.lasgi
  if type(lasgi) == "table" and type(lasgi.version) == "string" and lasgi.version:sub(1, 2) ~= "1." then
    error("echo.lua knows LASGI 1.x, not " .. lasgi.version, 0)
  end
  local chunks, n = {}, 0
  while true do
    local event = receive()
    local t = event.type
    if t == "http.disconnect" then
      return
    elseif t == "http.request" then
      local body = event.body
      if body ~= nil and body ~= "" then
        n = n + 1
        chunks[n] = body
      end
      if not event.more_body then
        break
      end
    end
  end

  local out, m = {}, 0
  m = m + 1; out[m] = (scope.method or "") .. " " .. (scope.path or "") .. "\n"
  local headers = scope.headers or {}
  for i = 1, #headers do
    local h = headers[i]
    m = m + 1; out[m] = h[1] .. ": " .. h[2] .. "\n"
  end
  m = m + 1; out[m] = "\n"
  m = m + 1; out[m] = join(chunks, n, "")

  send({
    type = "http.response.start",
    status = 200,
    headers = { { "content-type", "text/plain" } },
  })
  send({ type = "http.response.body", body = join(out, m, ""), more_body = false })
end
