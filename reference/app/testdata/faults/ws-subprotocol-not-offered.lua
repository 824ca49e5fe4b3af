-- fault: websocket.accept.subprotocol
-- A deliberately broken LASGI app for lasgi-check's seeded-fault tests: one violation.
-- Chooses a subprotocol the client did not offer.
return function(scope, receive, send)
  if scope.type ~= "websocket" then error("websocket only", 0) end
  local ev = receive()
  if ev.type ~= "websocket.connect" then return end
  send({type = "websocket.accept", subprotocol = "graphql-ws"})
  repeat ev = receive() until ev.type == "websocket.disconnect"
end
