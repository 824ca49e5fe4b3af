-- fault: lifespan.shutdown.reply
-- A deliberately broken LASGI app for lasgi-check's seeded-fault tests: one violation.
-- Sends lifespan.shutdown.complete right after its startup, before lifespan.shutdown came.
return function(scope, receive, send)
  if scope.type ~= "lifespan" then error("lifespan only", 0) end
  receive()
  send({type = "lifespan.startup.complete"})
  send({type = "lifespan.shutdown.complete"})
end
