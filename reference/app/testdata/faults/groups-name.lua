-- fault: groups.name
-- A deliberately broken LASGI app for lasgi-check's seeded-fault tests: one violation.
-- Joins a group named after a room as a person would write it, with a space, which no
-- group name may have.
return function(scope, receive, send)
  if scope.type ~= "http" then error("http only", 0) end
  repeat local ev = receive() until ev.type ~= "http.request" or not ev.more_body
  if scope.extensions["lasgi.groups"] then
    send({type = "lasgi.group.join", group = "room 1"})
  end
  send({type = "http.response.start", status = 200})
  send({type = "http.response.body", body = "ok"})
end
