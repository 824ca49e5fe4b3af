// Package app holds the LASGI reference apps: plain Lua files that run unchanged on
// gopher-lua, Lua 5.1, Lua 5.4 and LuaJIT. Each file returns the app, a function
// app(scope, receive, send).
//
//   - hello.lua:  200 text/plain "Hello World!" without reading the request (benchmark app)
//   - echo.lua:   reads the body, answers with the method, path, headers and body
//   - stream.lua: streamed responses (?parts=N, ?size=BYTES) and /echo streaming the body back
//   - lifespan.lua: opens a pool at lifespan startup into scope.state, answers from it, closes it at shutdown
//   - scope.lua:  answers with the scope and the http.request events as JSON
//   - sse.lua:    a server-sent-events clock (?interval=, ?count=, ?heartbeat=); needs lasgi.timers
//   - probe.lua:  the conformance probe: acts out lasgi-check's scripts and reports (fixtures/PROBE.md)
//   - ws_echo.lua: a WebSocket echo of text and binary messages, closing on "bye"
//   - ws_chat.lua: a WebSocket chat, /room/NAME: every text message to every socket in the room; needs lasgi.groups
//   - longpoll.lua: GET /poll/TOPIC waits for the next POST /publish/TOPIC or times out; needs lasgi.groups and lasgi.timers
package app

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

// Files holds the reference apps, one *.lua file each, at the root of the file system.
//
//go:embed *.lua
var Files embed.FS

// Source returns the Lua source of the app file name, such as "hello.lua".
func Source(name string) ([]byte, error) {
	src, err := Files.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("reference app %q not found (available: %s)", name, strings.Join(Names(), ", "))
	}
	return src, nil
}

// Names returns the file names of the reference apps, sorted.
func Names() []string {
	entries, err := fs.ReadDir(Files, ".")
	if err != nil {
		return nil
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".lua") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names
}

// Apps lists the files that are apps (Names without lint.lua, which is
// middleware: lint(app) returns an app).
func Apps() []string {
	var apps []string
	for _, name := range Names() {
		if name != "lint.lua" {
			apps = append(apps, name)
		}
	}
	return apps
}
