-- LASGI reference app: hello world (the benchmark app).
-- Answers every request with 200, content-type text/plain and "Hello World!".
-- It never calls receive(): the request body, if any, is left to the server.
-- The event tables are built once and reused; send() only reads them.
local start = {
  type = "http.response.start",
  status = 200,
  headers = { { "content-type", "text/plain" } },
}
local body = { type = "http.response.body", body = "Hello World!", more_body = false }

return function(scope, receive, send)
  -- Only http scopes of LASGI 1.x (spec rules core.app.scope-type, core.scope.version-check).
  if scope.type ~= "http" then
    error("hello.lua serves http scopes only, not " .. tostring(scope.type), 0)
  end
  -- "1.2" is the usual answer: compared first, it costs no function call.
  local lasgi = scope.lasgi
  local version = type(lasgi) == "table" and lasgi.version
  if version ~= "1.2" and type(version) == "string" and version:sub(1, 2) ~= "1." then
    error("hello.lua knows LASGI 1.x, not " .. version, 0)
  end
  send(start)
  send(body)
end
