package server_test

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/lasgi/lasgi/conformance"
	"github.com/lasgi/lasgi/spec/event"

	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/reference/server"
)

// scopeDump is what reference/app/scope.lua answers, strings back as bytes.
type scopeDump struct {
	Scope  map[string]any
	Events []map[string]any
}

// decodeDump decodes scope.lua's JSON, each string back to the bytes it
// stands for.
func decodeDump(body string) scopeDump {
	GinkgoHelper()
	v, err := conformance.DecodeBytesJSON([]byte(body))
	Expect(err).NotTo(HaveOccurred(), body)
	top := v.(map[string]any)
	d := scopeDump{Scope: top["scope"].(map[string]any)}
	for _, e := range top["events"].([]any) {
		d.Events = append(d.Events, e.(map[string]any))
	}
	return d
}

func headersOf(d scopeDump) [][]string {
	var out [][]string
	for _, h := range d.Scope["headers"].([]any) {
		p := h.([]any)
		out = append(out, []string{p[0].(string), p[1].(string)})
	}
	return out
}

func expectEqual(got, want any) {
	GinkgoHelper()
	if diff := cmp.Diff(want, got); diff != "" {
		Fail("mismatch (-want +got):\n" + diff)
	}
}

var _ = Describe("the HTTP scope", func() {
	var s *testServer
	BeforeEach(func() {
		s = serve(refApp("scope.lua"), 1, server.Config{RootPath: "/mount"})
	})

	It("carries every key with the spec's types and versions", func() {
		res := s.roundTrip("GET /a%20b/c%2Fd/caf%C3%A9?x=1&y=%20+z HTTP/1.1\r\nHost: example.test\r\n\r\n", false)
		Expect(res.Status).To(Equal(200))
		d := decodeDump(res.Body)
		host, port, _ := strings.Cut(s.addr, ":")
		want := map[string]any{
			"type":         "http",
			"asgi":         map[string]any{"version": "3.0", "spec_version": "2.5"},
			"lasgi":        map[string]any{"version": event.LASGIVersion},
			"http_version": "1.1",
			"method":       "GET",
			"scheme":       "http",
			"path":         "/mount/a b/c/d/café", // root_path put back (http.scope.root-path-in-path)
			"raw_path":     "/mount/a%20b/c%2Fd/caf%C3%A9",
			"query_string": "x=1&y=%20+z",
			"root_path":    "/mount",
			"headers":      []any{[]any{"host", "example.test"}},
			"server":       []any{host, json.Number(port)},
			"state":        map[string]any{},
			"extensions": map[string]any{"http.response.trailers": map[string]any{}, "lasgi.timers": map[string]any{},
				"lasgi.groups": groupsEntry},
		}
		client := d.Scope["client"].([]any)
		Expect(client).To(HaveLen(2))
		Expect(client[0]).To(Equal("127.0.0.1"))
		port0, err := client[1].(json.Number).Int64()
		Expect(err).NotTo(HaveOccurred(), "client port is an integer")
		Expect(port0).To(BeNumerically(">", 0))
		delete(d.Scope, "client")
		expectEqual(d.Scope, want)
		expectEqual(d.Events, []map[string]any{{"type": "http.request", "body": "", "more_body": false}})
	})

	It("keeps header order and duplicates, lowercases names and trims values", func() {
		res := s.roundTrip("GET / HTTP/1.1\r\nHost: h\r\nX-Dup: 1\r\nAccept: */*\r\nx-dup:  2 \r\nX-EMPTY:\r\nX-Bin: \x80\xff\r\n\r\n", false)
		expectEqual(headersOf(decodeDump(res.Body)), [][]string{
			{"host", "h"}, {"x-dup", "1"}, {"accept", "*/*"}, {"x-dup", "2"}, {"x-empty", ""}, {"x-bin", "\x80\xff"},
		})
	})

	DescribeTable("decodes the path and keeps raw_path and query_string as sent, below root_path",
		func(target, path, rawPath, query string) {
			d := decodeDump(s.get(target).Body)
			expectEqual([]any{d.Scope["path"], d.Scope["raw_path"], d.Scope["query_string"]}, []any{path, rawPath, query})
		},
		Entry("plain", "/p", "/mount/p", "/mount/p", ""),
		Entry("empty query", "/p?", "/mount/p", "/mount/p", ""),
		Entry("query is not decoded", "/p?a=%41+b&&c", "/mount/p", "/mount/p", "a=%41+b&&c"),
		Entry("second ? belongs to the query", "/p?a?b", "/mount/p", "/mount/p", "a?b"),
		Entry("%2F decodes to a slash", "/a%2fb", "/mount/a/b", "/mount/a%2fb", ""),
		Entry("malformed escapes stay", "/a%zzb%4", "/mount/a%zzb%4", "/mount/a%zzb%4", ""),
		Entry("invalid UTF-8 becomes U+FFFD", "/x%ff%e2%82y", "/mount/x\ufffd\ufffdy", "/mount/x%ff%e2%82y", ""),
		Entry("absolute-form keeps the path", "http://example.com/p?q=1", "/mount/p", "/mount/p", "q=1"),
		Entry("absolute-form without a path", "http://example.com", "/mount/", "/mount/", ""),
	)

	It("reports HTTP/1.0 and methods as sent", func() {
		d := decodeDump(s.roundTrip("OPTIONS * HTTP/1.0\r\n\r\n", false).Body)
		expectEqual([]any{d.Scope["http_version"], d.Scope["method"], d.Scope["path"], d.Scope["raw_path"]},
			[]any{"1.0", "OPTIONS", "*", "*"})
		d = decodeDump(s.roundTrip("PATCH /x HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n", false).Body)
		Expect(d.Scope["method"]).To(Equal("PATCH"))
	})

	It("hands binary bodies over byte for byte", func() {
		var body strings.Builder
		for i := 0; i < 256; i++ {
			body.WriteByte(byte(i))
		}
		d := decodeDump(s.roundTrip(fmt.Sprintf("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 256\r\n\r\n%s", body.String()), false).Body)
		var got strings.Builder
		for _, e := range d.Events {
			got.WriteString(e["body"].(string))
		}
		Expect(got.String()).To(Equal(body.String()))
		Expect(d.Events[len(d.Events)-1]["more_body"]).To(BeFalse())
	})
})

// groupsEntry is scope.extensions["lasgi.groups"] as the reference server
// offers it (groups.offer.limits), as the JSON dump of scope.lua reads it.
var groupsEntry = map[string]any{
	"max_message_bytes": json.Number(fmt.Sprint(event.GroupsMaxMessageBytes)),
	"queue":             json.Number(fmt.Sprint(event.GroupsQueue)),
	"max_groups":        json.Number(fmt.Sprint(event.GroupsMaxGroups)),
}
