package app_test

import (
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/conformance"
)

// groupsScope is probeScope offering lasgi.groups with the least limits
// groups.offer.limits allows, and lasgi.timers.
func groupsScope(script string) map[string]any {
	s := probeScope(script)
	s["extensions"] = map[string]any{
		"lasgi.groups": map[string]any{"max_message_bytes": 1024, "queue": 16, "max_groups": 16},
		"lasgi.timers": map[string]any{},
	}
	return s
}

// groupSends are the group events among an exchange's steps.
func groupSends(r probeResult) []*pEvent {
	var out []*pEvent
	for _, s := range r.Steps {
		if s.Op == "send" && s.Ev.Type != "http.response.start" && s.Ev.Type != "http.response.body" {
			out = append(out, s.Ev)
		}
	}
	return out
}

// decoded is JSON text as a report's is decoded.
func decoded(text string) any {
	GinkgoHelper()
	v, err := decodeLatin1JSON(text)
	Expect(err).NotTo(HaveOccurred())
	return v
}

var _ = Describe("probe.lua's groups verbs in the test driver (gopher-lua, lua5.1, lua5.4, luajit; sync and coroutine)", func() {
	It("sends the events of gjoin, gsend, gdata, gflood and gleave, each data as it was when sent", func() {
		r := runProbe(probeExchange{Scope: groupsScope("gjoin:g gsend:g:a%00b gdata:g:mixed gflood:g:1 gleave:g start:200 end")})[0]
		sends := groupSends(r)
		Expect(sends).To(HaveLen(3 + 17 + 1)) // join, text, mixed, queue + 1 seqs, leave
		Expect(*sends[0]).To(Equal(pEvent{Type: "lasgi.group.join", Group: "g"}))
		Expect(*sends[1]).To(Equal(pEvent{Type: "lasgi.group.send", Group: "g", Data: luaTree{"text": "a\x00b"}}))
		mixed := sends[2].Data.(luaTree)
		Expect(mixed).To(HaveKeyWithValue("text", "a\x00b\xff"))
		Expect(mixed).To(HaveKeyWithValue("int", 42.0))
		Expect(mixed).To(HaveKeyWithValue(1.5, "a float key"))
		Expect(mixed).To(HaveKeyWithValue("nested", luaTree{"deeper": luaTree{"deepest": luaTree{"n": 1.0}}}))
		for k := 1; k <= 17; k++ {
			Expect(*sends[2+k]).To(Equal(pEvent{Type: "lasgi.group.send", Group: "g", Data: luaTree{"seq": float64(k)}}))
		}
		Expect(*sends[20]).To(Equal(pEvent{Type: "lasgi.group.leave", Group: "g"}))
	})

	It("sends each gbad kind within the scope's limits and records what send said", func() {
		var script string
		for _, b := range conformance.GroupBadKinds {
			if b.Kind != "data-nan-key" { // made on gopher-lua only: the transcripts would differ
				script += "gbad:" + b.Kind + " "
			}
		}
		r := runProbe(probeExchange{Scope: groupsScope(script + "start:200 end")})[0]
		report := r.HeadReport.(map[string]any)
		// The driver takes every group event: each outcome is ok.
		for _, s := range report["sends"].([]any) {
			Expect(s).To(HaveKeyWithValue("ok", true), "%v", s)
		}
		var sizes []int
		joins := 0
		for _, ev := range groupSends(r) {
			data, _ := ev.Data.(luaTree)
			if text, ok := data["text"].(string); ok && len(text) > 100 {
				sizes = append(sizes, 19+len(text)) // groups.data.size of {text = ...}
			}
			if g, _ := ev.Group.(string); ev.Type == "lasgi.group.join" && strings.HasPrefix(g, "probe.max-groups.") {
				joins++
			}
		}
		Expect(sizes).To(Equal([]int{1025, 1024}), "data-size one over max_message_bytes, ok-size at it")
		Expect(joins).To(Equal(17), "max-groups joins max_groups + 1")
	})

	It("records each lasgi.group.message with its group, data and dropped, the data by the report's mapping", func() {
		mixed := luaTable{{"text", "a\x00b\xff"}, {"int", 42}, {"float", 1.5}, {"yes", true}, {"no", false},
			{"list", []any{"x", "y"}}, {"empty", map[string]any{}}, {1.5, "a float key"}, {-1, "a negative key"}}
		msg := map[string]any{"type": "lasgi.group.message", "group": "g", "data": mixed, "dropped": 3}
		plain := map[string]any{"type": "lasgi.group.message", "group": "g", "data": map[string]any{"seq": 2}}
		rs := runProbe(probeExchange{Scope: groupsScope("token:gm drain recv gdrain start:200 end"),
			Events: []map[string]any{req("", false), msg, plain}}, ex("report:gm"))
		events := fetched(rs[1]).(map[string]any)["events"].([]any)
		Expect(events).To(HaveLen(4)) // the request, two messages, the disconnect that ended gdrain
		first, second := events[1].(map[string]any), events[2].(map[string]any)
		Expect(first).To(HaveKeyWithValue("group", "g"))
		Expect(first["data"]).To(Equal(decoded(`{"-1":"a negative key","1.5":"a float key","empty":{},"float":1.5,"int":42,"list":["x","y"],"no":false,"text":"a\u0000b\u00ff","yes":true}`)))
		Expect(first["dropped"]).To(Equal(decoded("3")))
		Expect(second).NotTo(HaveKey("dropped"))
		Expect(second).NotTo(HaveKey("copy"))
		Expect(second["data"]).To(Equal(decoded(`{"seq":2}`)))
	})

	It("gforward passes a message's data.text on as a body part", func() {
		msg := map[string]any{"type": "lasgi.group.message", "group": "g", "data": map[string]any{"text": "hi"}}
		r := runProbe(probeExchange{Scope: groupsScope("drain start:200 gforward end"), Events: []map[string]any{req("", false), msg}})[0]
		Expect(r.Body).To(Equal("hi"))
	})
})
