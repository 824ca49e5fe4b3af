-- fault: lifespan.startup.message-type
-- A deliberately broken LASGI app for lasgi-check's seeded-fault tests: one violation.
-- Fails its startup with a message that is not UTF-8 text.
return function(scope, receive, send)
  if scope.type ~= "lifespan" then error("lifespan only", 0) end
  receive()
  send({type = "lifespan.startup.failed", message = "pool \255 down"})
end
