-- fault: http.disconnect.app-return
-- A deliberately broken LASGI app for lasgi-check's seeded-fault tests: one violation.
return function(scope, receive, send)
  if scope.type ~= "http" then error("http only", 0) end
  -- Waits for the whole body and never looks at http.disconnect.
  while true do
    local ev = receive()
    if ev.type == "http.request" and not ev.more_body then break end
  end
  send({type = "http.response.start", status = 200})
  send({type = "http.response.body", body = "ok"})
end
