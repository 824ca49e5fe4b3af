// Package event holds the Go shape of LASGI scopes and events and the checks
// the spec's app-side rules make on what an application sends. The reference
// server, the conformance engine and the app checker all use it, so a rule is
// enforced the same way everywhere; every check names its rule ID from the
// catalog in package spec.
package event

// Event type names (spec/http.md).
const (
	HTTPRequest          = "http.request"
	HTTPDisconnect       = "http.disconnect"
	HTTPResponseStart    = "http.response.start"
	HTTPResponseBody     = "http.response.body"
	HTTPResponseTrailers = "http.response.trailers"
)

// Header is one header line. Both fields are byte strings; Name is lowercase
// in everything a server hands an app.
type Header struct {
	Name, Value string
}

// Event is any LASGI event. Which fields mean something depends on Type;
// the zero value of each field is the spec's default for an absent key.
// The booleans sit together: every call holds three events in place
// (bridge.Call), and padding after each would take it past a size class.
type Event struct {
	Type string

	Body         string // http.request, http.response.body
	MoreBody     bool   // http.request, http.response.body
	Trailers     bool   // http.response.start
	MoreTrailers bool   // http.response.trailers
	Binary       bool   // websocket.receive, websocket.send: Message is bytes, not text

	Status  int      // http.response.start
	Headers []Header // http.response.start, http.response.trailers

	// websocket.receive, websocket.send: the message, text unless Binary;
	// lifespan.startup.failed, lifespan.shutdown.failed: the message.
	Message string
	// websocket.accept: the chosen subprotocol, "" for none (Headers are
	// its extra response headers).
	Subprotocol string
	// websocket.close, websocket.disconnect: the close code (0: absent) and
	// reason.
	Code   int
	Reason string

	// lasgi.group.*: the group's name (groups.go says where their data
	// and dropped count go).
	Group string
}

// Addr is a host and port pair as it appears in scope.client and scope.server.
type Addr struct {
	Host string
	Port int
}

// Scope is a scope the server hands an app: the connection scope of an HTTP
// request (spec/http.md#scope) or a WebSocket (spec/websocket.md#scope), or
// a lifespan scope (spec/lifespan.md#scope), of which only Type and
// LASGIVersion mean anything.
type Scope struct {
	Type        string // "http", "websocket", "lifespan"
	HTTPVersion string // "1.0", "1.1" or "2"
	Method      string
	Scheme      string
	Path        string // percent-decoded UTF-8
	RawPath     string // bytes as on the wire, without the query
	QueryString string // bytes after '?', undecoded
	RootPath    string
	Headers     []Header
	Client      *Addr
	Server      *Addr
	// Extensions lists the extension names the server offers; each appears in
	// scope.extensions as an empty table.
	Extensions []string
	// Subprotocols are the subprotocols a websocket client offered, in order.
	Subprotocols []string
	// LASGIVersion overrides scope.lasgi.version (LASGIVersion when empty);
	// the app checker uses it to hand an app a version it must refuse.
	LASGIVersion string
}

// Offers reports whether the scope offers the extension name.
func (s *Scope) Offers(name string) bool {
	for _, e := range s.Extensions {
		if e == name {
			return true
		}
	}
	return false
}

// Spec versions carried in every scope.
const (
	ASGIVersion     = "3.0"
	ASGISpecVersion = "2.5"
	LASGIVersion    = "1.2"
)

// ExtensionTrailers is the name of the response trailers extension.
const ExtensionTrailers = "http.response.trailers"

// The timers extension (spec/timers.md): receive({timeout = seconds})
// returns an event of type Timeout when nothing came in time.
const (
	ExtensionTimers = "lasgi.timers"
	Timeout         = "lasgi.timeout"
)
