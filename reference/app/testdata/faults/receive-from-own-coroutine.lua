-- fault: core.call.same-coroutine
-- A deliberately broken LASGI app for lasgi-check's seeded-fault tests: one violation.
-- It reads the request from a coroutine of its own, as a helper library might.
return function(scope, receive, send)
  if scope.type ~= "http" then error("http only", 0) end
  local reader = coroutine.create(function()
    repeat local ev = receive() until ev.type ~= "http.request" or not ev.more_body
  end)
  local ok, err = coroutine.resume(reader)
  if not ok then error(err, 0) end
  send({type = "http.response.start", status = 200})
  send({type = "http.response.body", body = "ok"})
end
