-- fault: groups.data.size
-- A deliberately broken LASGI app for lasgi-check's seeded-fault tests: one violation.
-- Sends a group a message of 64 KiB of text, forgetting that the size the server offers
-- (max_message_bytes, 65536 here) counts the table and its key too.
return function(scope, receive, send)
  if scope.type ~= "http" then error("http only", 0) end
  repeat local ev = receive() until ev.type ~= "http.request" or not ev.more_body
  local groups = scope.extensions["lasgi.groups"]
  if groups then
    send({type = "lasgi.group.send", group = "news", data = {text = string.rep("x", groups.max_message_bytes)}})
  end
  send({type = "http.response.start", status = 200})
  send({type = "http.response.body", body = "ok"})
end
