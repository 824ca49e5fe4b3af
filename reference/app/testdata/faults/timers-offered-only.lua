-- fault: timers.offered-only
-- A deliberately broken LASGI app for lasgi-check's seeded-fault tests: one violation.
-- Waits with a timeout in the lifespan scope, which offers no extensions, so no timers:
-- the startup's work is paced as an http stream would be.
return function(scope, receive, send)
  if scope.type ~= "lifespan" then error("lifespan only", 0) end
  receive()
  receive({timeout = 0.1})
  send({type = "lifespan.startup.complete"})
  receive()
  send({type = "lifespan.shutdown.complete"})
end
