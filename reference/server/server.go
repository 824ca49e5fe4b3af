// Package server is the LASGI reference server's HTTP side: an HTTP/1.1
// front (keep-alive, pipelining, chunked both ways, HTTP/1.0) that turns each
// request into a bridge.Call and hands it to an Engine. It never touches Lua.
package server

import (
	"context"
	"errors"
	"log"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/lasgi/lasgi/reference/server/bridge"
	"github.com/lasgi/lasgi/reference/server/groups"
	"github.com/lasgi/lasgi/reference/server/internal/mutant"
)

// Config configures a Server. Zero fields take the defaults named below.
type Config struct {
	Engine   bridge.Engine // required
	RootPath string        // scope.root_path, for apps mounted below a prefix

	MaxHeaderBytes int   // request line plus header section; default 64 KiB (431 beyond)
	MaxBodyBytes   int64 // request body; default 100 MiB (413 beyond); -1 for no limit

	ReadTimeout  time.Duration // each read of a request head or body; default 30s
	WriteTimeout time.Duration // each write of a response; default 30s
	IdleTimeout  time.Duration // a keep-alive connection waiting for its next request; default 60s
	AppTimeout   time.Duration // one app call, wall clock; default 5m; -1 for none (a WebSocket's call has none)

	WSMaxMessage   int64         // one received WebSocket message; default 16 MiB (close 1009 beyond)
	WSPingInterval time.Duration // a silent WebSocket is pinged, and given up after as long again; default 20s

	ErrorLog *log.Logger // app errors and connection trouble; nil: the standard logger

	// Groups carries the lasgi.groups extension (spec/groups.md): nil for
	// a hub of this process alone (groups.Local), or one shared with other
	// processes (groups.Open). It is offered only when the engine can
	// carry group data (bridge.CarriesGroups), and not at all with
	// NoGroups. The server does not close it.
	Groups   groups.Hub
	NoGroups bool

	// Fault is a mutant for the conformance corpus to catch. Its type is
	// internal: only tests under reference/server can set it.
	Fault mutant.Fault
}

// Defaults.
const (
	DefaultMaxHeaderBytes = 64 << 10
	DefaultMaxBodyBytes   = 100 << 20
	DefaultReadTimeout    = 30 * time.Second
	DefaultWriteTimeout   = 30 * time.Second
	DefaultIdleTimeout    = 60 * time.Second
	DefaultAppTimeout     = 5 * time.Minute
)

func (c Config) withDefaults() Config {
	if c.MaxHeaderBytes <= 0 {
		c.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.ReadTimeout <= 0 {
		c.ReadTimeout = DefaultReadTimeout
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.AppTimeout == 0 {
		c.AppTimeout = DefaultAppTimeout
	}
	if c.WSMaxMessage <= 0 {
		c.WSMaxMessage = DefaultWSMaxMessage
	}
	if c.WSPingInterval <= 0 {
		c.WSPingInterval = DefaultWSPingInterval
	}
	if c.ErrorLog == nil {
		c.ErrorLog = log.Default()
	}
	return c
}

// Server serves LASGI apps over HTTP/1.x.
type Server struct {
	cfg Config

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
	closing   atomic.Bool
	done      chan struct{} // closed when shutting down
	outside   outsideWriter
	offers    offers
	// copiesBodies: the engine copies what it receives, so the body pump
	// hands it its buffers (bridge.BodyCopier).
	copiesBodies bool
}

// New returns a server for cfg.
func New(cfg Config) (*Server, error) {
	if cfg.Engine == nil {
		return nil, errors.New("server: Config.Engine is nil")
	}
	cfg = cfg.withDefaults()
	return &Server{
		cfg:          cfg,
		offers:       offersFor(&cfg),
		copiesBodies: bridge.CopiesBodies(cfg.Engine),
		listeners:    map[net.Listener]struct{}{},
		conns:        map[*conn]struct{}{},
		done:         make(chan struct{}),
	}, nil
}

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("server: closed")

// Serve accepts connections on ln until Shutdown. It always returns an error.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		return ErrServerClosed
	}
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, ln)
		s.mu.Unlock()
	}()
	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.closing.Load() {
				return ErrServerClosed
			}
			if retryableAccept(err) {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.cfg.ErrorLog.Printf("lasgi-serve: accept: %v; retrying in %v", err, backoff)
				time.Sleep(backoff)
				continue
			}
			return err
		}
		backoff = 0
		c := newConn(s, nc)
		if !s.track(c) {
			nc.Close()
			return ErrServerClosed
		}
		go c.serve()
	}
}

// retryableAccept tells accept errors that pass (out of file descriptors, an
// aborted handshake) from a listener that is gone.
func retryableAccept(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() ||
		errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.ENOBUFS)
}

func (s *Server) track(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing.Load() {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) untrack(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// Shutdown stops accepting, closes idle connections, lets requests in flight
// finish their response, and returns when all connections are gone or ctx is
// done (then the rest are closed and ctx's error is returned).
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if !s.closing.Swap(true) {
		close(s.done)
	}
	for ln := range s.listeners {
		ln.Close()
	}
	s.mu.Unlock()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		s.mu.Lock()
		for c := range s.conns {
			c.closeIfIdle()
		}
		n := len(s.conns)
		s.mu.Unlock()
		if n == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			s.mu.Lock()
			for c := range s.conns {
				c.nc.Close()
			}
			s.mu.Unlock()
			return ctx.Err()
		case <-tick.C:
		}
	}
}
