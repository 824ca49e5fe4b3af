-- fault: websocket.close.reason
-- A deliberately broken LASGI app for lasgi-check's seeded-fault tests: one violation.
-- Closes with a reason of 200 bytes; 123 fit a close frame.
return function(scope, receive, send)
  if scope.type ~= "websocket" then error("websocket only", 0) end
  local ev = receive()
  if ev.type ~= "websocket.connect" then return end
  send({type = "websocket.accept"})
  send({type = "websocket.close", code = 1000, reason = string.rep("r", 200)})
  repeat ev = receive() until ev.type == "websocket.disconnect"
end
