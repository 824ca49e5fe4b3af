-- fault: websocket.send.text-type
-- A deliberately broken LASGI app for lasgi-check's seeded-fault tests: one violation.
-- Sends a number as text.
return function(scope, receive, send)
  if scope.type ~= "websocket" then error("websocket only", 0) end
  local ev = receive()
  if ev.type ~= "websocket.connect" then return end
  send({type = "websocket.accept"})
  send({type = "websocket.send", text = 42})
  repeat ev = receive() until ev.type == "websocket.disconnect"
end
