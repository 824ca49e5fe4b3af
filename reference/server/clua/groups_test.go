//go:build lua54 || luajit

package clua_test

import (
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/reference/server/bridge"
	"github.com/lasgi/lasgi/reference/server/clua"
	"github.com/lasgi/lasgi/reference/server/engine"
	"github.com/lasgi/lasgi/reference/server/groups"
	"github.com/lasgi/lasgi/spec/event"
)

// recordingHub is the in-process hub, keeping what each group was sent:
// the bytes the engine encoded, for groups.Decode.
type recordingHub struct {
	*groups.Local
	mu   sync.Mutex
	sent map[string][]string
	// replace, while it lasts, is what the hub hands on instead of the
	// data published, one for each publish.
	replace []string
}

func newRecordingHub() *recordingHub {
	return &recordingHub{Local: groups.NewLocal(), sent: map[string][]string{}}
}

func (h *recordingHub) Publish(group, data string) error {
	h.mu.Lock()
	h.sent[group] = append(h.sent[group], data)
	if len(h.replace) > 0 {
		data, h.replace = h.replace[0], h.replace[1:]
	}
	h.mu.Unlock()
	return h.Local.Publish(group, data)
}

func (h *recordingHub) decoded(group string, i int) any {
	h.mu.Lock()
	defer h.mu.Unlock()
	Expect(len(h.sent[group])).To(BeNumerically(">", i), "messages sent to %s", group)
	v, err := groups.Decode(h.sent[group][i])
	Expect(err).NotTo(HaveOccurred())
	return v
}

// groupCall starts an http call of path on e, its scope offering groups
// when offered, with its request already pushed.
func groupCall(e *clua.Engine, hub groups.Hub, path, query string, offered bool) *bridge.Call {
	scope := &event.Scope{Type: event.ScopeHTTP, HTTPVersion: "1.1", Method: "GET", Scheme: "http",
		Path: path, RawPath: path, QueryString: query}
	if offered {
		scope.Extensions = []string{event.ExtensionGroups}
	}
	call := bridge.NewCall(scope, time.Now().Add(20*time.Second))
	call.Groups = hub
	call.Push(event.Event{Type: event.HTTPRequest})
	e.Start(call)
	return call
}

// bodyOf waits for call to end without an error and returns its body.
func bodyOf(call *bridge.Call) string {
	Eventually(func() bool { return call.State().Finished }, 10*time.Second, time.Millisecond).Should(BeTrue())
	Expect(call.State().Err).NotTo(HaveOccurred())
	var b strings.Builder
	for _, ev := range call.Take() {
		b.WriteString(ev.Body)
	}
	return b.String()
}

func loadGroups() *clua.Engine {
	e, err := clua.Load("groups.lua", []byte(groupsApp), engine.Options{Workers: 1})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(e.Close)
	return e
}

var _ = Describe("lasgi.groups on "+clua.Name, func() {
	var (
		e   *clua.Engine
		hub *recordingHub
	)
	BeforeEach(func() {
		e = loadGroups()
		hub = newRecordingHub()
	})
	jit := clua.Name == "luajit"

	It("carries the extension", func() {
		Expect(bridge.CarriesGroups(e)).To(BeTrue())
	})

	It("gives a member its own message back, equal at every depth, whatever the sender did to its table since", func() {
		body := bodyOf(groupCall(e, hub, "/roundtrip", "", true))
		// What the engine encoded, and what it encoded of the table the
		// member received when the member sent it on.
		one, maxi, minf := any(1.0), any(int64(math.MaxInt64)), any(-math.Pow(2, 63))
		if jit {
			// Floats only: integral ones travel as integers (groups.Encoder.Number).
			one, maxi, minf = int64(1), int64(1<<53), int64(math.MinInt64)
		}
		want := map[any]any{
			"s": "a\x00b", "empty": "", "i": int64(42), "neg": int64(-7), "f": 1.5, "one": one,
			"maxi": maxi, "minf": minf, "huge": 1e300, "nan": math.NaN(), "t": true, "no": false,
			"arr": map[any]any{int64(1): "x", int64(2): "y", int64(3): map[any]any{"z": int64(1)}},
			"map": map[any]any{
				"k\x00":   map[any]any{"deep": map[any]any{"deeper": "d"}},
				2.5:       "float key",
				int64(10): "int key",
			},
			"nest": map[any]any{}, "big": strings.Repeat("b", 5000),
		}
		opts := cmpopts.EquateNaNs()
		Expect(cmp.Diff(want, hub.decoded("rt", 0), opts)).To(BeEmpty(), "as sent")
		Expect(cmp.Diff(want, hub.decoded("echo", 0), opts)).To(BeEmpty(), "as received")
		types := "i integer one float maxi integer"
		if jit {
			types = "no math.type"
		}
		Expect(strings.Split(body, "\n")).To(Equal([]string{
			"type lasgi.group.message group rt dropped nil",
			"same true",
			types,
			"s 3 0 arr 3",
			"offer 65536 256 64",
		}))
	})

	It("gives each member a table of its own", func() {
		a := groupCall(e, hub, "/member", "a", true)
		b := groupCall(e, hub, "/member", "b", true)
		Eventually(func() int { return hub.Members("pair") }).Should(Equal(2))
		Expect(bodyOf(groupCall(e, hub, "/sender", "", true))).To(Equal("sent"))
		bodies := []string{bodyOf(a), bodyOf(b)}
		// The second member compares its table with the first's, which the
		// first changed: not the same tables, its own unchanged.
		Expect(bodies).To(ContainElement("first"))
		Expect(bodies).To(ContainElement(MatchRegexp(`^false false 1 [ab]$`)))
	})

	It("raises the rule each bad group event breaks, and sends the good ones", func() {
		body := bodyOf(groupCall(e, hub, "/errors", "", true))
		lines := strings.Split(body, "\n")
		msg := func(err error) string { return err.Error() }
		Expect(lines).To(Equal([]string{
			"function " + msg(groups.BadValue("function")),
			"thread " + msg(groups.BadValue("thread")),
			"userdata " + msg(groups.BadValue("userdata")),
			"table key " + msg(groups.BadKey("table")),
			"boolean key " + msg(groups.BadKey("boolean true")),
			"cycle " + msg(groups.TooDeep()),
			"depth 33 " + msg(groups.TooDeep()),
			"depth 32 ok",
			"size 65536 ok",
			"size 65537 " + msg(groups.TooLarge(event.GroupsMaxMessageBytes)),
			"huge " + msg(groups.TooLarge(event.GroupsMaxMessageBytes)),
			"not a table " + msg(groups.NotTable(`string "x"`)),
			"still sends ok",
		}))
		Expect(hub.decoded("ok", 0)).To(Equal(map[any]any{"fine": true}))
		// Numbered names and the rest of groups.name.
		Expect(strings.Split(bodyOf(groupCall(e, hub, "/names", "", true)), "\n")).To(HaveExactElements(
			HavePrefix("space lasgi: groups.name: "),
			HavePrefix("empty lasgi: groups.name: "),
			HavePrefix("number lasgi: groups.name: "),
			HavePrefix("long lasgi: groups.name: "),
			Equal("dotted ok"),
		))
	})

	It("refuses group events in a scope that does not offer the extension (core.send.type)", func() {
		lines := strings.Split(bodyOf(groupCall(e, hub, "/unoffered", "", false)), "\n")
		Expect(lines).To(HaveLen(3))
		for _, l := range lines {
			Expect(l).To(HavePrefix("lasgi: core.send.type: "))
		}
		Expect(hub.sent).To(BeEmpty())
	})

	It("raises, never reads out of bounds, on data that is not the encoding", func() {
		corrupt := []string{
			"",                                     // nothing
			"S\x01\x00\x00\x00x",                   // not a table
			"T\x01\x00",                            // a count cut short
			"T\xff\xff\xff\xff",                    // more pairs than bytes
			"T\x01\x00\x00\x00S\x09\x00\x00\x00ab", // a string cut short
			"T\x01\x00\x00\x00I\x01",               // an integer cut short
			"T\x01\x00\x00\x00Xt",                  // an unknown tag
			"T\x00\x00\x00\x00t",                   // bytes after the data
			strings.Repeat("T\x01\x00\x00\x00t", 33) + "t", // nested too deep
		}
		// The app sends itself one message more than these; the hub hands
		// on these bytes instead of the first ones, and the last as sent.
		hub.replace = corrupt
		lines := strings.Split(bodyOf(groupCall(e, hub, "/corrupt", strconv.Itoa(len(corrupt)), true)), "\n")
		Expect(lines).To(HaveLen(len(corrupt) + 1))
		for i, l := range lines[:len(corrupt)] {
			Expect(l).To(HavePrefix("false lasgi: internal error: corrupt group data at byte "), "%q", corrupt[i])
		}
		Expect(lines[len(corrupt)]).To(Equal("true true"))

		// A member waiting in receive() is resumed with the event built
		// outside its coroutine: the call fails, and the worker serves on.
		call := groupCall(e, hub, "/member", "", true)
		Eventually(func() int { return hub.Members("pair") }).Should(Equal(1))
		Expect(hub.Local.Publish("pair", "T\x05")).To(Succeed())
		Eventually(func() bool { return call.State().Finished }, 10*time.Second, time.Millisecond).Should(BeTrue())
		Expect(call.State().Err).To(MatchError(ContainSubstring("lasgi: internal error: corrupt group data at byte ")))
		Expect(bodyOf(groupCall(e, hub, "/sender", "", true))).To(Equal("sent"))
	})

	It("drops what passes the queue and says how many on the next message", func() {
		Expect(bodyOf(groupCall(e, hub, "/flood", "", true))).To(Equal("1 44 2 nil 256 nil 301 nil"))
	})
})

// groupsApp is the app the groups specs run, by path.
const groupsApp = `
local function respond(send, body)
  send({type = "http.response.start", status = 200})
  send({type = "http.response.body", body = body})
end

-- ser writes v with its keys sorted, telling integers from floats where
-- Lua does, so that two tables of the same keys and values write alike.
local function ser(v)
  local t = type(v)
  if t == "table" then
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys, function(a, b)
      if type(a) ~= type(b) then return type(a) < type(b) end
      return a < b
    end)
    local out = {}
    for _, k in ipairs(keys) do out[#out + 1] = "[" .. ser(k) .. "]=" .. ser(v[k]) end
    return "{" .. table.concat(out, ",") .. "}"
  elseif t == "string" then
    return string.format("%q", v)
  elseif t == "number" then
    return (math.type and math.type(v) or "number") .. ":" .. string.format("%.17g", v)
  end
  return tostring(v)
end

local function sample()
  return {
    s = "a\0b", empty = "", i = 42, neg = -7, f = 1.5, one = 1.0,
    maxi = math.maxinteger or 2^53, minf = -2^63, huge = 1e300, nan = 0/0, t = true, no = false,
    arr = {"x", "y", {z = 1}},
    map = {["k\0"] = {deep = {deeper = "d"}}, [2.5] = "float key", [10] = "int key"},
    nest = {}, big = string.rep("b", 5000), -- past 1 KiB: named in the ops, not copied
  }
end

local function nest(n)
  local t = {}
  for _ = 2, n do t = {t} end
  return t
end

local seen = {}

local function try(send, ev)
  local ok, err = pcall(send, ev)
  return ok and "ok" or tostring(err)
end

local paths = {}

function paths.roundtrip(scope, receive, send)
  send({type = "lasgi.group.join", group = "rt"})
  local data = sample()
  send({type = "lasgi.group.send", group = "rt", data = data})
  data.s, data.arr[1], data.map["k\0"].deep.deeper, data.added = "changed", "changed", "changed", 1
  local ev = receive()
  local d = ev.data
  local out = {
    "type " .. ev.type .. " group " .. ev.group .. " dropped " .. tostring(ev.dropped),
    "same " .. tostring(ser(d) == ser(sample())),
    math.type and ("i " .. math.type(d.i) .. " one " .. math.type(d.one) .. " maxi " .. math.type(d.maxi)) or "no math.type",
    "s " .. #d.s .. " " .. d.s:byte(2) .. " arr " .. #d.arr,
  }
  local g = scope.extensions["lasgi.groups"]
  out[#out + 1] = "offer " .. g.max_message_bytes .. " " .. g.queue .. " " .. g.max_groups
  send({type = "lasgi.group.send", group = "echo", data = d})
  respond(send, table.concat(out, "\n"))
end

function paths.member(scope, receive, send)
  send({type = "lasgi.group.join", group = "pair"})
  local d = receive().data
  local first = seen[1]
  seen[#seen + 1] = d
  local out = "first"
  if first then
    out = tostring(rawequal(first, d)) .. " " .. tostring(rawequal(first.n, d.n)) .. " " ..
      tostring(d.n.x) .. " " .. tostring(first.n.x)
  end
  d.n.x = scope.query_string
  respond(send, out)
end

function paths.sender(scope, receive, send)
  send({type = "lasgi.group.send", group = "pair", data = {n = {x = 1}}})
  respond(send, "sent")
end

function paths.errors(scope, receive, send)
  local function data(d) return try(send, {type = "lasgi.group.send", group = "bad", data = d}) end
  local cycle = {}
  cycle.me = cycle
  local out = {
    "function " .. data({f = print}),
    "thread " .. data({a = {b = {c = coroutine.create(function() end)}}}),
    "userdata " .. data({io.stdout}),
    "table key " .. data({[{}] = 1}),
    "boolean key " .. data({[true] = 1}),
    "cycle " .. data(cycle),
    "depth 33 " .. data(nest(33)),
    "depth 32 " .. data(nest(32)),
    -- 5 for data, 5 + 1 for the key, 5 + n for the string
    "size 65536 " .. data({s = string.rep("x", 65520)}),
    "size 65537 " .. data({s = string.rep("x", 65521)}),
    "huge " .. data({s = string.rep("x", 2^20)}),
    "not a table " .. data("x"),
    "still sends " .. try(send, {type = "lasgi.group.send", group = "ok", data = {fine = true}}),
  }
  respond(send, table.concat(out, "\n"))
end

function paths.names(scope, receive, send)
  local function join(g) return try(send, {type = "lasgi.group.join", group = g}) end
  respond(send, table.concat({
    "space " .. join("bad name"),
    "empty " .. join(""),
    "number " .. join(5),
    "long " .. join(string.rep("a", 100)),
    "dotted " .. join("room.a_b-c"),
  }, "\n"))
end

function paths.unoffered(scope, receive, send)
  respond(send, table.concat({
    try(send, {type = "lasgi.group.join", group = "g"}),
    try(send, {type = "lasgi.group.send", group = "g", data = {}}),
    try(send, {type = "lasgi.group.leave", group = "g"}),
  }, "\n"))
end

function paths.flood(scope, receive, send)
  send({type = "lasgi.group.join", group = "flood"})
  for i = 1, 300 do send({type = "lasgi.group.send", group = "flood", data = {i = i}}) end
  local first, second = receive(), receive()
  local last, more
  for _ = 3, 256 do
    local ev = receive()
    last, more = ev.data.i, more or ev.dropped
  end
  send({type = "lasgi.group.send", group = "flood", data = {i = 301}})
  local after = receive()
  respond(send, table.concat({first.data.i, first.dropped, second.data.i, tostring(second.dropped),
    last, tostring(more), after.data.i, tostring(after.dropped)}, " "))
end

function paths.corrupt(scope, receive, send)
  send({type = "lasgi.group.join", group = "c"})
  local n = tonumber(scope.query_string) + 1
  for _ = 1, n do send({type = "lasgi.group.send", group = "c", data = {ok = true}}) end
  local out = {}
  for _ = 1, n do
    local ok, ev = pcall(receive)
    out[#out + 1] = tostring(ok) .. " " .. (ok and tostring(ev.data.ok) or tostring(ev))
  end
  respond(send, table.concat(out, "\n"))
end

return function(scope, receive, send)
  receive() -- the request
  return paths[scope.path:sub(2)](scope, receive, send)
end
`
