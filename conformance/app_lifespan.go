package conformance

import (
	"context"
	"fmt"
	"time"

	"github.com/lasgi/lasgi/reference/server/bridge"
	"github.com/lasgi/lasgi/spec/event"
)

// LifespanScript is what the server does in a lifespan app case
// (spec/lifespan.md): lifespan.startup, and once the app has sent
// lifespan.startup.complete, lifespan.shutdown. An app may also fail its
// startup (lifespan.startup.failed), or not support lifespan at all by
// raising or returning before it replies (lifespan.unsupported): both pass,
// the reason kept as the result's message.
type LifespanScript struct {
	// HTTP, when set, is an http exchange played between the startup and
	// the shutdown, in the same Lua state, its scope's state a shallow copy
	// of the lifespan state (lifespan.state.copy); its problems are the
	// case's too.
	HTTP *AppCase
}

// lifespanRules are the rules every lifespan case watches: the core send
// rules, then the app-side lifespan rules. core.send.type, one of
// sendRules, comes first so that a failure's message explains the rules
// broken, not every rule watched (appResult).
var lifespanRules = []string{
	event.RuleEventType, event.RuleEventTable,
	"lifespan.startup.reply", event.RuleLifespanStartupOrder, event.RuleLifespanStartupMessage,
	event.RuleLifespanShutdownReply, event.RuleLifespanShutdownMessage,
}

// lifespanAppCases are the exchanges of the lifespan scope: startup then
// shutdown, and the same with a request served in between that sees the
// lifespan state.
func lifespanAppCases() []*AppCase {
	scope := event.Scope{Type: event.ScopeLifespan}
	return []*AppCase{
		{ID: "app.lifespan/startup-and-shutdown", Rules: lifespanRules, Scope: scope, DisconnectAfter: -1,
			Lifespan: &LifespanScript{}},
		// The copy is the server's to make (lifespan.state.copy, a server
		// rule: this case does not check a server): what the case holds the
		// app to is serving a request between its replies.
		{ID: "app.lifespan/state-in-http", Rules: lifespanRules,
			Scope: scope, DisconnectAfter: -1, Lifespan: &LifespanScript{HTTP: &AppCase{
				ID: "app.lifespan/state-in-http#http", Rules: sendRules, Scope: appScope(nil), DisconnectAfter: -1,
			}}},
	}
}

// Where a lifespan call stands, as the app has received and sent.
const (
	lifeStartup  = "startup"  // lifespan.startup given, no reply yet
	lifeFailed   = "failed"   // the app sent lifespan.startup.failed
	lifeStarted  = "started"  // lifespan.startup.complete, lifespan.shutdown not received
	lifeStopping = "stopping" // lifespan.shutdown received, no reply yet
	lifeStopped  = "stopped"  // the shutdown reply came
)

// How a lifespan call ended.
const (
	lifeReturned = "returned"
	lifeRaised   = "raised"
	lifeWaiting  = "waiting" // in receive(), where no event will come
	lifeTimeout  = "timeout" // still running when the step's time was up
)

// lifespanEnd is how a lifespan call ended, as the embedded VM and the
// harness both report it, for judgeLifespan.
type lifespanEnd struct {
	phase, how string
	err        string // the error, when raised
	rule       string // a problem naming a rule the app broke, the verdict when set
	message    string // of lifespan.startup.failed
}

// judgeLifespan gives the problems of a lifespan call that ended as e.
// Failing the startup and not supporting lifespan pass: the reason is the
// result's message (declinedPrefix).
func judgeLifespan(e lifespanEnd, timeout time.Duration) []string {
	if e.rule != "" {
		return []string{e.rule}
	}
	raised := func(what string) []string { return []string{what + ": " + e.err} }
	switch e.phase {
	case lifeStartup:
		switch e.how {
		case lifeReturned:
			return []string{declinedPrefix + "the app does not support lifespan: it returned before replying to lifespan.startup; a server carries on without lifespan (lifespan.unsupported)"}
		case lifeRaised:
			return []string{declinedPrefix + "the app does not support lifespan: it raised an error before replying to lifespan.startup, which a server takes so (lifespan.unsupported): " + e.err}
		}
		if e.how == lifeWaiting {
			return []string{fmt.Sprintf("lasgi: %s: the app called receive() before replying to lifespan.startup; no event comes before its reply", "lifespan.startup.reply")}
		}
		return []string{fmt.Sprintf("lasgi: %s: the app did not reply to lifespan.startup within %v", "lifespan.startup.reply", timeout)}
	case lifeFailed:
		// However it ends, the server handles the startup as failed
		// (lifespan.error.after-failed) and sends nothing more.
		return []string{declinedPrefix + "the app failed its startup (lifespan.startup.failed)" + messageOf(e.message)}
	case lifeStarted:
		switch e.how {
		case lifeRaised:
			return raised("the app raised an error after its startup completed")
		case lifeReturned:
			return nil // the server serves on, and sends it no lifespan.shutdown
		}
		return []string{fmt.Sprintf("the app did not take lifespan.shutdown within %v", timeout)}
	case lifeStopping:
		switch e.how {
		case lifeReturned:
			return []string{fmt.Sprintf("lasgi: %s: the app returned without replying to lifespan.shutdown", event.RuleLifespanShutdownReply)}
		case lifeRaised:
			return []string{fmt.Sprintf("lasgi: %s: the app raised an error instead of replying to lifespan.shutdown: %s", event.RuleLifespanShutdownReply, e.err)}
		}
		if e.how == lifeWaiting {
			return []string{fmt.Sprintf("lasgi: %s: the app called receive() after lifespan.shutdown without replying; no event comes before its reply", event.RuleLifespanShutdownReply)}
		}
		return []string{fmt.Sprintf("lasgi: %s: the app did not reply to lifespan.shutdown within %v", event.RuleLifespanShutdownReply, timeout)}
	}
	if e.how == lifeRaised { // after its shutdown reply
		return raised("the app raised an error after replying to lifespan.shutdown")
	}
	return nil // the server closes the Lua state after the reply
}

func messageOf(m string) string {
	if m == "" {
		return ", with no message"
	}
	return ": " + ClipText(m)
}

// playLifespan runs a lifespan case on the engine: lifespan.startup, the
// http exchange when the script has one, lifespan.shutdown. Run gives each
// lifespan case an engine of its own, so the state it leaves reaches no
// other case.
func (a *AppChecker) playLifespan(ctx context.Context, c *AppCase, timeout time.Duration) (problems []string, stuck bool) {
	scope := c.Scope
	call := bridge.NewCall(&scope, time.Now().Add(timeout*6))
	call.Push(event.Event{Type: event.LifespanStartup})
	e := lifespanEnd{phase: lifeStartup}
	collect := func() {
		for _, ev := range call.Take() {
			switch ev.Type {
			case event.LifespanStartupComplete:
				e.phase = lifeStarted
			case event.LifespanStartupFailed:
				e.phase, e.message = lifeFailed, ev.Message
			case event.LifespanShutdownComplete, event.LifespanShutdownFailed:
				e.phase = lifeStopped
			}
		}
	}
	finished := func() bool { return call.State().Finished }
	// idle: the app has taken every event pushed and waits in receive() for
	// another, which the script will not push now. receive() signals nothing
	// then: the wait looks every millisecond.
	idle := func() bool { st := call.State(); return st.Receiving && call.Pending() == 0 }
	wait := func(ready func() bool) bool {
		timer := time.NewTimer(timeout)
		defer timer.Stop()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for collect(); !ready(); collect() {
			select {
			case <-call.Notify():
			case <-tick.C:
			case <-timer.C:
				return false
			case <-ctx.Done():
				return false
			}
		}
		return true
	}
	a.engine.Start(call)
	ok := wait(func() bool { return e.phase != lifeStartup || finished() || idle() })
	if ok && e.phase == lifeStarted {
		// The app goes on after its reply to its next receive() or its end,
		// as under the harness, before the request and the shutdown come.
		ok = wait(func() bool { return finished() || idle() })
	}
	var httpProblems []string
	if ok && e.phase == lifeStarted && !finished() {
		// The request's problems come after the call's.
		if h := c.Lifespan.HTTP; h != nil {
			if httpProblems, stuck = a.play(ctx, h); stuck {
				call.Disconnect()
				return httpProblems, true
			}
		}
		call.Push(event.Event{Type: event.LifespanShutdown})
		// Taken once the inbox is empty; State().Watch: the app waits in
		// receive() after it, where nothing more will come.
		ok = wait(func() bool {
			if e.phase == lifeStarted && call.Pending() == 0 {
				e.phase = lifeStopping
			}
			return e.phase == lifeStopped || finished() || idle()
		})
	}
	if ok && !finished() && (e.phase == lifeFailed || e.phase == lifeStopped) {
		// Its return; waiting after the last reply is fine.
		ok = wait(func() bool { return finished() || idle() })
	}
	collect()
	if ctx.Err() != nil {
		return []string{cutOff(ctx)}, true
	}
	st := call.State()
	switch {
	case !st.Finished:
		e.how, stuck = lifeTimeout, true
		if ok || e.phase == lifeFailed || e.phase == lifeStopped {
			e.how = lifeWaiting // idle, or busy where it no longer matters
		}
		call.Disconnect()
	case st.Err != nil:
		e.how, e.err = lifeRaised, ClipText(st.Err.Error())
		if p, classified := errorProblem(st.Err, e.err, false); classified {
			e.rule = p
		}
	default:
		e.how = lifeReturned
	}
	problems = append(judgeLifespan(e, timeout), httpProblems...)
	return append(problems, findingProblems(call)...), stuck
}
