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
  send(start)
  send(body)
end
