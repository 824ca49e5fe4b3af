-- fault: groups.data
-- A deliberately broken LASGI app for lasgi-check's seeded-fault tests: one violation.
-- Sends a group a message whose data holds a function, as if the members could call it
-- back; data is copied, and only strings, numbers, booleans and tables can be.
return function(scope, receive, send)
  if scope.type ~= "http" then error("http only", 0) end
  repeat local ev = receive() until ev.type ~= "http.request" or not ev.more_body
  if scope.extensions["lasgi.groups"] then
    send({type = "lasgi.group.send", group = "news", data = {text = "hi", reply = function() end}})
  end
  send({type = "http.response.start", status = 200})
  send({type = "http.response.body", body = "ok"})
end
