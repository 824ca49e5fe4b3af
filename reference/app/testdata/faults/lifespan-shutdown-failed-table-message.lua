-- fault: lifespan.shutdown.message-type
-- A deliberately broken LASGI app for lasgi-check's seeded-fault tests: one violation.
-- Fails its shutdown with a table for the message.
return function(scope, receive, send)
  if scope.type ~= "lifespan" then error("lifespan only", 0) end
  receive()
  send({type = "lifespan.startup.complete"})
  receive()
  send({type = "lifespan.shutdown.failed", message = {reason = "busy"}})
end
