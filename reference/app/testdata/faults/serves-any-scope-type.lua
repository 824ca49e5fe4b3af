-- fault: core.app.scope-type
-- A deliberately broken LASGI app for lasgi-check's seeded-fault tests: one violation.
return function(scope, receive, send)
  repeat local ev = receive() until ev.type ~= "http.request" or not ev.more_body
  send({type = "http.response.start", status = 200})
  send({type = "http.response.body", body = "ok"})
end
