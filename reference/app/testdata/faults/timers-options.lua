-- fault: timers.receive.options
-- A deliberately broken LASGI app for lasgi-check's seeded-fault tests: one violation.
-- A stream paced with lasgi.timers whose timeout went below zero (a deadline already
-- passed); a wait is never negative.
return function(scope, receive, send)
  if scope.type ~= "http" then error("http only", 0) end
  repeat local ev = receive({timeout = -1}) until ev.type ~= "http.request" or not ev.more_body
  send({type = "http.response.start", status = 200})
  send({type = "http.response.body", body = "ok"})
end
