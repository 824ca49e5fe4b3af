-- fault: groups.max-groups
-- A deliberately broken LASGI app for lasgi-check's seeded-fault tests: one violation.
-- Joins a group for each of 100 topics, past the max_groups the server offers (64 here).
return function(scope, receive, send)
  if scope.type ~= "http" then error("http only", 0) end
  repeat local ev = receive() until ev.type ~= "http.request" or not ev.more_body
  if scope.extensions["lasgi.groups"] then
    for i = 1, 100 do
      send({type = "lasgi.group.join", group = "topic." .. i})
    end
  end
  send({type = "http.response.start", status = 200})
  send({type = "http.response.body", body = "ok"})
end
