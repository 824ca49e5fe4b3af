-- fault: websocket.close.code
-- A deliberately broken LASGI app for lasgi-check's seeded-fault tests: one violation.
-- Closes with 1005, a code only for saying no code came.
return function(scope, receive, send)
  if scope.type ~= "websocket" then error("websocket only", 0) end
  local ev = receive()
  if ev.type ~= "websocket.connect" then return end
  send({type = "websocket.accept"})
  send({type = "websocket.close", code = 1005})
  repeat ev = receive() until ev.type == "websocket.disconnect"
end
