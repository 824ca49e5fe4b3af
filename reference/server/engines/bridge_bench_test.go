package engines_test

// Benchmarks of the Lua bridge without the network, on every engine this
// binary has: Engine.Start on a bridge.Call, the app running as a
// coroutine, and the HTTP side's loop of Notify / Take / State until the
// call has finished: the Lua side's cost per request. Run them with
//
//	go test -run '^$' -bench . -benchmem ./reference/server/engines
//	go test -tags lua54 -run '^$' -bench . -benchmem ./reference/server/engines

import (
	"testing"
	"time"

	"github.com/lasgi/lasgi/reference/app"
	"github.com/lasgi/lasgi/reference/server/bridge"
	"github.com/lasgi/lasgi/reference/server/engine"
	_ "github.com/lasgi/lasgi/reference/server/engines"
	"github.com/lasgi/lasgi/reference/server/gohello"
	"github.com/lasgi/lasgi/spec/event"
)

// echoOnce receives the (one-event) request body and sends it back.
const echoOnce = `
local start = {type = "http.response.start", status = 200, headers = {{"content-type", "text/plain"}}}
return function(scope, receive, send)
  local ev = receive()
  send(start)
  send({type = "http.response.body", body = ev.body})
end`

// benchScope is the scope of wrk's request to lasgi-serve: GET / with a
// Host header.
func benchScope() *event.Scope {
	return &event.Scope{
		Type: "http", HTTPVersion: "1.1", Method: "GET", Scheme: "http",
		Path: "/", RawPath: "/",
		Headers:    []event.Header{{Name: "host", Value: "127.0.0.1:8000"}},
		Client:     &event.Addr{Host: "127.0.0.1", Port: 40000},
		Server:     &event.Addr{Host: "127.0.0.1", Port: 8000},
		Extensions: []string{event.ExtensionTrailers},
	}
}

func benchEngine(b *testing.B, engineName, name string, src []byte, workers int) engine.Engine {
	b.Helper()
	eng, err := engine.Load(engineName, name, src, engine.Options{Workers: workers})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { eng.Close() })
	return eng
}

// runCall does what the HTTP side does for a request whose body is already
// read: push it, start the app, and take what it sends until it finished.
// It returns the response body bytes.
func runCall(eng engine.Engine, scope *event.Scope, body string) (int, error) {
	call := bridge.NewCall(scope, time.Time{})
	call.Push(event.Event{Type: event.HTTPRequest, Body: body})
	eng.Start(call)
	n := 0
	for {
		<-call.Notify()
		for _, ev := range call.Take() {
			n += len(ev.Body)
		}
		if st := call.State(); st.Finished {
			for _, ev := range call.Take() { // sent after the last look
				n += len(ev.Body)
			}
			return n, st.Err
		}
	}
}

func benchCalls(b *testing.B, eng engine.Engine, body string, want int) {
	scope := benchScope()
	b.ReportAllocs()
	for b.Loop() {
		n, err := runCall(eng, scope, body)
		if err != nil {
			b.Fatal(err)
		}
		if n != want {
			b.Fatalf("got %d body bytes, want %d", n, want)
		}
	}
}

// BenchmarkBridgeCall is one call of reference/app/hello.lua per op on one
// worker: scope table, coroutine, two send()s, finish.
func BenchmarkBridgeCall(b *testing.B) {
	src, err := app.Source("hello.lua")
	if err != nil {
		b.Fatal(err)
	}
	for _, name := range engine.Names() {
		b.Run(name, func(b *testing.B) {
			benchCalls(b, benchEngine(b, name, "hello.lua", src, 1), "", len("Hello World!"))
		})
	}
}

// BenchmarkBridgeCallReceive adds one receive() of a 12-byte body, sent back.
func BenchmarkBridgeCallReceive(b *testing.B) {
	body := "Hello World!"
	for _, name := range engine.Names() {
		b.Run(name, func(b *testing.B) {
			benchCalls(b, benchEngine(b, name, "echo_once.lua", []byte(echoOnce), 1), body, len(body))
		})
	}
}

// BenchmarkBridgeCallParallel runs hello.lua calls from 32 goroutines per
// CPU on one worker per CPU, as lasgi-serve does by default.
func BenchmarkBridgeCallParallel(b *testing.B) {
	src, err := app.Source("hello.lua")
	if err != nil {
		b.Fatal(err)
	}
	for _, name := range engine.Names() {
		b.Run(name, func(b *testing.B) {
			eng := benchEngine(b, name, "hello.lua", src, 0)
			b.ReportAllocs()
			b.SetParallelism(32)
			b.RunParallel(func(pb *testing.PB) {
				scope := benchScope()
				for pb.Next() {
					if n, err := runCall(eng, scope, ""); err != nil || n != len("Hello World!") {
						b.Errorf("got %d body bytes, error %v", n, err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkBridgeBaseline is BenchmarkBridgeCall's loop on gohello.Engine,
// hello with no Lua: BridgeCall's time less this one's is the Lua side's
// cost per request (the engine's scope, coroutine, send decoding and
// crossings), which issue 12's target is about.
func BenchmarkBridgeBaseline(b *testing.B) {
	scope := benchScope()
	b.ReportAllocs()
	var eng gohello.Engine
	for b.Loop() {
		call := bridge.NewCall(scope, time.Time{})
		call.Push(event.Event{Type: event.HTTPRequest})
		eng.Start(call)
		n := 0
		for {
			<-call.Notify()
			for _, ev := range call.Take() {
				n += len(ev.Body)
			}
			if st := call.State(); st.Finished {
				for _, ev := range call.Take() {
					n += len(ev.Body)
				}
				break
			}
		}
		if n != len("Hello World!") {
			b.Fatalf("got %d body bytes", n)
		}
	}
}
