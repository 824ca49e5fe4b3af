package app_test

import (
	. "github.com/onsi/ginkgo/v2"
)

// ws_chat.lua and longpoll.lua under lua5.1, lua5.4, luajit and gopher-lua, through
// testdata/drive.lua: the group messages a server would deliver are events in the
// driver's input, and what the apps send to their groups is in the transcript.

// groupsScope is a scope of type typ for path, offering lasgi.groups and lasgi.timers.
func chatScope(typ, path, method string) map[string]any {
	return scopeWith(func(s map[string]any) {
		s["type"], s["path"], s["raw_path"], s["method"] = typ, path, path, method
		s["lasgi"] = map[string]any{"version": "1.2"}
		s["extensions"] = map[string]any{
			"lasgi.timers": map[string]any{},
			"lasgi.groups": map[string]any{"max_message_bytes": 65536, "queue": 256, "max_groups": 64},
		}
		if typ == "websocket" {
			s["scheme"] = "ws"
			delete(s, "method")
		}
	})
}

func groupMessage(group string, data map[string]any, dropped int) map[string]any {
	ev := map[string]any{"type": "lasgi.group.message", "group": group, "data": data}
	if dropped > 0 {
		ev["dropped"] = dropped
	}
	return ev
}

func sentGroup(typ, group string, data luaTree) Step {
	return Step{Op: "send", Sent: &Sent{Type: typ, Group: group, Data: data}}
}

func wsSent(text string) Step {
	return Step{Op: "send", Sent: &Sent{Type: "websocket.send", Text: text}}
}

func textStart(status int, headers ...[2]string) Step {
	return Step{Op: "send", Sent: &Sent{Type: "http.response.start", Status: status,
		Headers: append([][2]string{{"content-type", "text/plain"}}, headers...)}}
}

var _ = Describe("longpoll.lua under every interpreter", func() {
	join := sentGroup("lasgi.group.join", "poll.news", nil)
	DescribeTable("waits for a message or the timeout, and publishes",
		func(method, path string, events []map[string]any, want []Step) {
			expectSteps(runAll("longpoll.lua", chatScope("http", path, method), events), want)
		},
		Entry("a message: 200 with its body, bytes kept", "GET", "/poll/news",
			[]map[string]any{req("", false), groupMessage("poll.news", map[string]any{"body": "hi\x00\xff"}, 0)},
			[]Step{join, recv, recv, textStart(200), body("hi\x00\xff", false), ret}),
		Entry("dropped messages: said in x-dropped", "GET", "/poll/news",
			[]map[string]any{req("", false), groupMessage("poll.news", map[string]any{"body": "late"}, 3)},
			[]Step{join, recv, recv, textStart(200, [2]string{"x-dropped", "3"}), body("late", false), ret}),
		Entry("the timeout: 204", "GET", "/poll/news",
			[]map[string]any{req("", false), {"type": "lasgi.timeout"}},
			[]Step{join, recv, recv, textStart(204), body("", false), ret}),
		Entry("the client leaving: nothing sent", "GET", "/poll/news",
			[]map[string]any{req("", false)},
			[]Step{join, recv, recv, ret}),
		Entry("a publish: the body to the topic's group, 202", "POST", "/publish/news",
			[]map[string]any{req("break", true), req("ing", false)},
			[]Step{recv, recv, sentGroup("lasgi.group.send", "poll.news", luaTree{"body": "breaking"}),
				textStart(202), body("longpoll.lua: published\n", false), ret}),
	)
})

var _ = Describe("ws_chat.lua under every interpreter", func() {
	It("sends what its client says to the room, and the room's messages to its client", func() {
		events := []map[string]any{
			{"type": "websocket.connect"},
			{"type": "websocket.receive", "text": "hi"},
			groupMessage("room.lobby", map[string]any{"text": "hi"}, 0),
			groupMessage("room.lobby", map[string]any{"text": "x"}, 2),
			{"type": "websocket.receive", "bytes": "\x01\x02"},
			{"type": "websocket.disconnect", "code": 1000},
		}
		want := []Step{
			recv, {Op: "send", Sent: &Sent{Type: "websocket.accept"}},
			sentGroup("lasgi.group.join", "room.lobby", nil),
			recv, sentGroup("lasgi.group.send", "room.lobby", luaTree{"text": "hi"}),
			recv, wsSent("hi"),
			recv, wsSent("ws_chat.lua: 2 messages dropped"), wsSent("x"),
			recv, wsSent("ws_chat.lua: text messages only"),
			recv, ret,
		}
		expectSteps(runAll("ws_chat.lua", chatScope("websocket", "/room/lobby", ""), events), want)
	})
})
