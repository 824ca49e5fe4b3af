// Command gohello is lasgi-serve with no Lua: the reference server's HTTP
// side on an engine that answers every call in Go, as hello.lua would
// (200, content-type text/plain, "Hello World!"), through the same
// bridge.Call. bench/run measures it beside the real engines: what hello
// world would reach if an engine's Lua side cost nothing, the ceiling that
// the engines' targets against nginx and net/http are bounded by.
//
//	gohello [-addr 127.0.0.1:0]
//
// It prints "listening on http://HOST:PORT" once it accepts connections.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"os"

	"github.com/lasgi/lasgi/reference/server"
	"github.com/lasgi/lasgi/reference/server/bridge"
	"github.com/lasgi/lasgi/reference/server/gcpace"
	"github.com/lasgi/lasgi/spec/event"
)

// goHello is hello.lua in Go: two sends and the end of the call.
type goHello struct{}

func (goHello) Start(c *bridge.Call) {
	start := event.Event{Type: event.HTTPResponseStart, Status: 200,
		Headers: []event.Header{{Name: "content-type", Value: "text/plain"}}}
	if _, err := c.Send(&start, nil); err != nil {
		c.Finish(err)
		return
	}
	body := event.Event{Type: event.HTTPResponseBody, Body: "Hello World!"}
	_, err := c.Send(&body, nil)
	c.Finish(err)
}

func (goHello) Close() error { return nil }

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on (port 0 picks a free one)")
	flag.Parse()
	defer gcpace.Start(1000, gcpace.DefaultHeadroom)() // as lasgi-serve does by default
	srv, err := server.New(server.Config{Engine: goHello{}})
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stdout, "listening on http://%s\n", ln.Addr())
	log.Fatal(srv.Serve(ln))
}
