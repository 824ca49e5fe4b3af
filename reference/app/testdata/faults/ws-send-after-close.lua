-- fault: websocket.send.after-close
-- A deliberately broken LASGI app for lasgi-check's seeded-fault tests: one violation.
-- Closes, then sends a message.
return function(scope, receive, send)
  if scope.type ~= "websocket" then error("websocket only", 0) end
  local ev = receive()
  if ev.type ~= "websocket.connect" then return end
  send({type = "websocket.accept"})
  send({type = "websocket.close", code = 1000})
  send({type = "websocket.send", text = "too late"})
  repeat ev = receive() until ev.type == "websocket.disconnect"
end
