// Command nethttp is the bare Go net/http hello world that bench/run measures
// lasgi-serve against: the ceiling for a Go host. It answers every request
// with 200, content-type text/plain and "Hello World!", like
// reference/app/hello.lua.
//
//	nethttp [-addr 127.0.0.1:0]
//
// It prints "listening on http://HOST:PORT" once it accepts connections.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
)

var hello = []byte("Hello World!")

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on (port 0 picks a free one)")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stdout, "listening on http://%s\n", ln.Addr())
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Content-Type"] = []string{"text/plain"}
		w.Write(hello)
	})
	log.Fatal(http.Serve(ln, h))
}
