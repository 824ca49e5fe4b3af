-- fault: lifespan.startup.reply
-- A deliberately broken LASGI app for lasgi-check's seeded-fault tests: one violation.
-- Waits for another event instead of replying to lifespan.startup; none comes.
return function(scope, receive, send)
  if scope.type ~= "lifespan" then error("lifespan only", 0) end
  receive()
  receive()
  send({type = "lifespan.startup.complete"})
end
