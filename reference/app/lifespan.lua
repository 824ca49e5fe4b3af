-- LASGI reference app: lifespan (spec/lifespan.md).
-- At lifespan.startup it opens a pool into scope.state, which the server copies into every
-- request's scope of the same Lua state (a worker of its own, on a server with several);
-- requests answer from the pool; at lifespan.shutdown it closes the pool and says so on
-- stderr. The pool is a table standing for a real one (a database pool, say): it counts its
-- open connections and the queries made through it, and refuses queries once closed.
--
-- A request answers 200 text/plain "pool 1: 4 open, query 3\n": the pool's number in this Lua
-- state, its open connections, and the count of queries it served. The copy of the state is
-- shallow, so every request of a Lua state shares the one pool table. Without lifespan
-- (lasgi-serve --lifespan off, or a server with no lifespan) the state is empty and requests
-- answer "no pool: the server ran no lifespan startup\n".
local format = string.format

-- The state key, prefixed with the app's name (spec rule lifespan.state.key-names).
local POOL = "lifespan.lua:pool"
local SIZE = 4

local opened = 0 -- pools opened in this Lua state

local function open_pool()
  opened = opened + 1
  return { number = opened, open = SIZE, queries = 0 }
end

local function query(pool)
  if pool.open == 0 then
    error(format("pool %d is closed", pool.number), 0)
  end
  pool.queries = pool.queries + 1
  return pool.queries
end

local function close_pool(pool)
  local closed = pool.open
  pool.open = 0
  return closed
end

local function lifespan(scope, receive, send)
  while true do
    local event = receive()
    if event.type == "lifespan.startup" then
      local ok, pool = pcall(open_pool)
      if not ok then
        send({ type = "lifespan.startup.failed", message = tostring(pool) })
        return
      end
      scope.state[POOL] = pool
      send({ type = "lifespan.startup.complete" })
    elseif event.type == "lifespan.shutdown" then
      local pool = scope.state[POOL]
      local closed = close_pool(pool)
      io.stderr:write(format("lifespan.lua: pool %d closed: %d connections, %d queries served\n",
        pool.number, closed, pool.queries))
      send({ type = "lifespan.shutdown.complete" })
      return
    end
  end
end

local head = { type = "http.response.start", status = 200, headers = { { "content-type", "text/plain" } } }

return function(scope, receive, send)
  -- Only http and lifespan scopes of LASGI 1.x (spec rules core.app.scope-type,
  -- core.scope.version-check).
  local lasgi = scope.lasgi
  local version = type(lasgi) == "table" and lasgi.version
  if type(version) == "string" and version:sub(1, 2) ~= "1." then
    error("lifespan.lua knows LASGI 1.x, not " .. version, 0)
  end
  if scope.type == "lifespan" then
    return lifespan(scope, receive, send)
  elseif scope.type ~= "http" then
    error("lifespan.lua serves http and lifespan scopes only, not " .. tostring(scope.type), 0)
  end
  local pool = scope.state[POOL]
  local body
  if pool then
    local n = query(pool)
    body = format("pool %d: %d open, query %d\n", pool.number, pool.open, n)
  else
    body = "no pool: the server ran no lifespan startup\n"
  end
  send(head)
  send({ type = "http.response.body", body = body, more_body = false })
end
