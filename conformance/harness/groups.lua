-- The lasgi.groups extension (spec/groups.md) as lasgi-check's harness (harness.lua) plays
-- it, inside the one app call a case runs. That call is the only member its groups can
-- have: a join makes it one, a lasgi.group.send to a group it is a member of comes back to
-- its own receive() as lasgi.group.message, a copy of the data made when it was sent, and
-- its memberships end with the call. Messages and the client's events come in the order
-- they reached the call; a client's event reaches it once the app has taken the one before
-- (the first at once, a websocket's first message once the app answered the handshake), as
-- lasgi-check's in-process checker pushes them. The events are checked as the reference engine checks
-- them (luatype.DecodeFor, groups.Encoder, bridge.Call), raising "lasgi: groups.*: ..." at
-- level 0; the limits are those the case's scope offers.
--
-- dofile("groups.lua")(describe) returns the module; describe(v) names a value in a
-- message as the engine does.
return function(describe)
  local M = {}

  local EXT = "lasgi.groups"
  local JOIN, LEAVE, SEND = "lasgi.group.join", "lasgi.group.leave", "lasgi.group.send"
  local MESSAGE = "lasgi.group.message"
  local MAX_NAME, MAX_DEPTH = 99, 32 -- event.MaxGroupName, event.MaxGroupDepth
  local format, find, byte, next, rawget, type = string.format, string.find, string.byte, next, rawget, type

  local function raise(rule, detail)
    error("lasgi: " .. rule .. ": " .. detail, 0)
  end

  -- offer is the lasgi.groups entry of scope, or nil when it does not offer groups.
  function M.offer(scope)
    local ext = type(scope) == "table" and rawget(scope, "extensions")
    local entry = type(ext) == "table" and rawget(ext, EXT)
    return type(entry) == "table" and entry or nil
  end

  -- check_name raises groups.name unless name is one (event.CheckGroupName).
  local function check_name(name)
    if type(name) ~= "string" then
      raise("groups.name", "group must be a string, got " .. describe(name))
    end
    if #name == 0 or #name > MAX_NAME then
      raise("groups.name", format("a group name is 1 to %d characters, got %d", MAX_NAME, #name))
    end
    local at = find(name, "[^%w._-]")
    if at then
      raise("groups.name", format("group name %q has %q at byte %d: only ASCII letters, digits, '.', '_'"
        .. " and '-'", name, string.char(byte(name, at)), at))
    end
  end

  -- copy returns a copy of the data table t at depth, with the size it has counted so far
  -- (as groups.Encoder counts it: 5 a table, 5 plus its length a string, 9 a number, 1 a
  -- boolean, keys and values), raising groups.data or groups.data.size where the encoder
  -- stops: a table too deep before its size, a key or value's kind before its size.
  local function copy(t, depth, size, max)
    if depth > MAX_DEPTH then
      raise("groups.data", format("data nests tables more than %d deep (a table that holds itself nests"
        .. " without end)", MAX_DEPTH))
    end
    local function grow(n)
      size = size + n
      if size > max then
        raise("groups.data.size", format("data is larger than max_message_bytes, %d bytes, as groups.md counts it", max))
      end
    end
    grow(5)
    local out = {}
    for k, v in next, t do
      local tk = type(k)
      if tk == "string" then
        grow(5 + #k)
      elseif tk == "number" and k == k then
        grow(9)
      else
        raise("groups.data", "data keys must be strings or numbers other than NaN, found a key " .. describe(k))
      end
      local tv = type(v)
      if tv == "string" then
        grow(5 + #v)
      elseif tv == "number" then
        grow(9)
      elseif tv == "boolean" then
        grow(1)
      elseif tv == "table" then
        v, size = copy(v, depth + 1, size, max)
      else
        raise("groups.data", "data values must be strings, numbers, booleans or tables, found " .. describe(v))
      end
      out[k] = v
    end
    return out, size
  end

  -- new makes the groups of one call in scope, of type scope_type, with the limits it offers:
  -- arrived() is how many of the client's events have reached the server so far, open()
  -- whether the call still takes messages (its client there and its side not over, as
  -- bridge.Call.Deliver has it). It returns:
  --   send(ev)  does ev when it is a group event, and says whether it was;
  --   took()    the harness handed the app one of the client's events;
  --   take()    the message receive() returns before the client's next event, or nil: one
  --             that reached the call before that event did (groups.receive.order), with
  --             the count of those dropped since the last one taken (groups.dropped);
  -- In a scope that does not offer groups, send raises for a group event what the engine
  -- raises for an event of a type it does not know (lasgi-check names the rule the app broke).
  function M.new(scope, scope_type, arrived, open)
    local limits = M.offer(scope)
    if not limits then
      local function refuse(ev)
        local typ = type(ev) == "table" and rawget(ev, "type")
        if typ == JOIN or typ == LEAVE or typ == SEND then
          raise("core.send.type", format("%q is not an event an app sends in %s %s scope", typ,
            scope_type == "http" and "an" or "a", scope_type))
        end
        return false
      end
      return refuse, function() end, function() return nil end
    end
    local max_bytes, max_groups, bound = limits.max_message_bytes, limits.max_groups, limits.queue
    local member, members = {}, 0
    -- The queue, each message with the client's events that had arrived before it.
    -- (head and tail, since # is no length for a table with a hole at its front)
    local queue, head, tail, dropped, handed = {}, 1, 0, 0, 0

    local function send(ev)
      local typ = type(ev) == "table" and rawget(ev, "type")
      if typ ~= JOIN and typ ~= LEAVE and typ ~= SEND then
        return false
      end
      if scope_type == "lifespan" and typ ~= SEND then
        raise("groups.lifespan.send-only", typ .. " in a lifespan scope: a lifespan call may send to groups, not"
          .. " join or leave them")
      end
      local name = rawget(ev, "group")
      check_name(name)
      if typ == JOIN then
        if not member[name] then
          if members >= max_groups then
            raise("groups.max-groups", format("the call is a member of %d groups already, max_groups; join of %q"
              .. " refused", members, name))
          end
          member[name], members = true, members + 1
        end
      elseif typ == LEAVE then
        if member[name] then
          member[name], members = nil, members - 1
        end
      else
        local data = rawget(ev, "data")
        if type(data) ~= "table" then
          raise("groups.data", "data must be a table, got " .. describe(data))
        end
        local message = copy(data, 1, 0, max_bytes)
        if member[name] and open() then
          if tail - head + 1 >= bound then
            dropped = dropped + 1
          else
            tail = tail + 1
            queue[tail] = {group = name, data = message, after = arrived()}
          end
        end
      end
      return true
    end

    local function took()
      handed = handed + 1
    end

    local function take()
      local m = queue[head]
      if m == nil or m.after > handed then
        return nil
      end
      queue[head], head = nil, head + 1
      local ev = {type = MESSAGE, group = m.group, data = m.data}
      if dropped > 0 then
        ev.dropped, dropped = dropped, 0
      end
      return ev
    end

    return send, took, take
  end

  return M
end
