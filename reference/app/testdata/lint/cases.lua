-- Cases for the lint driver (drive.lua): valid and invalid apps and scopes, each with the
-- outcome the lint must give (a rule ID, "ok", or "error" for an app's own error).

local function req(body, more)
  return { type = "http.request", body = body, more_body = more }
end

local function drain(receive)
  repeat
    local ev = receive()
  until ev.type ~= "http.request" or not ev.more_body
end

-- respond is an app that drains the request and sends the events in order.
local function respond(...)
  local events = { ... }
  return function(scope, receive, send)
    if scope.type ~= "http" then
      error("http only", 0)
    end
    drain(receive)
    for i = 1, #events do
      send(events[i])
    end
  end
end

local function start(status, headers, trailers)
  return { type = "http.response.start", status = status, headers = headers, trailers = trailers }
end

local function body(b, more)
  return { type = "http.response.body", body = b, more_body = more }
end

local function trailers(headers, more)
  return { type = "http.response.trailers", headers = headers, more_trailers = more }
end

local hello = respond(start(200, { { "content-type", "text/plain" } }), body("Hello World!"))

-- scoped is a case of hello.lua in a scope changed by change(scope).
local function scoped(name, want, change)
  return { name = name, want = want, app = hello, scope = change }
end

local kept_send -- send kept by an app past its return
local kept_scope -- a scope table handed to a second call

return {
  -- Valid exchanges
  { name = "hello", want = "ok", app = hello },
  { name = "empty-defaults", want = "ok", app = respond({ type = "http.response.start", status = 200 }, { type = "http.response.body" }) },
  { name = "stream-with-content-length", want = "ok",
    app = respond(start(200, { { "content-length", "6" }, { "content-length", "006" } }),
      body("abc", true), body("", true), body("def", true), body("", false)) },
  { name = "status-float-integral", want = "ok", app = respond(start(200.0), body("x")) },
  { name = "no-content", want = "ok", app = respond(start(204), body("")) },
  { name = "trailers", want = "ok",
    app = respond(start(200, { { "trailer", "x-sum" } }, true), body("a", true), body("b"),
      trailers({ { "x-sum", "1" } }, true), trailers({})) },
  { name = "echo-body-in-pieces", want = "ok",
    events = { req("ab", true), req("", true), req("c", false) },
    app = function(scope, receive, send)
      local parts = {}
      repeat
        local ev = receive()
        parts[#parts + 1] = ev.body
      until not ev.more_body
      send(start(200))
      send(body(table.concat(parts)))
    end },
  { name = "disconnect-before-response", want = "ok",
    events = { req("a", true) },
    app = function(scope, receive, send)
      repeat
        local ev = receive()
        if ev.type == "http.disconnect" then
          return
        end
      until not ev.more_body
      send(start(200))
      send(body("never"))
    end },
  { name = "wait-for-disconnect-after-response", want = "ok",
    app = function(scope, receive, send)
      drain(receive)
      send(start(200))
      send(body("done"))
      local ev = receive()
      assert(ev.type == "http.disconnect")
      ev = receive()
      assert(ev.type == "http.disconnect")
    end },
  { name = "disconnected-error-caught", want = "ok", raise = { [1] = "lasgi: disconnected: the client went away" },
    app = function(scope, receive, send)
      drain(receive)
      local ok, err = pcall(send, start(200))
      assert(not ok and string.find(err, "lasgi: disconnected:", 1, true))
    end },
  { name = "disconnected-error-passes", want = "error", raise = { [2] = "lasgi: disconnected: the client went away" },
    app = respond(start(200), body("x")) },
  { name = "server-error-passes", want = "error", raise = { [1] = "lasgi: x.y.z: a check only this server makes" },
    app = respond(start(200), body("x")) },
  { name = "lint-error-caught-then-corrected", want = "ok",
    app = function(scope, receive, send)
      drain(receive)
      local ok, err = pcall(send, start("200"))
      assert(not ok and string.find(err, "^lasgi%-lint: http%.start%.status%-type: "))
      send(start(200))
      send(body("x"))
    end },
  { name = "callable-table", want = "ok",
    app = setmetatable({}, { __call = function(self, scope, receive, send)
      return hello(scope, receive, send)
    end }) },
  { name = "unix-socket-server", want = "ok", app = hello,
    scope = function(s)
      s.server = { "/run/app.sock" }
      s.client = nil
    end },
  { name = "http2-scope", want = "ok", app = hello,
    scope = function(s)
      s.http_version = "2"
      s.scheme = "https"
    end },
  { name = "path-with-invalid-utf8", want = "ok", app = hello,
    scope = function(s)
      s.raw_path = "/a%FF%E2%82/%2F"
      s.path = "/a\239\191\189\239\191\189//"
    end },
  { name = "asterisk", want = "ok", app = hello,
    scope = function(s)
      s.method, s.path, s.raw_path = "OPTIONS", "*", "*"
    end },
  { name = "websocket-passes", want = "ok",
    app = function(scope, receive, send)
      assert(scope.type == "websocket")
      send({ type = "websocket.close" })
    end,
    scope = function(s)
      s.type = "websocket"
      s.scheme = "ws"
      s.subprotocols = {}
    end },
  { name = "unknown-type-refused", want = "error",
    app = hello, scope = function(s) s.type = "x-unknown" end },
  { name = "unknown-major-refused", want = "error",
    app = function(scope, receive, send)
      if not string.find(scope.lasgi.version, "^1%.") then
        error("unsupported LASGI version " .. scope.lasgi.version, 0)
      end
      return hello(scope, receive, send)
    end,
    scope = function(s) s.lasgi = { version = "2.0" } end },
  { name = "offered-extension-event", want = "ok",
    app = respond(start(200), { type = "http.response.pathsend", path = "/srv/file" }),
    scope = function(s) s.extensions["http.response.pathsend"] = {} end },
  { name = "later-minor-event-ignored", want = "ok",
    events = { { type = "http.future" }, req("", false) },
    app = function(scope, receive, send)
      local ev
      repeat
        ev = receive()
      until ev.type == "http.request"
      send(start(200))
      send(body(""))
    end,
    scope = function(s) s.lasgi = { version = "1.3" } end },

  -- What the app sends
  { name = "event-not-table", want = "core.send.event-table", app = respond("http.response.start") },
  { name = "type-missing", want = "core.send.type", app = respond({ status = 200 }) },
  { name = "type-unknown", want = "core.send.type", app = respond({ type = "http.response.begin" }) },
  { name = "status-string", want = "http.start.status-type", app = respond(start("200"), body("")) },
  { name = "status-float", want = "http.start.status-type", app = respond(start(200.5), body("")) },
  { name = "status-nan", want = "http.start.status-type", app = respond(start(0 / 0), body("")) },
  { name = "status-inf", want = "http.start.status-type", app = respond(start(math.huge), body("")) },
  { name = "status-missing", want = "http.start.status-type", app = respond({ type = "http.response.start" }) },
  { name = "status-1xx", want = "http.start.status-range", app = respond(start(103), body("")) },
  { name = "status-huge", want = "http.start.status-range", app = respond(start(1e12), body("")) },
  { name = "headers-map", want = "http.start.headers-type", app = respond(start(200, { ["x-a"] = "1" }), body("")) },
  { name = "headers-holes", want = "http.start.headers-type", app = respond(start(200, { [1] = { "x-a", "1" }, [3] = { "x-b", "2" } }), body("")) },
  { name = "header-single", want = "http.start.headers-type", app = respond(start(200, { { "x-a" } }), body("")) },
  { name = "header-three", want = "http.start.headers-type", app = respond(start(200, { { "x-a", "1", "2" } }), body("")) },
  { name = "header-extra-key", want = "http.start.headers-type", app = respond(start(200, { { "x-a", "1", note = "n" } }), body("")) },
  { name = "header-number-value", want = "http.start.headers-type", app = respond(start(200, { { "x-a", 1 } }), body("")) },
  { name = "types-before-names", want = "http.start.headers-type", app = respond(start(200, { { "X-A", "1" }, { "x-b", 2 } }), body("")) },
  { name = "header-uppercase", want = "warn:http.headers.name-lowercase", app = respond(start(200, { { "X-A", "1" } }), body("")) },
  { name = "header-uppercase-strict", want = "http.headers.name-lowercase", strict = true, app = respond(start(200, { { "X-A", "1" } }), body("")) },
  { name = "header-uppercase-then-bad-body", want = "http.body.body-type", app = respond(start(200, { { "X-A", "1" } }), body(42)) },
  { name = "header-space", want = "http.headers.valid-bytes", app = respond(start(200, { { "x a", "1" } }), body("")) },
  { name = "header-empty-name", want = "http.headers.valid-bytes", app = respond(start(200, { { "", "1" } }), body("")) },
  { name = "header-pseudo", want = "http.headers.valid-bytes", app = respond(start(200, { { ":status", "200" } }), body("")) },
  { name = "header-crlf", want = "http.headers.valid-bytes", app = respond(start(200, { { "x-a", "1\r\nx-b: 2" } }), body("")) },
  { name = "header-nul", want = "http.headers.valid-bytes", app = respond(start(200, { { "x-a", "1\0" } }), body("")) },
  { name = "trailers-number", want = "http.start.trailers-type", app = respond(start(200, nil, 1), body("")) },
  { name = "content-length-word", want = "http.body.content-length", app = respond(start(200, { { "content-length", "two" } }), body("")) },
  { name = "content-length-signed", want = "http.body.content-length", app = respond(start(200, { { "content-length", "+2" } }), body("ab")) },
  { name = "content-length-negative-zero", want = "http.body.content-length", app = respond(start(200, { { "content-length", "-0" } }), body("")) },
  { name = "content-length-too-big", want = "http.body.content-length", app = respond(start(200, { { "content-length", "9223372036854775808" } }), body("")) },
  { name = "content-length-repeated-differs", want = "http.body.content-length", app = respond(start(200, { { "content-length", "2" }, { "content-length", "3" } }), body("ab")) },
  { name = "content-length-exceeded", want = "http.body.content-length", app = respond(start(200, { { "content-length", "3" } }), body("ab", true), body("cd")) },
  { name = "body-before-start", want = "http.start.first", app = respond(body("ok"), start(200)) },
  { name = "trailers-before-start", want = "http.start.first", app = respond(trailers({})) },
  { name = "start-twice", want = "http.start.once", app = respond(start(200), start(200), body("")) },
  { name = "body-number", want = "http.body.body-type", app = respond(start(200), body(42)) },
  { name = "more-body-string", want = "http.body.more-body-type", app = respond(start(200), body("ok", "no")) },
  { name = "body-on-204", want = "warn:http.body.no-body-status", app = respond(start(204), body("x")) },
  { name = "body-on-204-strict", want = "http.body.no-body-status", strict = true, app = respond(start(204), body("x")) },
  { name = "body-on-304", want = "warn:http.body.no-body-status", app = respond(start(304), body("", true), body("x")) },
  { name = "trailers-without-flag", want = "http.trailers.requires-flag", app = respond(start(200), body("ok", true), trailers({})) },
  { name = "trailers-before-last-body", want = "http.trailers.after-body", app = respond(start(200, nil, true), body("ok", true), trailers({})) },
  { name = "body-after-last-with-trailers", want = "http.trailers.after-body", app = respond(start(200, nil, true), body("a"), body("b")) },
  { name = "trailers-headers-map", want = "http.trailers.headers-type", app = respond(start(200, nil, true), body("a"), trailers({ ["x-a"] = "1" })) },
  { name = "trailer-header-uppercase", want = "warn:http.headers.name-lowercase", app = respond(start(200, nil, true), body("a"), trailers({ { "X-A", "1" } })) },
  { name = "more-trailers-string", want = "http.trailers.more-trailers-type", app = respond(start(200, nil, true), body("a"), trailers({}, "no")) },
  { name = "trailers-not-offered", want = "http.trailers.offered", app = respond(start(200, nil, true), body("a"), trailers({})),
    scope = function(s) s.extensions = {} end },
  { name = "trailers-event-not-offered", want = "core.extensions.offered-only", app = respond(start(200), body("a", true), trailers({})),
    scope = function(s) s.extensions = {} end },
  { name = "send-after-complete", want = "http.send.after-complete", app = respond(start(200), body("ok"), body("late")) },
  { name = "unknown-type-after-complete", want = "http.send.after-complete", app = respond(start(200), body("ok"), { type = "http.response.begin" }) },
  { name = "send-after-trailers", want = "http.send.after-complete", app = respond(start(200, nil, true), body("a"), trailers({}), trailers({})) },
  { name = "send-after-return", want = "ok", after_want = "core.call.same-coroutine",
    app = function(scope, receive, send)
      kept_send = send
      return hello(scope, receive, send)
    end,
    after = function()
      kept_send(body("late"))
    end },

  -- How the app ends
  { name = "return-without-response", want = "core.app.complete-response", app = respond() },
  { name = "start-and-return", want = "core.app.complete-response", app = respond(start(200)) },
  { name = "body-never-ends", want = "core.app.complete-response", app = respond(start(200), body("ok", true)) },
  { name = "trailers-never-sent", want = "http.trailers.required", app = respond(start(200, nil, true), body("ok")) },
  { name = "more-trailers-never-end", want = "http.trailers.required", app = respond(start(200, nil, true), body("ok"), trailers({}, true)) },
  { name = "many-events-never-end", want = "core.app.complete-response",
    app = respond(start(200), body("1", true), body("2", true), body("3", true), body("4", true), body("5", true),
      body("6", true), body("7", true), body("8", true), body("9", true)) },
  { name = "ignores-disconnect", want = "warn:http.disconnect.app-return",
    events = { req("a", true) },
    app = function(scope, receive, send)
      for _ = 1, 50 do
        local ev = receive()
        if ev.type == "http.request" and not ev.more_body then
          break
        end
      end
    end },
  { name = "ignores-disconnect-strict", want = "http.disconnect.app-return", strict = true,
    events = { req("a", true) },
    app = function(scope, receive, send)
      while true do
        local ev = receive()
        if ev.type == "http.request" and not ev.more_body then
          break
        end
      end
      send(start(200))
      send(body("ok"))
    end },
  -- SHOULD rules: a warning, and the app goes on; raised under {strict = true}.
  { name = "serves-any-scope-type", want = "warn:core.app.scope-type",
    app = function(scope, receive, send)
      drain(receive)
      send(start(200))
      send(body("ok"))
    end,
    scope = function(s) s.type = "x-unknown" end },
  { name = "returns-from-any-scope-type", want = "warn:core.app.scope-type",
    app = function() end,
    scope = function(s) s.type = "x-unknown" end },
  { name = "returns-from-any-scope-type-strict", want = "core.app.scope-type", strict = true,
    app = function() end,
    scope = function(s) s.type = "x-unknown" end },
  { name = "serves-any-major-version", want = "warn:core.scope.version-check", app = hello,
    scope = function(s) s.lasgi = { version = "2.0" } end },
  { name = "serves-any-major-version-strict", want = "core.scope.version-check", strict = true, app = hello,
    scope = function(s) s.lasgi = { version = "2.0" } end },
  { name = "starts-in-unknown-scope-then-returns", want = "warn:core.app.scope-type",
    app = function(scope, receive, send)
      send(start(200))
    end,
    scope = function(s) s.type = "x-unknown" end },
  { name = "app-error-passes", want = "error",
    app = function()
      error("boom", 0)
    end },

  -- What the server hands the app
  { name = "not-callable", want = "core.app.callable", app = { handler = hello } },
  { name = "scope-not-table", want = "core.call.once", app = hello, scope = function() return "http" end },
  { name = "scope-kept", want = "ok", app = hello, scope = function(s) kept_scope = s end },
  { name = "scope-reused", want = "core.scope.fresh", app = hello, scope = function() return kept_scope end },
  { name = "scope-type-number", want = "core.scope.type", app = hello, scope = function(s) s.type = 1 end },
  { name = "scope-key-number", want = "core.value.table-keys", app = hello, scope = function(s) s[1] = "x" end },
  { name = "websocket-asgi-version", want = "core.scope.asgi", app = hello,
    scope = function(s)
      s.type = "websocket"
      s.asgi = { version = "2.0", spec_version = "2.5" }
    end },
  { name = "unknown-type-checked-as-http", want = "http.start.status-type",
    app = function(scope, receive, send)
      send(start("200"))
    end,
    scope = function(s) s.type = "x-unknown" end },
  { name = "scope-lasgi-missing", want = "core.scope.lasgi", app = hello, scope = function(s) s.lasgi = nil end },
  { name = "scope-lasgi-bad-version", want = "core.scope.lasgi", app = hello, scope = function(s) s.lasgi = { version = "1" } end },
  scoped("scope-asgi-spec-version", "http.scope.asgi-version", function(s) s.asgi = { version = "3.0", spec_version = "2.4" } end),
  scoped("scope-http-version", "http.scope.http-version", function(s) s.http_version = "1.2" end),
  scoped("scope-method-lowercase", "http.scope.method", function(s) s.method = "get" end),
  scoped("scope-method-empty", "http.scope.method", function(s) s.method = "" end),
  scoped("scope-scheme", "http.scope.scheme", function(s) s.scheme = "" end),
  scoped("scope-path-missing", "http.scope.path", function(s) s.path = nil end),
  scoped("scope-path-not-utf8", "http.scope.path", function(s) s.path, s.raw_path = "/a\255", "/a%FF" end),
  scoped("scope-path-not-decoded", "http.scope.path", function(s) s.path = s.raw_path end),
  scoped("scope-path-root-stripped", "http.scope.root-path-in-path", function(s) s.root_path, s.path, s.raw_path = "/app", "/x", "/x" end),
  scoped("scope-path-root-other-segment", "http.scope.root-path-in-path", function(s) s.root_path, s.path, s.raw_path = "/app", "/appx", "/appx" end),
  scoped("scope-raw-path-number", "http.scope.raw-path", function(s) s.raw_path = 1 end),
  scoped("scope-raw-path-query", "http.scope.raw-path", function(s) s.path, s.raw_path = "/a", "/a?b" end),
  scoped("scope-query-missing", "http.scope.query-string", function(s) s.query_string = nil end),
  scoped("scope-root-path-missing", "http.scope.root-path", function(s) s.root_path = nil end),
  scoped("scope-headers-map", "http.scope.headers", function(s) s.headers = { host = "example.test" } end),
  scoped("scope-header-number", "http.scope.headers", function(s) s.headers = { { "x-n", 1 } } end),
  scoped("scope-header-uppercase", "http.scope.header-names-lowercase", function(s) s.headers = { { "Host", "example.test" } } end),
  scoped("scope-header-untrimmed", "http.scope.header-values", function(s) s.headers = { { "host", " example.test" } } end),
  scoped("scope-pseudo-header", "http.scope.pseudo-headers", function(s)
    s.http_version = "2"
    s.headers = { { ":authority", "example.test" } }
  end),
  scoped("scope-client-port-string", "http.scope.client", function(s) s.client = { "127.0.0.1", "51000" } end),
  scoped("scope-client-port-float", "http.scope.client", function(s) s.client = { "127.0.0.1", 1.5 } end),
  scoped("scope-server-map", "http.scope.server", function(s) s.server = { host = "127.0.0.1", port = 8000 } end),
  scoped("scope-state-missing", "http.scope.state", function(s) s.state = nil end),
  scoped("scope-extensions-missing", "http.scope.extensions", function(s) s.extensions = nil end),
  scoped("scope-extension-entry", "core.extensions.entry", function(s) s.extensions = { ["http.response.trailers"] = true } end),

  { name = "receive-not-table", want = "core.receive.event", events = { "http.request" }, app = hello },
  { name = "receive-two-values", want = "core.receive.event",
    events = { function() return req("", false), "extra" end }, app = respond(start(200), body("")) },
  { name = "receive-nothing", want = "core.receive.event",
    events = { function() end }, app = respond(start(200), body("")) },
  { name = "receive-type-missing", want = "core.receive.event", events = { { body = "" } }, app = respond(start(200), body("")) },
  { name = "receive-body-number", want = "http.request.body-type", events = { { type = "http.request", body = 1, more_body = false } },
    app = respond(start(200), body("")) },
  { name = "receive-body-missing", want = "core.receive.complete-keys", events = { { type = "http.request", more_body = false } },
    app = respond(start(200), body("")) },
  { name = "receive-more-body-missing", want = "core.receive.complete-keys", events = { { type = "http.request", body = "" } },
    app = respond(start(200), body("")) },
  { name = "receive-more-body-string", want = "core.value.boolean", events = { { type = "http.request", body = "", more_body = "no" } },
    app = respond(start(200), body("")) },
  { name = "receive-request-after-last", want = "http.request.more-body", events = { req("a", false), req("b", false) },
    app = function(scope, receive, send)
      receive()
      receive()
    end },
  { name = "receive-request-after-disconnect", want = "http.disconnect.repeat",
    events = { req("a", true), { type = "http.disconnect" }, req("b", false) },
    app = function(scope, receive, send)
      receive()
      receive()
      receive()
    end },
  { name = "receive-unknown-before-body", want = "http.request.first", events = { { type = "http.future" } }, app = hello },
  { name = "receive-unknown-after-body", want = "http.disconnect.wait", events = { req("", false), { type = "http.future" } },
    app = function(scope, receive, send)
      receive()
      receive()
    end },
  { name = "receive-same-table", want = "core.receive.fresh",
    events = (function()
      local ev = req("a", true)
      return { ev, ev }
    end)(),
    app = function(scope, receive, send)
      receive()
      receive()
    end },
}
