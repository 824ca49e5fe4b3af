package conformance

import (
	"context"
	"fmt"
	"time"

	"github.com/lasgi/lasgi/reference/server/bridge"
	"github.com/lasgi/lasgi/spec/event"
)

// WSScript is what the client does in a WebSocket app case: after
// websocket.connect (and, unless Eager, once the app has accepted), it hands
// the app each action in turn, whole messages as the server delivers them.
type WSScript struct {
	Actions []WSAction
	// Eager: the actions come with websocket.connect, before the app has
	// answered it (a client that closes before it is accepted).
	Eager bool
}

// WSAction is one thing the client does: a message (Text, or Bytes when
// Binary), or the end of the connection, with the client's close frame
// (Close, Code, Reason) or without one (Gone: code 1006). Nothing follows an
// end.
type WSAction struct {
	Message string
	Binary  bool
	Close   bool
	Code    int
	Reason  string
	Gone    bool
}

func (a WSAction) ends() bool { return a.Close || a.Gone }

// event is what receive() returns to the app for the action.
func (a WSAction) event() event.Event {
	switch {
	case a.Gone:
		return event.Event{Type: event.WebSocketDisconnect, Code: 1006}
	case a.Close:
		return event.Event{Type: event.WebSocketDisconnect, Code: a.Code, Reason: a.Reason}
	}
	return event.Event{Type: event.WebSocketReceive, Message: a.Message, Binary: a.Binary}
}

// declinedPrefix starts the one problem of a WebSocket case whose app raised
// an error of its own before answering websocket.connect: an app that does
// not serve websocket scopes refuses them so (core.app.scope-type), and the
// server answers 500 (websocket.error.before-accept). appResult passes the
// case, as it passes app.scope/unknown-type for the same error, keeping the
// error as the result's message.
const declinedPrefix = "declined: "

// playWS runs a WebSocket case: websocket.connect, then the script.
func (a *AppChecker) playWS(ctx context.Context, c *AppCase, timeout time.Duration) (problems []string, stuck bool) {
	deadline := time.Now().Add(timeout * time.Duration(len(c.WS.Actions)+3))
	scope := c.Scope
	hub := offerGroups(a.engine, &scope)
	call := bridge.NewCall(&scope, deadline)
	call.Groups = hub
	room := call.Room()
	call.Push(event.Event{Type: event.WebSocketConnect})

	var sent sentLog
	answered := false // accept, close or a denial response came
	accepted := false
	closeCode := 0 // the code of the app's close, once it sent one
	collect := func() {
		n := 0
		for _, ev := range call.Take() {
			sent.add(&ev)
			n += len(ev.Message) + len(ev.Body)
			switch ev.Type {
			case event.WebSocketAccept:
				answered, accepted = true, true
			case event.WebSocketClose:
				answered = true
				switch {
				case !accepted:
					closeCode = 1006 // a 403: the connection just ends
				case ev.Code == 0:
					closeCode = 1000
				default:
					closeCode = ev.Code
				}
			case event.WebSocketDenialStart:
				answered = true
			}
		}
		call.Written(n)
	}
	wait := func(ready func() bool) bool {
		timer := time.NewTimer(timeout)
		defer timer.Stop()
		for collect(); !ready(); collect() {
			select {
			case <-call.Notify():
			case <-room:
			case <-timer.C:
				return false
			case <-ctx.Done():
				return false
			}
		}
		return true
	}
	finished := func() bool { return call.State().Finished }
	fail := func(why string) ([]string, bool) {
		call.Disconnect()
		if ctx.Err() != nil {
			return []string{cutOff(ctx)}, true
		}
		return []string{why + sent.meanwhile()}, true
	}

	ended := false // the client's end (close or 1006) was handed over
	give := func(act WSAction) {
		call.Push(act.event())
		if act.ends() {
			call.Disconnect()
			ended = true
		}
	}
	if c.WS.Eager {
		for _, act := range c.WS.Actions {
			give(act)
		}
	}
	a.engine.Start(call)
	if !c.WS.Eager {
		if !wait(func() bool { return answered || finished() }) {
			return fail(fmt.Sprintf("the app did not answer websocket.connect within %v", timeout))
		}
		for i, act := range c.WS.Actions {
			if finished() || call.State().Complete {
				break // the app returned or closed: the client hears of it
			}
			give(act)
			if act.ends() {
				break
			}
			if !wait(func() bool { return call.Pending() == 0 || finished() }) {
				return fail(fmt.Sprintf("the app did not take message %d of the client within %v", i+1, timeout))
			}
		}
	}
	// A client answers the app's close with its own, and the connection
	// ends: the app hears websocket.disconnect with the code
	// (websocket.close.then-disconnect).
	answerClose := func() bool {
		if !ended && closeCode != 0 {
			call.DisconnectWith(event.Event{Type: event.WebSocketDisconnect, Code: closeCode})
			ended = true
		}
		return finished()
	}
	if !wait(answerClose) {
		if ended {
			// No app-side rule covers it in a websocket scope (unlike
			// http.disconnect.app-return): a hang, named by no rule.
			return fail(fmt.Sprintf("the app did not return within %v after receive() returned websocket.disconnect", timeout))
		}
		return fail(fmt.Sprintf("the app did not return within %v", timeout))
	}
	collect()
	return judgeWS(c, call, &sent, ended), false
}

// judgeWS checks how a WebSocket call ended: an error naming a rule (the
// engine's send checks, through spec/event), an error of the app's own,
// or the disconnected error.
func judgeWS(c *AppCase, call *bridge.Call, sent *sentLog, ended bool) []string {
	st := call.State()
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	errText := ""
	if st.Err != nil {
		errText = ClipText(st.Err.Error())
	}
	problem, classified := "", false
	if st.Err != nil {
		problem, classified = errorProblem(st.Err, errText, ended)
	}
	switch {
	case st.Err == nil && c.WantRaise != "":
		add("%s", servedUnknownScope(c))
	case st.Err == nil:
		// A return is fine, answered or not: before the answer the server
		// refuses the handshake with a 500 (websocket.error.before-accept),
		// and websocket.connect.reply binds only what the app sends; the lint
		// judges it so too (ws_cases.lua, ws-return-before-answering).
	case classified:
		if problem != "" {
			add("%s", problem)
		}
	case c.WantRaise != "":
	case sent.events == 0:
		add("%sthe app raised an error before answering websocket.connect, as an app that does not serve websocket scopes does: %s", declinedPrefix, errText)
	default:
		add("the app raised an error: %s", errText)
	}
	return append(problems, findingProblems(call)...)
}
