-- slip: http.body.no-body-status
-- A deliberately broken LASGI app for lasgi-check's seeded-fault tests: one violation.
return function(scope, receive, send)
  if scope.type ~= "http" then error("http only", 0) end
  repeat local ev = receive() until ev.type ~= "http.request" or not ev.more_body
  send({type = "http.response.start", status = 204})
  send({type = "http.response.body", body = "ok"})
end
