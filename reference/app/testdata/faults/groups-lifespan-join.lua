-- fault: groups.lifespan.send-only
-- A deliberately broken LASGI app for lasgi-check's seeded-fault tests: one violation.
-- Joins a group at startup, to hear of news for the whole app; a lifespan call has no
-- receive() loop to take messages with, and may not join (the scope offers no groups
-- here either, but joining breaks the rule wherever they are offered).
return function(scope, receive, send)
  if scope.type ~= "lifespan" then error("lifespan only", 0) end
  receive()
  send({type = "lasgi.group.join", group = "app.news"})
  send({type = "lifespan.startup.complete"})
  receive()
  send({type = "lifespan.shutdown.complete"})
end
