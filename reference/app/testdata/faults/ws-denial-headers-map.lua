-- fault: websocket.denial.keys
-- A deliberately broken LASGI app for lasgi-check's seeded-fault tests: one violation.
-- Refuses with a denial response whose headers are a map, not the list of {name, value}
-- pairs http.response.start takes (http.start.headers-type, by websocket.denial.keys).
return function(scope, receive, send)
  if scope.type ~= "websocket" then error("websocket only", 0) end
  local ev = receive()
  if ev.type ~= "websocket.connect" then return end
  send({type = "websocket.http.response.start", status = 403, headers = {["content-type"] = "text/plain"}})
  send({type = "websocket.http.response.body", body = "no"})
  do return end
  repeat ev = receive() until ev.type == "websocket.disconnect"
end
