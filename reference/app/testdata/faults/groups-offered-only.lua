-- fault: core.extensions.offered-only
-- A deliberately broken LASGI app for lasgi-check's seeded-fault tests: one violation.
-- Tells a group that the app started, from the lifespan call, without looking whether the
-- scope offers lasgi.groups: lifespan scopes here offer no extensions.
return function(scope, receive, send)
  if scope.type ~= "lifespan" then error("lifespan only", 0) end
  receive()
  send({type = "lasgi.group.send", group = "app.events", data = {started = true}})
  send({type = "lifespan.startup.complete"})
  receive()
  send({type = "lifespan.shutdown.complete"})
end
