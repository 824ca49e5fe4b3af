// Command lasgi-serve serves a LASGI app over HTTP with the reference server.
//
//	lasgi-serve [flags] [APP.lua]
//
// With no app file it serves the built-in reference/app/hello.lua. Its
// flags, behaviour and exit codes are those of package
// github.com/lasgi/lasgi/reference/server/serve.
package main

import (
	"os"
	"os/signal"
	"syscall"

	"github.com/lasgi/lasgi/reference/server/serve"
)

func main() {
	// Signals are caught before the line that says the server listens: a
	// signal sent once it is read must find the handler in place.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	os.Exit(serve.Run(os.Args[1:], serve.Env{Stdout: os.Stdout, Stderr: os.Stderr, Signals: sigs, PaceGC: true}))
}
