// Package servertest runs the reference server on loopback for tests, in the
// spirit of net/http/httptest: give it a Lua app, get an address.
package servertest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"sync"
	"time"

	"github.com/lasgi/lasgi/reference/server"
	"github.com/lasgi/lasgi/reference/server/engine"
	_ "github.com/lasgi/lasgi/reference/server/engines" // every engine this binary has
)

// Server is a reference server listening on a free 127.0.0.1 port.
type Server struct {
	Addr string      // host:port
	Log  *SyncBuffer // everything the server logged

	srv    *server.Server
	eng    engine.Engine
	served chan error
	once   sync.Once
	err    error
}

// Start serves the Lua app src (name is used in messages) on the gopher-lua
// engine (engine.Default) with opts: StartOn(engine.Default, ...).
func Start(name string, src []byte, opts engine.Options, cfg server.Config, also io.Writer) (*Server, error) {
	return StartOn(engine.Default, name, src, opts, cfg, also)
}

// StartOn serves the Lua app src (name is used in messages) on the engine
// engineName (engine.Load: an engine this binary does not have is an error)
// with opts. cfg sets limits and timeouts; its Engine is filled in,
// and its log, the engine's too, goes to Log and, when not nil, to also. Tests under
// reference/server may set cfg.Fault to run a mutant of the server
// (reference/server/internal/mutant); no other caller can.
func StartOn(engineName, name string, src []byte, opts engine.Options, cfg server.Config, also io.Writer) (*Server, error) {
	s := &Server{Log: &SyncBuffer{}, served: make(chan error, 1)}
	var out io.Writer = s.Log
	if also != nil {
		out = io.MultiWriter(s.Log, also)
	}
	cfg.ErrorLog = log.New(out, "", 0)
	if opts.ErrorLog == nil {
		opts.ErrorLog = cfg.ErrorLog
	}
	eng, err := engine.Load(engineName, name, src, opts)
	if err != nil {
		return nil, err
	}
	s.eng = eng
	cfg.Engine = eng
	if s.srv, err = server.New(cfg); err != nil {
		eng.Close()
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		eng.Close()
		return nil, err
	}
	s.Addr = ln.Addr().String()
	go func() { s.served <- s.srv.Serve(ln) }()
	return s, nil
}

// Stop shuts the server down (waiting up to 5 seconds for requests in
// flight) and closes the engine. It may be called more than once.
func (s *Server) Stop() error {
	s.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := s.srv.Shutdown(ctx)
		select {
		case serveErr := <-s.served:
			if !errors.Is(serveErr, server.ErrServerClosed) && err == nil {
				err = fmt.Errorf("serve: %w", serveErr)
			}
		case <-time.After(5 * time.Second):
			err = errors.Join(err, errors.New("Serve did not return after Shutdown"))
		}
		s.err = errors.Join(err, s.eng.Close())
	})
	return s.err
}

// SyncBuffer is a bytes.Buffer safe for concurrent writes and reads, for
// logs and subprocess output read while they are written.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Server returns the running server, for tests that drive Shutdown themselves.
func (s *Server) Server() *server.Server { return s.srv }
