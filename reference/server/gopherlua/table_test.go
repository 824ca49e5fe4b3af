package gopherlua

import (
	"maps"
	"testing"

	"strings"

	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	lua "github.com/yuin/gopher-lua"

	"github.com/lasgi/lasgi/spec/event"
)

// walk is what a Lua program can see of a table: its pairs in next() order
// (nested tables walked too), after the app adds a key and removes one.
const walk = `
local t = ...
local function dump(t, out, indent)
  for k, v in pairs(t) do
    if type(v) == "table" then
      out[#out + 1] = indent .. tostring(k) .. " = {"
      dump(v, out, indent .. "  ")
      out[#out + 1] = indent .. "}"
    else
      out[#out + 1] = indent .. tostring(k) .. " = " .. type(v) .. " " .. tostring(v)
    end
  end
  return out
end
local before = table.concat(dump(t, {}, ""), "\n")
t.added = "yes"
t[1] = "array"
t[#t + 1] = "appended"
t[next(t)] = nil
local after = table.concat(dump(t, {}, ""), "\n")
return before .. "\n--\n" .. after
`

// seen runs walk over the table that build makes.
func seen(build func(L *lua.LState) *lua.LTable) string {
	L := lua.NewState()
	defer L.Close()
	fn, err := L.LoadString(walk)
	Expect(err).NotTo(HaveOccurred())
	L.Push(fn)
	L.Push(build(L))
	Expect(L.PCall(1, 1, nil)).To(Succeed())
	return L.Get(-1).String()
}

// viaAPI builds tables through gopher-lua's API while f runs.
func viaAPI(f func() string) string {
	direct := directTables
	directTables = false
	defer func() { directTables = direct }()
	return f()
}

var _ = Describe("Tables of a shape", func() {
	It("are filled in directly with the gopher-lua in go.mod", func() {
		Expect(directTables).To(BeTrue(), "gopher-lua's LTable is no longer laid out as tableLayout: "+
			"shape.table falls back to the slower API; update tableLayout to match")
	})

	It("look to Lua exactly as tables built through the API, also after the app changes them", func() {
		sh := newShape("type", "version", "empty", "nested")
		build := func(L *lua.LState) *lua.LTable {
			return sh.table(L, []lua.LValue{lua.LString("http"), lua.LNumber(3), lua.LString(""),
				sh.table(L, []lua.LValue{lua.LTrue, lua.LFalse, lua.LString("x"), L.NewTable()})})
		}
		direct := seen(build)
		Expect(direct).To(ContainSubstring("type = string http\nversion = number 3\nempty = string \nnested = {"))
		if diff := cmp.Diff(viaAPI(func() string { return seen(build) }), direct); diff != "" {
			Fail("direct and API tables differ (-api +direct):\n" + diff)
		}
	})

	It("are fresh each time: changing one leaves the others untouched", func() {
		sh := newShape("a", "b", "z")
		L := lua.NewState()
		defer L.Close()
		keys := func(t *lua.LTable) []string { // in the order next() walks
			var ks []string
			for k, _ := t.Next(lua.LNil); k != lua.LNil; k, _ = t.Next(k) {
				ks = append(ks, k.String())
			}
			return ks
		}
		first := sh.table(L, []lua.LValue{lua.LString("1"), lua.LString("2"), lua.LString("26")})
		first.RawSetString("c", lua.LString("3"))
		first.RawSetString("a", lua.LNil)
		second := sh.table(L, []lua.LValue{lua.LString("1"), lua.LString("2"), lua.LString("26")})
		second.RawSetString("c", lua.LString("4"))
		third := sh.table(L, []lua.LValue{lua.LString("1"), lua.LString("2"), lua.LString("26")})
		third.RawSetString("d", lua.LString("5"))
		Expect(keys(first)).To(Equal([]string{"b", "z", "c"}))
		Expect(keys(second)).To(Equal([]string{"a", "b", "z", "c"}))
		Expect(keys(third)).To(Equal([]string{"a", "b", "z", "d"}))
	})

	It("include pairs that look to Lua exactly as lists built through the API", func() {
		build := func(L *lua.LState) *lua.LTable { return pair(L, lua.LString("host"), lua.LNumber(8000)) }
		direct := seen(build)
		Expect(direct).To(HavePrefix("1 = string host\n2 = number 8000\n--\n"))
		if diff := cmp.Diff(viaAPI(func() string { return seen(build) }), direct); diff != "" {
			Fail("direct and API pairs differ (-api +direct):\n" + diff)
		}
	})

	It("make receive's events look the same as the API would", func() {
		for _, ev := range []event.Event{
			{Type: event.HTTPRequest, Body: "chunk", MoreBody: true},
			{Type: event.HTTPRequest},
			{Type: event.HTTPDisconnect},
		} {
			build := func(L *lua.LState) *lua.LTable { return eventTable(L, &ev) }
			direct := seen(build)
			Expect(direct).To(HavePrefix("type = string " + ev.Type))
			if diff := cmp.Diff(viaAPI(func() string { return seen(build) }), direct); diff != "" {
				Fail("direct and API events differ (-api +direct):\n" + diff)
			}
		}
	})

	It("make the scope look the same as the API would, with and without client and server", func() {
		full := &event.Scope{
			Type: "http", HTTPVersion: "1.1", Method: "PURGE", Scheme: "https",
			Path: "/caf\u00e9", RawPath: "/caf%C3%A9", QueryString: "a=1", RootPath: "/app",
			Headers:    []event.Header{{Name: "host", Value: "example.com"}, {Name: "x-odd", Value: "\xff"}},
			Client:     &event.Addr{Host: "10.0.0.1", Port: 40000},
			Server:     &event.Addr{Host: "10.0.0.2", Port: 443},
			Extensions: []string{event.ExtensionTrailers},
		}
		bare := &event.Scope{Type: "http", HTTPVersion: "1.0", Method: "GET", Scheme: "http", Path: "/", RawPath: "/",
			Extensions: []string{"x.one", "x.two"}, LASGIVersion: "2.0"}
		for _, s := range []*event.Scope{full, bare} {
			build := func(L *lua.LState) *lua.LTable { return scopeTable(L, s, L.CreateTable(0, 0)) }
			direct := seen(build)
			Expect(strings.Count(direct, "lasgi = {")).To(Equal(2))
			if diff := cmp.Diff(viaAPI(func() string { return seen(build) }), direct); diff != "" {
				Fail("direct and API scopes differ (-api +direct):\n" + diff)
			}
		}
	})
})

// BenchmarkScopeTable builds the scope of wrk's request to lasgi-serve.
func BenchmarkScopeTable(b *testing.B) {
	L := lua.NewState()
	defer L.Close()
	s := &event.Scope{
		Type: "http", HTTPVersion: "1.1", Method: "GET", Scheme: "http", Path: "/", RawPath: "/",
		Headers:    []event.Header{{Name: "host", Value: "127.0.0.1:8000"}},
		Client:     &event.Addr{Host: "127.0.0.1", Port: 40000},
		Server:     &event.Addr{Host: "127.0.0.1", Port: 8000},
		Extensions: []string{event.ExtensionTrailers},
	}
	b.ReportAllocs()
	for b.Loop() {
		scopeTable(L, s, L.CreateTable(0, 0))
	}
}

// BenchmarkScopeMaps measures the floor under a shape's top-level scope table:
// the two Go maps any 15-key gopher-lua table needs, filled and cloned as
// shape.table does (docs/performance.md, "Where hello world's time goes now").
func BenchmarkScopeMaps(b *testing.B) {
	sh := scopeShapes[1][1]
	vals := make([]lua.LValue, len(sh.names))
	for i := range vals {
		vals[i] = lua.LString("x")
	}
	b.Run("values", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m := make(map[string]lua.LValue, len(sh.names))
			for i, n := range sh.names {
				m[n] = vals[i]
			}
		}
	})
	b.Run("next-index", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = maps.Clone(sh.index)
		}
	})
}
