-- fault: lifespan.startup.order
-- A deliberately broken LASGI app for lasgi-check's seeded-fault tests: one violation.
-- Completes its startup, then fails it too.
return function(scope, receive, send)
  if scope.type ~= "lifespan" then error("lifespan only", 0) end
  receive()
  send({type = "lifespan.startup.complete"})
  send({type = "lifespan.startup.failed", message = "changed its mind"})
end
