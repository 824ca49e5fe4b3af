-- bench/run's sleeping call (lasgi.timers): answers 200 with one line, then sleeps in a
-- loop of receive({timeout = S}) without sending anything more, until the client leaves.
-- S is the query's sleep=SECONDS (a plain decimal number, 0.01 to 3600; default 1). It
-- measures what a call that waits costs: memory while it sleeps, CPU for its wake-ups.
local function sleep_seconds(qs)
  local v = string.match(qs, "^sleep=([%d.]+)$") or string.match(qs, "^sleep=([%d.]+)&")
    or string.match(qs, "&sleep=([%d.]+)")
  local s = v and tonumber(v)
  if s and s >= 0.01 and s <= 3600 then
    return s
  end
  return 1
end

return function(scope, receive, send)
  if scope.type ~= "http" then
    error("sleeper.lua serves http scopes only", 0)
  end
  if not (scope.extensions and scope.extensions["lasgi.timers"]) then
    error("sleeper.lua needs the lasgi.timers extension", 0)
  end
  local s = sleep_seconds(scope.query_string)
  repeat
    local ev = receive()
  until ev.type ~= "http.request" or not ev.more_body
  send({ type = "http.response.start", status = 200, headers = { { "content-type", "text/plain" } } })
  -- A first line, so that the head goes out now (a lone start waits for the body).
  send({ type = "http.response.body", body = "sleeping\n", more_body = true })
  while true do
    local ev = receive({ timeout = s })
    if ev.type == "http.disconnect" then
      return
    end
  end
end
