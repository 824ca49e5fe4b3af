-- A WebSocket echo (spec/websocket.md): accepts, sends every text and binary message
-- back as it came, and closes with 1000 "bye" when a client writes the text "bye".
-- An http request gets a page saying so; lifespan is not served.
return function(scope, receive, send)
  local version = type(scope.lasgi) == "table" and scope.lasgi.version
  if type(version) == "string" and version:sub(1, 2) ~= "1." then
    error("ws_echo.lua knows LASGI 1.x, not " .. version, 0) -- core.scope.version-check
  end
  if scope.type == "http" then
    send({ type = "http.response.start", status = 200, headers = { { "content-type", "text/plain" } } })
    send({ type = "http.response.body", body = "this is a WebSocket echo: connect with ws://\n" })
    return
  elseif scope.type ~= "websocket" then
    error("ws_echo.lua serves http and websocket scopes, not " .. tostring(scope.type), 0)
  end
  local event = receive()
  if event.type ~= "websocket.connect" then
    return -- the client is gone already
  end
  send({ type = "websocket.accept" })
  while true do
    event = receive()
    if event.type == "websocket.disconnect" then
      return
    elseif event.text == "bye" then
      send({ type = "websocket.close", code = 1000, reason = "bye" })
      return
    elseif event.text ~= nil then
      send({ type = "websocket.send", text = event.text })
    else
      send({ type = "websocket.send", bytes = event.bytes })
    end
  end
end
