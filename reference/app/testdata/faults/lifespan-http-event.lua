-- fault: core.send.type
-- A deliberately broken LASGI app for lasgi-check's seeded-fault tests: one violation.
-- Answers lifespan.startup with an http event.
return function(scope, receive, send)
  if scope.type ~= "lifespan" then error("lifespan only", 0) end
  receive()
  send({type = "http.response.start", status = 200})
end
