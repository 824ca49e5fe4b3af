package event

// Conversation is the app's side of one call, for one scope type: it checks
// each event the app sends against that protocol's order and value rules,
// follows what the app has received, and says what receive() gives once the
// call is over. The server (bridge.Call) holds one per call, chosen by the
// scope's type from Protocols, and calls it under the call's lock: a
// Conversation is not safe for concurrent use.
//
// A protocol is one type implementing it (Response for http, Lifespan for
// lifespan) and one entry in Protocols.
type Conversation interface {
	// Send checks ev as the app's next event and, when it is valid,
	// advances the state. A broken MUST rule comes back as a *Violation
	// ("lasgi: <rule-id>: <detail>") and leaves the state as it was; a
	// broken SHOULD rule is put right in ev and recorded for Findings.
	Send(ev *Event) error
	// Received notes an event that receive() returned to the app.
	Received(ev *Event)
	// Done reports whether the app's side is complete: it may send nothing
	// more (a complete HTTP response; lifespan after its last reply).
	Done() bool
	// Drained reports whether the app has received the last event the
	// server has for it before the end (the last http.request): a receive()
	// that waits now waits for the end itself, which the server may then
	// watch for (the HTTP side reads the socket for the client leaving).
	Drained() bool
	// Final is the event receive() returns once the call is Done, or the
	// peer has gone with nothing left queued (http.disconnect), with the
	// rule an app breaks by calling receive() on and on instead of
	// returning. ok is false when the protocol has no such event
	// (lifespan): receive() then waits until the server drops the call.
	Final() (ev Event, rule string, ok bool)
	// Findings returns the SHOULD-level rules the app broke in the events
	// Send accepted, in order. The slice is shared; callers must not
	// modify it.
	Findings() []*Violation
}

// Scope types.
const (
	ScopeHTTP      = "http"
	ScopeWebSocket = "websocket"
	ScopeLifespan  = "lifespan"
)

// Protocols makes the Conversation of a new call, keyed by scope type. A
// protocol joins by adding its entry here; nothing else in the server needs
// to change for its send checks and receive behaviour.
var Protocols = map[string]func(*Scope) Conversation{
	ScopeHTTP: func(s *Scope) Conversation {
		r := ResponseFor(s)
		return &r
	},
	ScopeWebSocket: func(s *Scope) Conversation { return NewWebSocket(s) },
	ScopeLifespan:  func(*Scope) Conversation { return &Lifespan{} },
}

// NewConversation returns the Conversation of a call for s, or nil when no
// protocol has s's type.
func NewConversation(s *Scope) Conversation {
	if mk := Protocols[s.Type]; mk != nil {
		return mk(s)
	}
	return nil
}
