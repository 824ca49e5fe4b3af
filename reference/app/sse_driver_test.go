package app_test

import (
	"context"
	"fmt"

	lua "github.com/yuin/gopher-lua"

	"github.com/lasgi/lasgi/reference/app"
)

const sseName = "sse.lua"

// sseDriver plays a server offering lasgi.timers to an app on a virtual clock, under
// lua5.1, lua5.4, luajit and gopher-lua alike.
//
// As a script:  lua sse_drive.lua APPFILE < INPUT   (writes the transcript to stdout)
// As a chunk:   returns drive(app, input) -> transcript.
//
// INPUT returns {scope, start, late, late_at, leave, events}: the clock starts at
// `start` seconds (os.time() is its whole seconds while the app runs); receive() hands
// out `events` first, then: http.disconnect once the clock reaches `leave` (a wait
// that would pass it ends there), else, for receive({timeout = T}), lasgi.timeout
// after T seconds plus the server's lateness (late_at[i] for the i-th such wait, else
// `late`). The transcript has one line per call:
//
//	receive T|- @TIME -> TYPE    T: the timeout asked for, "-" for none
//	start STATUS NAME: VALUE; ... @TIME
//	more|last "BODY" @TIME       a body part, more_body true or false (\n written \n)
//	return @TIME | error MESSAGE
const sseDriver = `
local function esc(s)
  return (string.gsub(s, "[%c\\\"]", function(c)
    if c == "\n" then return "\\n" end
    return string.format("\\%03d", string.byte(c))
  end))
end

local function drive(app, input)
  local out = {}
  local now = input.start
  local late, late_at = input.late or 0, input.late_at or {}
  local events, next_event, waits = input.events or {}, 1, 0
  local leave = input.leave
  local function add(line)
    if #out >= 5000 then error("driver: more than 5000 records", 0) end
    out[#out + 1] = line
  end
  local function at() return string.format(" @%.3f", now) end
  local function receive(opts)
    local asked = "-"
    if opts ~= nil and opts.timeout ~= nil then asked = string.format("%.3f", opts.timeout) end
    local line = "receive " .. asked .. at()
    local ev
    if events[next_event] ~= nil then
      ev = events[next_event]
      next_event = next_event + 1
    elseif leave ~= nil and leave <= now then
      ev = {type = "http.disconnect"}
    elseif asked == "-" then
      if leave == nil then error("driver: receive() without a timeout, and the client never leaves", 0) end
      now = leave
      ev = {type = "http.disconnect"}
    elseif leave ~= nil and leave <= now + opts.timeout then
      now = leave
      ev = {type = "http.disconnect"}
    else
      waits = waits + 1
      now = now + opts.timeout + (late_at[waits] or late)
      ev = {type = "lasgi.timeout"}
    end
    add(line .. " -> " .. ev.type)
    return ev
  end
  local function send(ev)
    if ev.type == "http.response.start" then
      local h = {}
      for i, kv in ipairs(ev.headers or {}) do h[i] = kv[1] .. ": " .. kv[2] end
      add("start " .. tostring(ev.status) .. " " .. table.concat(h, "; ") .. at())
    elseif ev.type == "http.response.body" then
      add((ev.more_body and "more" or "last") .. ' "' .. esc(ev.body or "") .. '"' .. at())
    else
      add("send " .. tostring(ev.type) .. at())
    end
  end
  local real_time = os.time
  os.time = function(t)
    if t ~= nil then return real_time(t) end
    return math.floor(now)
  end
  local ok, err = pcall(app, input.scope, receive, send)
  os.time = real_time
  if ok then add("return" .. at()) else add("error " .. esc(tostring(err))) end
  return table.concat(out, "\n") .. "\n"
end

if arg ~= nil and arg[1] ~= nil then
  local input = (loadstring or load)(io.read("*a"))()
  io.write(drive(dofile(arg[1]), input))
else
  return drive
end
`

// sseRun is one virtual-clock run: the query, the request's events and the
// server's behaviour.
type sseRun struct {
	method  string // default GET
	query   string
	scope   func(s map[string]any) // changes to the scope, after method and query
	events  []map[string]any       // default: one http.request, the whole (empty) body
	late    float64                // lateness of every wait, seconds
	lateAt  map[int]float64        // lateness of the i-th wait (from 1), instead
	leave   float64                // virtual time the client leaves at; 0: never
	noEvent bool                   // no request events at all (events nil means the default)
}

// sseStart is the virtual clock's start: a quarter past a whole second, so that
// os.time() and the app's clock do not move together.
const sseStart = 1000.25

func (r sseRun) input() string {
	s := scopeWith(func(s map[string]any) {
		s["method"] = "GET"
		s["extensions"] = map[string]any{"http.response.trailers": map[string]any{}, "lasgi.timers": map[string]any{}}
	})
	if r.method != "" {
		s["method"] = r.method
	}
	s["query_string"] = r.query
	if r.scope != nil {
		r.scope(s)
	}
	events := r.events
	if events == nil && !r.noEvent {
		events = []map[string]any{req("", false)}
	}
	evs := make([]any, len(events))
	for i, e := range events {
		evs[i] = e
	}
	in := map[string]any{"scope": s, "start": sseStart, "late": r.late, "events": evs}
	if r.leave > 0 {
		in["leave"] = sseStart + r.leave
	}
	if len(r.lateAt) > 0 {
		var t luaTable
		for i, l := range r.lateAt {
			t = append(t, luaKV{i, l})
		}
		in["late_at"] = t
	}
	return "return " + luaLiteral(in) + "\n"
}

// runSSEDriver runs sse.lua under the virtual-clock driver on interp (gopher-lua in
// process, else the real interpreter with the driver file at driverFile).
func runSSEDriver(ctx context.Context, interp, driverFile, input string) (string, error) {
	if interp != gopherLua {
		return runScript(ctx, interp, input, driverFile, sseName)
	}
	L := lua.NewState()
	defer L.Close()
	L.SetContext(ctx)
	drive, err := chunkValue(L, []byte(sseDriver), "sse_drive.lua")
	if err != nil {
		return "", err
	}
	src, err := app.Source(sseName)
	if err != nil {
		return "", err
	}
	appFn, err := chunkValue(L, src, sseName)
	if err != nil {
		return "", err
	}
	in, err := chunkValue(L, []byte(input), "input")
	if err != nil {
		return "", err
	}
	return callForString(L, "drive "+sseName, drive, appFn, in)
}

// Lines of the expected transcripts.

// at is a virtual time, seconds after sseStart.
func sseAt(t float64) string { return fmt.Sprintf(" @%.3f", sseStart+t) }

func sseHead(t float64) string {
	return "start 200 content-type: text/event-stream; cache-control: no-cache; x-accel-buffering: no" + sseAt(t)
}
func sseBeat(t float64) string { return `more ": heartbeat\n\n"` + sseAt(t) }
func sseEvent(n int, t float64, last bool) string {
	kind := "more"
	if last {
		kind = "last"
	}
	return fmt.Sprintf(`%s "id: %d\ndata: %d %d\n\n"`, kind, n, n, int(sseStart+t)) + sseAt(t)
}
func sseWait(timeout, t float64, got string) string {
	return fmt.Sprintf("receive %.3f", timeout) + sseAt(t) + " -> " + got
}
func sseBody(t float64) string   { return "receive -" + sseAt(t) + " -> http.request" }
func sseReturn(t float64) string { return "return" + sseAt(t) }

// sseAnswer is a text/plain answer: the start and the one body.
func sseAnswer(status int, text string, extra ...string) []string {
	head := fmt.Sprintf("start %d content-type: text/plain", status)
	for _, h := range extra {
		head += "; " + h
	}
	return []string{head + sseAt(0), `last "sse.lua: ` + text + `\n"` + sseAt(0), sseReturn(0)}
}

func sseError(msg string) []string { return []string{"error " + msg} }

// ticks is the transcript of events 1..n at interval seconds, each wait late by late
// seconds, after the body and the first heartbeat at time 0; the last one completes
// the response when last.
func sseTicks(interval, late float64, n int, last bool) []string {
	out := []string{sseBody(0), sseHead(0), sseBeat(0)}
	t := 0.0
	for i := 1; i <= n; i++ {
		out = append(out, sseWait(interval, t, "lasgi.timeout"))
		t += interval + late
		out = append(out, sseEvent(i, t, last && i == n))
	}
	if last {
		out = append(out, sseReturn(t))
	}
	return out
}

const sseBadInterval = "interval must be a decimal number of seconds from 0.05 to 60"
