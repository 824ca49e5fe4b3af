package conformance

import (
	"strconv"
	"strings"

	"github.com/lasgi/lasgi/spec/event"
)

// appScope is the scope the app cases start from: an HTTP/1.1 GET.
func appScope(change func(*event.Scope)) event.Scope {
	s := event.Scope{
		Type: "http", HTTPVersion: "1.1", Method: "GET", Scheme: "http",
		Path: "/", RawPath: "/", QueryString: "",
		Headers: []event.Header{
			{Name: "host", Value: "app.test"},
			{Name: "user-agent", Value: "lasgi-check"},
			{Name: "accept", Value: "*/*"},
		},
		Client:     &event.Addr{Host: "127.0.0.1", Port: 50000},
		Server:     &event.Addr{Host: "127.0.0.1", Port: 8000},
		Extensions: []string{event.ExtensionTrailers},
	}
	if change != nil {
		change(&s)
	}
	return s
}

func post(body string) func(*event.Scope) {
	return func(s *event.Scope) {
		s.Method = "POST"
		s.Headers = append(s.Headers, event.Header{Name: "content-length", Value: strconv.Itoa(len(body))})
	}
}

func split(s string, n int) []string {
	var out []string
	for len(s) > n {
		out = append(out, s[:n])
		s = s[n:]
	}
	return append(out, s)
}

// sendRules are checked in every app case: whatever the app sends must be
// valid, in order, and complete.
var sendRules = []string{"core.app.complete-response", "core.send.type", "http.start.first", "http.send.after-complete"}

// httpAppCases are the exchanges of the http scope: scopes and request
// bodies in one piece or many, and the client going away at each point.
func httpAppCases() []*AppCase {
	all := strings.Repeat("\x00\x01\x02\xfe\xff binary ", 100)
	big := strings.Repeat("0123456789abcdef", 1<<16) // 1 MiB
	never := -1
	cases := []*AppCase{
		{ID: "app.http/get", Scope: appScope(nil), DisconnectAfter: never},
		{ID: "app.http/head", Rules: []string{"http.body.head-app"}, Scope: appScope(func(s *event.Scope) { s.Method = "HEAD" }), DisconnectAfter: never},
		{ID: "app.http/options-asterisk", Scope: appScope(func(s *event.Scope) { s.Method, s.Path, s.RawPath = "OPTIONS", "*", "*" }), DisconnectAfter: never},
		{ID: "app.http/http-1.0", Scope: appScope(func(s *event.Scope) { s.HTTPVersion = "1.0" }), DisconnectAfter: never},
		{ID: "app.http/path-and-query", Scope: appScope(func(s *event.Scope) {
			s.Path, s.RawPath, s.QueryString = "/caf\u00e9/a b", "/caf%C3%A9/a%20b", "x=1&y=%20&parts=3&size=1000"
		}), DisconnectAfter: never},
		{ID: "app.http/post-one-piece", Scope: appScope(post("hello")), Body: []string{"hello"}, DisconnectAfter: never},
		{ID: "app.http/post-many-pieces", Scope: appScope(post("hello world, in pieces")), Body: split("hello world, in pieces", 3), DisconnectAfter: never},
		{ID: "app.http/post-empty-pieces", Scope: appScope(post("ab")), Body: []string{"", "a", "", "b", ""}, DisconnectAfter: never},
		{ID: "app.http/post-binary", Rules: []string{"core.value.bytes"}, Scope: appScope(post(all)), Body: split(all, 700), DisconnectAfter: never},
		{ID: "app.http/post-1-mib", Scope: appScope(post(big)), Body: split(big, 64<<10), DisconnectAfter: never},
		{ID: "app.http/no-trailers-extension", Rules: []string{"http.trailers.offered", "core.extensions.offered-only"},
			Scope: appScope(func(s *event.Scope) { s.Extensions = nil }), DisconnectAfter: never},
		{ID: "app.disconnect/before-the-body", Rules: []string{"http.disconnect.app-return"}, Scope: appScope(post("abc")), Body: []string{"a", "b", "c"}, DisconnectAfter: 0},
		{ID: "app.disconnect/in-the-middle-of-the-body", Rules: []string{"http.disconnect.app-return"}, Scope: appScope(post("abc")), Body: []string{"a", "b", "c"}, DisconnectAfter: 1},
		{ID: "app.disconnect/after-the-body", Rules: []string{"http.disconnect.app-return"}, Scope: appScope(post("abc")), Body: []string{"a", "b", "c"}, DisconnectAfter: 3},
		{ID: "app.scope/unknown-type", Rules: []string{"core.app.scope-type"}, Scope: appScope(func(s *event.Scope) { s.Type = "x-unknown" }), DisconnectAfter: never, WantRaise: "core.app.scope-type"},
		{ID: "app.scope/unknown-major-version", Rules: []string{"core.scope.version-check"}, Scope: appScope(func(s *event.Scope) { s.LASGIVersion = "2.0" }), DisconnectAfter: never, WantRaise: "core.scope.version-check"},
	}
	for _, c := range cases {
		c.Rules = append(c.Rules, sendRules...)
	}
	return cases
}
