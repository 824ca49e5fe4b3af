-- fault: lifespan.startup.order
-- A deliberately broken LASGI app for lasgi-check's seeded-fault tests: one violation.
-- Sends lifespan.startup.complete before it has received lifespan.startup.
return function(scope, receive, send)
  if scope.type ~= "lifespan" then error("lifespan only", 0) end
  send({type = "lifespan.startup.complete"})
  receive()
  receive()
  send({type = "lifespan.shutdown.complete"})
end
