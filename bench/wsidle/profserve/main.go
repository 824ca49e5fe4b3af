// Command profserve runs a Lua app on the reference server as lasgi-serve
// does (gopherlua engine, server.New with the default limits), with
// net/http/pprof on a second loopback port, so that a heap profile can be
// taken while bench/wsidle holds connections open:
//
//	go run ./bench/wsidle/profserve -port 9203 -pprof 127.0.0.1:6060 reference/app/ws_echo.lua &
//	go run ./bench/wsidle -url ws://127.0.0.1:9203/ -n 10000 -pid $! -settle 30s &
//	sleep 20; go tool pprof -sample_index=inuse_space -top http://127.0.0.1:6060/debug/pprof/heap?gc=1
//
// It leaves out lasgi-serve's flags, lifespan and graceful shutdown, and
// gcpace: GOGC is the runtime's default unless set.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"strconv"

	"github.com/lasgi/lasgi/reference/server"
	"github.com/lasgi/lasgi/reference/server/gopherlua"
)

func main() {
	port := flag.Int("port", 9203, "loopback port the app is served on")
	workers := flag.Int("workers", 2, "Lua workers")
	pprofAddr := flag.String("pprof", "127.0.0.1:6060", "address of net/http/pprof")
	flag.Parse()
	if flag.NArg() != 1 {
		log.Fatal("usage: profserve [-port 9203] [-workers 2] [-pprof 127.0.0.1:6060] APP.lua")
	}
	logger := log.New(os.Stderr, "", log.LstdFlags)
	engine, err := gopherlua.LoadFile(flag.Arg(0), gopherlua.Options{Workers: *workers, ErrorLog: logger, Lifespan: gopherlua.LifespanOff})
	if err != nil {
		log.Fatal(err)
	}
	srv, err := server.New(server.Config{Engine: engine, ErrorLog: logger})
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(*port)))
	if err != nil {
		log.Fatal(err)
	}
	go func() { log.Fatal(http.ListenAndServe(*pprofAddr, nil)) }()
	fmt.Printf("serving %s on http://%s, pprof on http://%s/debug/pprof/\n", flag.Arg(0), ln.Addr(), *pprofAddr)
	log.Fatal(srv.Serve(ln))
}
