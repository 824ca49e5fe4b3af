//go:build lua54 || luajit

package clua

import (
	"strings"

	"github.com/lasgi/lasgi/spec/event"
)

// The strings every state makes once, at load, and keeps in a table of its
// own: the ops name them by index instead of by their bytes, so building a
// scope pushes them without hashing and interning them again (which was
// the largest part of building one), and send() knows an event's keys by
// their address. lasgi.c gets the list from Go (lasgi_load), so this is
// the one list.
//
// The event's fields come first, in the order of the root node's children
// (LASGI_NFIELDS of them; fieldIndex in values.go), then the scope's keys.
const (
	kType = iota
	kStatus
	kHeaders
	kBody
	kMoreBody
	kTrailers
	kMoreTrailers
	kSubprotocol
	kText
	kBytes
	kCode
	kReason
	kMessage
	kTimeout // receive()'s options (spec/timers.md), read as an event is
	kGroup   // the groups extension (spec/groups.md)
	kData    // LASGI_FIELD_DATA: encoded by groups.c, not read into nodes
	nFields

	kASGI = iota - 1
	kLASGI
	kVersion
	kSpecVersion
	kHTTPVersion
	kMethod
	kScheme
	kPath
	kRawPath
	kQueryString
	kRootPath
	kClient
	kServer
	kSubprotocols
	kState
	kExtensions
	kMaxMessageBytes // the groups extension's limits
	kQueue
	kMaxGroups
	nKeys
)

var keyNames = [nKeys]string{
	kType: "type", kStatus: "status", kHeaders: "headers", kBody: "body", kMoreBody: "more_body",
	kTrailers: "trailers", kMoreTrailers: "more_trailers", kSubprotocol: "subprotocol", kText: "text",
	kBytes: "bytes", kCode: "code", kReason: "reason", kMessage: "message", kTimeout: "timeout",
	kASGI: "asgi", kLASGI: "lasgi", kVersion: "version", kSpecVersion: "spec_version",
	kHTTPVersion: "http_version", kMethod: "method", kScheme: "scheme", kPath: "path",
	kRawPath: "raw_path", kQueryString: "query_string", kRootPath: "root_path", kClient: "client",
	kServer: "server", kSubprotocols: "subprotocols", kState: "state", kExtensions: "extensions",
	kGroup: "group", kData: "data", kMaxMessageBytes: "max_message_bytes",
	kQueue: "queue", kMaxGroups: "max_groups",
}

// commonValues are values scopes carry and apps send often: besides
// sparing the interning when a scope is built, Str hands these out without
// copying them out of Lua's memory.
var commonValues = []string{
	event.ScopeHTTP, event.ScopeWebSocket, event.ScopeLifespan,
	event.ASGIVersion, event.ASGISpecVersion, event.LASGIVersion, event.LifespanSpecVersion,
	"1.0", "2", "http", "https", "ws", "wss", "", "/", "127.0.0.1", "::1", "0",
	"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS",
	event.ExtensionTrailers, event.ExtensionWebSocketDeny, event.ExtensionTimers, event.Timeout,
	event.ExtensionGroups, event.GroupJoin, event.GroupLeave, event.GroupSend, event.GroupMessage,
	"host", "user-agent", "accept", "accept-encoding", "accept-language", "connection", "keep-alive",
	"content-type", "content-length", "cookie", "upgrade", "sec-websocket-key", "sec-websocket-version",
	"sec-websocket-protocol", "sec-websocket-extensions", "origin", "referer", "authorization",
	"close", "cache-control", "location", "set-cookie", "transfer-encoding",
	"text/plain", "text/html", "application/json", "text/plain; charset=utf-8", "text/html; charset=utf-8",
	event.HTTPRequest, event.HTTPDisconnect,
	"http.response.start", "http.response.body", "http.response.trailers",
	"websocket.connect", "websocket.receive", "websocket.disconnect",
	"websocket.accept", "websocket.send", "websocket.close",
	"websocket.http.response.start", "websocket.http.response.body",
	"lifespan.startup", "lifespan.shutdown",
	"lifespan.startup.complete", "lifespan.startup.failed", "lifespan.shutdown.complete", "lifespan.shutdown.failed",
}

// commonStrings is the whole list, by index; commonIndex the index of each
// (its first place, when a value is also a key).
var commonStrings, commonIndex = func() ([]string, map[string]int) {
	all := append(append([]string{}, keyNames[:]...), commonValues...)
	index := make(map[string]int, len(all))
	for i, s := range all {
		if _, ok := index[s]; !ok {
			index[s] = i
		}
	}
	if len(all) > 255 {
		panic("clua: more than 255 common strings: the ops index them with one byte")
	}
	return all, index
}()

// commonMax is the length of the longest common string; commonBuckets
// holds, by bucket (commonBucket), the index of each common string at its
// first place.
var commonMax, commonBuckets = func() (int, [256][]uint8) {
	m := 0
	var b [256][]uint8
	for i, s := range commonStrings {
		m = max(m, len(s))
		if commonIndex[s] == i && s != "" {
			k := commonBucket(s)
			b[k] = append(b[k], uint8(i))
		}
	}
	return m, b
}()

// commonBucket mixes a string's length and its first and last bytes: few
// common strings share a bucket, and finding it reads three bytes where a
// map would hash the whole string.
func commonBucket(s string) int {
	return (len(s)*37 + int(s[0])*7 + int(s[len(s)-1])) & 255
}

// common is s's index in commonStrings (its first place). It is called for
// every string of every scope and event: the map it replaced cost about 7%
// of a hello call in perf. A string longer than all of them is not looked
// at further (a body of 64 KiB, say).
func common(s string) (int, bool) {
	if len(s) > commonMax {
		return 0, false
	}
	if s == "" {
		i, ok := commonIndex[s]
		return i, ok
	}
	for _, i := range commonBuckets[commonBucket(s)] {
		if commonStrings[i] == s {
			return int(i), true
		}
	}
	return 0, false
}

// commonBlob is commonStrings for lasgi_load: each string NUL-terminated
// (none has a NUL of its own).
var commonBlob = strings.Join(commonStrings, "\x00") + "\x00"
