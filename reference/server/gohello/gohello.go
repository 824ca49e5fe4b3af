// Package gohello is hello.lua written in Go against the bridge: an engine
// that answers every call with 200, content-type text/plain and
// "Hello World!", through the same bridge.Call a Lua engine uses. It is
// what a call costs with no Lua at all, measured two ways: the Go
// benchmark BenchmarkBridgeBaseline (reference/server/engines; BridgeCall's
// time less this one's is an engine's Lua side per request) and the
// command bench/gohello (the reference server's HTTP side on it: the most
// hello world could reach on any engine).
package gohello

import (
	"github.com/lasgi/lasgi/reference/server/bridge"
	"github.com/lasgi/lasgi/spec/event"
)

// Engine is the bridge.Engine; the zero value is ready.
type Engine struct{}

// The events it sends, copied per call. Their header names are lowercase,
// so the response checks never write to the shared Headers.
var (
	start = event.Event{Type: event.HTTPResponseStart, Status: 200,
		Headers: []event.Header{{Name: "content-type", Value: "text/plain"}}}
	body = event.Event{Type: event.HTTPResponseBody, Body: "Hello World!"}
)

// Start sends the response and ends the call.
func (Engine) Start(c *bridge.Call) {
	s, b := start, body
	if _, err := c.Send(&s, nil); err != nil {
		c.Finish(err)
		return
	}
	_, err := c.Send(&b, nil)
	c.Finish(err)
}

// Close has nothing to release.
func (Engine) Close() error { return nil }
