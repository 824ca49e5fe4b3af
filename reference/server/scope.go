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

// withRootPath puts the configured root path back in front of path and
// rawPath when a proxy stripped it, so that path always includes root_path
// (spec rule http.scope.root-path-in-path). A path that already begins with
// root, as a whole segment ("/api" or "/api/..." for "/api"), and the
// asterisk form "*" are left alone.
func withRootPath(root, path, rawPath string) (string, string) {
	if root == "" || path == "*" || hasPathPrefix(path, root) {
		return path, rawPath
	}
	root = strings.TrimSuffix(root, "/")
	return root + path, root + rawPath
}

func hasPathPrefix(path, root string) bool {
	root = strings.TrimSuffix(root, "/")
	return strings.HasPrefix(path, root) && (len(path) == len(root) || path[len(root)] == '/')
}
