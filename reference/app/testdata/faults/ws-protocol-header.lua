-- fault: websocket.accept.no-protocol-header
-- A deliberately broken LASGI app for lasgi-check's seeded-fault tests: one violation.
-- Chooses the subprotocol through a header instead of the subprotocol key.
return function(scope, receive, send)
  if scope.type ~= "websocket" then error("websocket only", 0) end
  local ev = receive()
  if ev.type ~= "websocket.connect" then return end
  send({type = "websocket.accept", headers = {{"sec-websocket-protocol", "chat"}}})
  repeat ev = receive() until ev.type == "websocket.disconnect"
end
