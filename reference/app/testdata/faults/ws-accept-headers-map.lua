-- fault: websocket.accept.headers-type
-- A deliberately broken LASGI app for lasgi-check's seeded-fault tests: one violation.
-- Gives the accept headers as a map of names to values.
return function(scope, receive, send)
  if scope.type ~= "websocket" then error("websocket only", 0) end
  local ev = receive()
  if ev.type ~= "websocket.connect" then return end
  send({type = "websocket.accept", headers = {["x-served-by"] = "fault"}})
  repeat ev = receive() until ev.type == "websocket.disconnect"
end
