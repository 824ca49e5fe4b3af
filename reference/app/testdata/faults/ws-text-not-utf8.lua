-- fault: websocket.send.text-type
-- A deliberately broken LASGI app for lasgi-check's seeded-fault tests: one violation.
-- Sends text that is not valid UTF-8 (it should go as bytes).
return function(scope, receive, send)
  if scope.type ~= "websocket" then error("websocket only", 0) end
  local ev = receive()
  if ev.type ~= "websocket.connect" then return end
  send({type = "websocket.accept"})
  send({type = "websocket.send", text = "\255\254 latin-1 caf\233"})
  repeat ev = receive() until ev.type == "websocket.disconnect"
end
