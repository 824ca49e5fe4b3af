-- fault: websocket.send.after-accept
-- A deliberately broken LASGI app for lasgi-check's seeded-fault tests: one violation.
-- Sends a message before it accepts.
return function(scope, receive, send)
  if scope.type ~= "websocket" then error("websocket only", 0) end
  local ev = receive()
  if ev.type ~= "websocket.connect" then return end
  send({type = "websocket.send", text = "too early"})
  send({type = "websocket.accept"})
  repeat ev = receive() until ev.type == "websocket.disconnect"
end
