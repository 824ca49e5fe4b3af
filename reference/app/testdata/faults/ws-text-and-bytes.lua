-- fault: websocket.send.one-of
-- A deliberately broken LASGI app for lasgi-check's seeded-fault tests: one violation.
-- Sends a message with both text and bytes.
return function(scope, receive, send)
  if scope.type ~= "websocket" then error("websocket only", 0) end
  local ev = receive()
  if ev.type ~= "websocket.connect" then return end
  send({type = "websocket.accept"})
  send({type = "websocket.send", text = "hi", bytes = "hi"})
  repeat ev = receive() until ev.type == "websocket.disconnect"
end
