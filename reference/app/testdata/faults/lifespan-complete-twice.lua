-- fault: lifespan.startup.order
-- A deliberately broken LASGI app for lasgi-check's seeded-fault tests: one violation.
-- Replies to lifespan.startup twice.
return function(scope, receive, send)
  if scope.type ~= "lifespan" then error("lifespan only", 0) end
  receive()
  send({type = "lifespan.startup.complete"})
  send({type = "lifespan.startup.complete"})
  receive()
  send({type = "lifespan.shutdown.complete"})
end
