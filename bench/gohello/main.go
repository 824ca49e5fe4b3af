// Command gohello is lasgi-serve with no Lua: the reference server's HTTP
// side on reference/server/gohello, an engine that answers every call in
// Go as hello.lua would, through the same bridge.Call. bench/run measures
// it beside the real engines: what hello world would reach if an engine's
// Lua side cost nothing, the ceiling that the engines' targets against
// nginx and net/http are bounded by.
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
	"github.com/lasgi/lasgi/reference/server/gcpace"
	"github.com/lasgi/lasgi/reference/server/gohello"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on (port 0 picks a free one)")
	flag.Parse()
	defer gcpace.Start(1000, gcpace.DefaultHeadroom)() // as lasgi-serve does by default
	srv, err := server.New(server.Config{Engine: gohello.Engine{}})
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
