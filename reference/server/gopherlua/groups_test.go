package gopherlua

import (
	"errors"
	"strings"

	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	lua "github.com/yuin/gopher-lua"

	"github.com/lasgi/lasgi/reference/server/groups"
	"github.com/lasgi/lasgi/reference/server/internal/mutant"
	"github.com/lasgi/lasgi/spec/event"
)

var _ = Describe("group data", func() {
	var L *lua.LState
	BeforeEach(func() {
		L = lua.NewState()
		DeferCleanup(L.Close)
	})
	scope := &event.Scope{Type: event.ScopeWebSocket, Extensions: []string{event.ExtensionGroups}}

	// send runs the Lua chunk src, which returns data, and decodes
	// {type = "lasgi.group.send", group = "g", data = data}.
	send := func(src string) (event.Event, error) {
		GinkgoHelper()
		Expect(L.DoString(src)).To(Succeed())
		data := L.Get(-1)
		L.Pop(1)
		ev := L.NewTable()
		ev.RawSetString("type", lua.LString(event.GroupSend))
		ev.RawSetString("group", lua.LString("g"))
		ev.RawSetString("data", data)
		return decodeEvent(ev, mutant.Fault{}, scope)
	}

	It("encodes strings, numbers, booleans and nested tables as the sender gave them", func() {
		ev, err := send(`return {text = "a\0b", n = 3, f = -1.5, yes = true, no = false,
			list = {1, 2, {deep = {deeper = "x"}}}, [7] = "seven", [0.5] = "half"}`)
		Expect(err).NotTo(HaveOccurred())
		got, err := groups.Decode(ev.Body)
		Expect(err).NotTo(HaveOccurred())
		want := map[any]any{
			"text": "a\x00b", "n": int64(3), "f": -1.5, "yes": true, "no": false,
			"list": map[any]any{int64(1): int64(1), int64(2): int64(2),
				int64(3): map[any]any{"deep": map[any]any{"deeper": "x"}}},
			int64(7): "seven", 0.5: "half",
		}
		Expect(cmp.Diff(want, got)).To(BeEmpty())
	})

	It("counts the size as groups.md does: {text = \"hi\"} is 21 bytes", func() {
		ev, err := send(`return {text = "hi"}`)
		Expect(err).NotTo(HaveOccurred())
		Expect(ev.Body).To(HaveLen(21))
	})

	DescribeTable("refuses data that breaks its rule",
		func(src, rule, detail string) {
			_, err := send(src)
			var v *event.Violation
			Expect(errors.As(err, &v)).To(BeTrue(), "error %v", err)
			Expect(v.Rule).To(Equal(rule))
			Expect(err.Error()).To(ContainSubstring(detail))
		},
		Entry("a function value", `return {f = print}`, event.RuleGroupsData, "found function"),
		Entry("a table key", `return {[{}] = 1}`, event.RuleGroupsData, "found a key table"),
		Entry("a boolean key", `return {[true] = 1}`, event.RuleGroupsData, "found a key boolean true"),
		Entry("a cycle", `local t = {}; t.self = t; return t`, event.RuleGroupsData, "more than 32 deep"),
		Entry("33 tables deep", `local t = {}; for i = 1, 32 do t = {t} end; return t`, event.RuleGroupsData, "more than 32 deep"),
		Entry("more than max_message_bytes", `return {string.rep("x", 65536)}`, event.RuleGroupsDataSize, "65536 bytes"),
		Entry("data not a table", `return "text"`, event.RuleGroupsData, `data must be a table, got string "text"`),
	)

	It("takes a NaN value, a number (a NaN key cannot be made in Lua 5.1)", func() {
		ev, err := send(`return {x = 0/0}`)
		Expect(err).NotTo(HaveOccurred())
		Expect(ev.Body[len(ev.Body)-9]).To(Equal(byte(groups.TagFloat)))
	})

	It("takes 32 tables deep and data of exactly max_message_bytes", func() {
		_, err := send(`local t = {}; for i = 1, 31 do t = {t} end; return t`)
		Expect(err).NotTo(HaveOccurred())
		// 5 for the table, 9 for the key 1, 5 + n for the string.
		ev, err := send(`return {string.rep("x", 65536 - 19)}`)
		Expect(err).NotTo(HaveOccurred())
		Expect(ev.Body).To(HaveLen(65536))
	})

	It("builds lasgi.group.message into tables of the member's own, dropped only when some were", func() {
		ev, err := send(`return {text = "hi", nested = {1, 2}}`)
		Expect(err).NotTo(HaveOccurred())
		msg := event.Event{Type: event.GroupMessage, Group: "g", Body: ev.Body}
		a, b := eventTable(L, &msg), eventTable(L, &msg)
		Expect(a.RawGetString("type")).To(Equal(lua.LString(event.GroupMessage)))
		Expect(a.RawGetString("group")).To(Equal(lua.LString("g")))
		Expect(a.RawGetString("dropped")).To(Equal(lua.LNil))
		da, db := a.RawGetString("data").(*lua.LTable), b.RawGetString("data").(*lua.LTable)
		Expect(da).NotTo(BeIdenticalTo(db))
		Expect(da.RawGetString("nested")).NotTo(BeIdenticalTo(db.RawGetString("nested")))
		Expect(da.RawGetString("text")).To(Equal(lua.LString("hi")))
		Expect(da.RawGetString("nested").(*lua.LTable).Len()).To(Equal(2))
		msg.Code = 4
		Expect(eventTable(L, &msg).RawGetString("dropped")).To(Equal(lua.LNumber(4)))
	})

	It("reads the group's name and refuses a bad one, and join in lifespan", func() {
		for _, name := range []string{"", strings.Repeat("n", 100), "a b", "é"} {
			ev := L.NewTable()
			ev.RawSetString("type", lua.LString(event.GroupJoin))
			ev.RawSetString("group", lua.LString(name))
			_, err := decodeEvent(ev, mutant.Fault{}, scope)
			Expect(err).To(MatchError(ContainSubstring("lasgi: groups.name:")), "name %q", name)
		}
		ev := L.NewTable()
		ev.RawSetString("type", lua.LString(event.GroupJoin))
		ev.RawSetString("group", lua.LString(strings.Repeat("A-z_9.", 16)+"abc"))
		got, err := decodeEvent(ev, mutant.Fault{}, scope)
		Expect(err).NotTo(HaveOccurred())
		Expect(got.Group).To(HaveLen(99))
		_, err = decodeEvent(ev, mutant.Fault{}, &event.Scope{Type: event.ScopeLifespan, Extensions: []string{event.ExtensionGroups}})
		Expect(err).To(MatchError(ContainSubstring("lasgi: groups.lifespan.send-only:")))
	})
})
