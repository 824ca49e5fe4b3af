package server

import (
	"net"
	"strconv"
	"strings"

	"github.com/lasgi/lasgi/spec/event"
)

// splitTarget splits a request target into raw_path and query_string bytes
// (spec rules http.scope.raw-path and http.scope.query-string). An
// absolute-form target (sent to proxies) keeps only its path.
func splitTarget(target string) (rawPath, query string, err error) {
	if target == "*" {
		return "*", "", nil
	}
	if target[0] != '/' {
		scheme, rest, ok := strings.Cut(target, "://")
		if !ok || !(equalFoldASCII(scheme, "http") || equalFoldASCII(scheme, "https")) {
			return "", "", badRequest("request target is neither a path nor an absolute http URL")
		}
		if i := strings.IndexAny(rest, "/?"); i >= 0 {
			target = rest[i:]
		} else {
			target = "/"
		}
		if target[0] == '?' {
			target = "/" + target
		}
	}
	rawPath, query, _ = strings.Cut(target, "?")
	return rawPath, query, nil
}

// addrOf turns a net.Addr into a scope address, or nil when it has no host
// and port (a Unix socket).
func addrOf(a net.Addr) *event.Addr {
	if a == nil {
		return nil
	}
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return nil
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return nil
	}
	return &event.Addr{Host: host, Port: p}
}
