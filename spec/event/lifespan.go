package event

import "unicode/utf8"

// Lifespan event types (spec/lifespan.md).
const (
	LifespanStartup          = "lifespan.startup"
	LifespanStartupComplete  = "lifespan.startup.complete"
	LifespanStartupFailed    = "lifespan.startup.failed"
	LifespanShutdown         = "lifespan.shutdown"
	LifespanShutdownComplete = "lifespan.shutdown.complete"
	LifespanShutdownFailed   = "lifespan.shutdown.failed"
)

// LifespanSpecVersion is scope.asgi.spec_version of a lifespan scope
// (lifespan.scope.asgi-version): ASGI's lifespan protocol 2.0.
const LifespanSpecVersion = "2.0"

// Lifespan follows one lifespan call as the app receives and sends its
// events, and checks each event the app sends against the order and value
// rules of spec/lifespan.md: it is the lifespan protocol's Conversation.
// The zero value is a call that has received nothing yet. It is not safe
// for concurrent use.
type Lifespan struct {
	// Startup and Shutdown are the replies the app sent (the event type),
	// "" until it sends one.
	Startup, Shutdown string

	gotStartup, gotShutdown bool // lifespan.startup and lifespan.shutdown were received
}

// Send checks ev as the app's next lifespan event and, when it is valid,
// records it.
func (l *Lifespan) Send(ev *Event) error {
	switch ev.Type {
	case LifespanStartupComplete, LifespanStartupFailed:
		switch {
		case !l.gotStartup:
			return Violationf(RuleLifespanStartupOrder, "%s sent before lifespan.startup was received", ev.Type)
		case l.Startup != "":
			return Violationf(RuleLifespanStartupOrder, "%s sent after %s; startup takes one reply", ev.Type, l.Startup)
		}
		if ev.Type == LifespanStartupFailed && !utf8.ValidString(ev.Message) {
			return Violationf(RuleLifespanStartupMessage, "message is not valid UTF-8 text")
		}
		l.Startup = ev.Type
		return nil
	case LifespanShutdownComplete, LifespanShutdownFailed:
		switch {
		case !l.gotShutdown:
			return Violationf(RuleLifespanShutdownReply, "%s sent before lifespan.shutdown was received", ev.Type)
		case l.Shutdown != "":
			return Violationf(RuleLifespanShutdownReply, "%s sent after %s; shutdown takes one reply", ev.Type, l.Shutdown)
		}
		if ev.Type == LifespanShutdownFailed && !utf8.ValidString(ev.Message) {
			return Violationf(RuleLifespanShutdownMessage, "message is not valid UTF-8 text")
		}
		l.Shutdown = ev.Type
		return nil
	default:
		return Violationf(RuleEventType, "%q is not an event an app sends in a lifespan scope (it sends %s, %s, %s or %s)", ev.Type,
			LifespanStartupComplete, LifespanStartupFailed, LifespanShutdownComplete, LifespanShutdownFailed)
	}
}

// Received notes lifespan.startup and lifespan.shutdown as the app takes them.
func (l *Lifespan) Received(ev *Event) {
	switch ev.Type {
	case LifespanStartup:
		l.gotStartup = true
	case LifespanShutdown:
		l.gotShutdown = true
	}
}

// Done reports whether the app has nothing more to send: it answered
// lifespan.shutdown, or failed its startup (after which the server sends no
// lifespan.shutdown, lifespan.shutdown.only-after-startup).
func (l *Lifespan) Done() bool {
	return l.Shutdown != "" || l.Startup == LifespanStartupFailed
}

// Drained reports whether lifespan.shutdown, the last event the server
// sends, was received.
func (l *Lifespan) Drained() bool { return l.gotShutdown }

// Final reports that lifespan has no event for a call that is over: a
// receive() after the last reply waits until the server closes the state.
func (l *Lifespan) Final() (Event, string, bool) { return Event{}, "", false }

// Findings is empty: no lifespan rule the app breaks is put right instead
// of raised.
func (l *Lifespan) Findings() []*Violation { return nil }
