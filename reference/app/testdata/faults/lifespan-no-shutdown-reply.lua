-- fault: lifespan.shutdown.reply
-- A deliberately broken LASGI app for lasgi-check's seeded-fault tests: one violation.
-- Returns on lifespan.shutdown without replying to it.
return function(scope, receive, send)
  if scope.type ~= "lifespan" then error("lifespan only", 0) end
  receive()
  send({type = "lifespan.startup.complete"})
  receive()
end
