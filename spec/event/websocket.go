package event

import (
	"strings"
	"unicode/utf8"
)

// WebSocket event type names (spec/websocket.md).
const (
	WebSocketConnect       = "websocket.connect"
	WebSocketAccept        = "websocket.accept"
	WebSocketReceive       = "websocket.receive"
	WebSocketSend          = "websocket.send"
	WebSocketClose         = "websocket.close"
	WebSocketDisconnect    = "websocket.disconnect"
	WebSocketDenialStart   = "websocket.http.response.start"
	WebSocketDenialBody    = "websocket.http.response.body"
	ExtensionWebSocketDeny = "websocket.http.response"
)

// Rule IDs of the websocket checks.
const (
	RuleWSAcceptOnce       = "websocket.accept.once"
	RuleWSSubprotocol      = "websocket.accept.subprotocol"
	RuleWSAcceptHeaders    = "websocket.accept.headers-type"
	RuleWSNoProtocolHeader = "websocket.accept.no-protocol-header"
	RuleWSConnectReply     = "websocket.connect.reply"
	RuleWSSendOneOf        = "websocket.send.one-of"
	RuleWSSendBytes        = "websocket.send.bytes-type"
	RuleWSSendText         = "websocket.send.text-type"
	RuleWSSendAfterAccept  = "websocket.send.after-accept"
	RuleWSSendAfterClose   = "websocket.send.after-close"
	RuleWSSendAfterDisc    = "websocket.send.after-disconnect"
	RuleWSCloseCode        = "websocket.close.code"
	RuleWSCloseReason      = "websocket.close.reason"
	RuleWSDenialOffered    = "websocket.denial.offered"
	RuleWSDenialWhen       = "websocket.denial.when"
	RuleWSDenialClose      = "websocket.denial.close"
	RuleWSDenialKeys       = "websocket.denial.keys"
	RuleWSDisconnectRepeat = "websocket.disconnect.repeat"
	maxCloseReason         = 123
	wsProtocolHeader       = "sec-websocket-protocol"
)

// WebSocketRules lists the rule IDs above, for the catalog test.
var WebSocketRules = []string{
	RuleWSAcceptOnce, RuleWSSubprotocol, RuleWSAcceptHeaders, RuleWSNoProtocolHeader,
	RuleWSConnectReply, RuleWSSendOneOf, RuleWSSendBytes, RuleWSSendText,
	RuleWSSendAfterAccept, RuleWSSendAfterClose, RuleWSSendAfterDisc, RuleWSCloseCode,
	RuleWSCloseReason, RuleWSDenialOffered, RuleWSDenialWhen, RuleWSDenialClose,
	RuleWSDenialKeys, RuleWSDisconnectRepeat,
}

// wsState is where a WebSocket stands, as the app has sent it.
type wsState int

const (
	wsPending wsState = iota // the handshake waits for the app's answer
	wsOpen                   // accepted
	wsClosed                 // the app sent websocket.close
	wsDenying                // the denial response has started
	wsDenied                 // the denial response is complete
)

// WebSocket follows one websocket scope as an app sends it and checks each
// event against spec/websocket.md's order and value rules. Type checks (a
// key of the wrong Lua type, text and bytes both or neither) are the
// engine's, when it turns a Lua table into an Event; WebSocket checks what
// an Event can still get wrong. Make it with NewWebSocket; it is not safe
// for concurrent use.
type WebSocket struct {
	scope *Scope
	state wsState
	// Accepted is the accept event the app sent, for the server to
	// complete the handshake with.
	Accepted *Event
	denial   Response // the denial response, checked as an HTTP response
	// disconnect is the websocket.disconnect the app has received, which
	// every later receive() returns again (websocket.disconnect.repeat).
	disconnect *Event
	findings   []*Violation // SHOULD-level slips in the accept headers
}

// NewWebSocket returns the checks of a websocket scope.
func NewWebSocket(s *Scope) *WebSocket { return &WebSocket{scope: s} }

// Open reports whether the app has accepted and not closed.
func (w *WebSocket) Open() bool { return w.state == wsOpen }

// Refused reports whether the app closed before accepting (a 403) or sent a
// denial response.
func (w *WebSocket) Refused() bool {
	return w.state == wsDenying || w.state == wsDenied || w.state == wsClosed && w.Accepted == nil
}

// Denial returns the denial response as sent so far.
func (w *WebSocket) Denial() *Response { return &w.denial }

// Send checks ev as the app's next event and, when it is valid, advances the
// state. A broken rule comes back as a *Violation and leaves the state as it
// was.
func (w *WebSocket) Send(ev *Event) error {
	if w.state == wsDenied {
		return Violationf(RuleWSDenialClose, "%s sent after the denial response was complete", ev.Type)
	}
	if w.state == wsClosed {
		return Violationf(RuleWSSendAfterClose, "%s sent after websocket.close", ev.Type)
	}
	switch ev.Type {
	case WebSocketAccept:
		return w.accept(ev)
	case WebSocketSend:
		switch w.state {
		case wsPending:
			return Violationf(RuleWSSendAfterAccept, "websocket.send before websocket.accept")
		case wsDenying:
			return Violationf(RuleWSConnectReply, "websocket.send while the denial response is being sent")
		}
		if !ev.Binary && !utf8.ValidString(ev.Message) {
			return Violationf(RuleWSSendText, "text is not valid UTF-8")
		}
		return nil
	case WebSocketClose:
		if w.state == wsDenying {
			return Violationf(RuleWSDenialWhen, "websocket.close while the denial response is being sent")
		}
		if err := checkClose(ev); err != nil {
			return err
		}
		w.state = wsClosed
		return nil
	case WebSocketDenialStart, WebSocketDenialBody:
		return w.deny(ev)
	}
	return Violationf(RuleEventType, "%q is not an event an app sends in a websocket scope", ev.Type)
}

func (w *WebSocket) accept(ev *Event) error {
	if w.state != wsPending {
		return Violationf(RuleWSAcceptOnce, "websocket.accept sent after the handshake was answered")
	}
	if ev.Subprotocol != "" && !contains(w.scope.Subprotocols, ev.Subprotocol) {
		return Violationf(RuleWSSubprotocol, "subprotocol %q is not one the client offered (%q)", ev.Subprotocol, w.scope.Subprotocols)
	}
	for i, h := range ev.Headers {
		if err := CheckHeader(h, i+1); err != nil {
			return err
		}
		if lowerASCII(h.Name) == wsProtocolHeader {
			return Violationf(RuleWSNoProtocolHeader, "headers include %s; the subprotocol key chooses one", wsProtocolHeader)
		}
	}
	for i, h := range ev.Headers {
		if hasUpper(h.Name) {
			w.findings = append(w.findings, Violationf(RuleHeaderLowercase, "accept header %d, %q, has uppercase letters; the server lowercased it", i+1, h.Name))
			ev.Headers[i].Name = lowerASCII(h.Name)
		}
	}
	w.state = wsOpen
	w.Accepted = ev
	return nil
}

// checkClose checks a close event's code and reason (websocket.close.code,
// websocket.close.reason): a code an endpoint may send, a reason of valid
// UTF-8 that fits a close frame.
func checkClose(ev *Event) error {
	if c := ev.Code; c != 0 && !(c >= 1000 && c <= 1003 || c >= 1007 && c <= 1014 || c >= 3000 && c <= 4999) {
		return Violationf(RuleWSCloseCode, "code %d is not one an endpoint may send (1000-1003, 1007-1014, 3000-4999)", c)
	}
	if len(ev.Reason) > maxCloseReason {
		return Violationf(RuleWSCloseReason, "reason of %d bytes; at most %d fit a close frame", len(ev.Reason), maxCloseReason)
	}
	if !utf8.ValidString(ev.Reason) {
		return Violationf(RuleWSCloseReason, "reason is not valid UTF-8")
	}
	return nil
}

// deny checks a denial response event: only where the extension is offered,
// only in place of an answer to the handshake, and otherwise as the HTTP
// response event it stands for.
func (w *WebSocket) deny(ev *Event) error {
	if !w.scope.Offers(ExtensionWebSocketDeny) {
		return Violationf(RuleWSDenialOffered, "%s sent, but the scope does not offer the %s extension", ev.Type, ExtensionWebSocketDeny)
	}
	if w.state == wsOpen {
		return Violationf(RuleWSDenialWhen, "%s sent after websocket.accept", ev.Type)
	}
	as := *ev
	as.Type = HTTPResponseStart
	if ev.Type == WebSocketDenialBody {
		as.Type = HTTPResponseBody
	}
	if err := w.denial.Send(&as); err != nil {
		return DenialKeys(err)
	}
	ev.Headers, ev.Body = as.Headers, as.Body // put right as the HTTP checks did
	w.state = wsDenying
	if w.denial.Complete {
		w.state = wsDenied
	}
	return nil
}

// DenialKeys is err as a denial response event breaks it: an HTTP rule
// broken by a websocket.http.response.start or .body is
// websocket.denial.keys, which holds their keys to the HTTP rules (its
// detail names the HTTP rule); other errors are returned as they are. The
// engine's Lua type checks of the denial events go through it too.
func DenialKeys(err error) error {
	if v, ok := err.(*Violation); ok && strings.HasPrefix(v.Rule, "http.") {
		return Violationf(RuleWSDenialKeys, "%s (%s)", v.Detail, v.Rule)
	}
	return err
}

// Received notes an event receive() returned to the app.
func (w *WebSocket) Received(ev *Event) {
	if ev.Type == WebSocketDisconnect && w.disconnect == nil {
		d := *ev
		w.disconnect = &d
	}
}

// Done reports whether the app may send nothing more: it closed, or its
// denial response is complete.
func (w *WebSocket) Done() bool { return w.state == wsClosed || w.state == wsDenied }

// Drained is false: the server reads a WebSocket for frames all along, so
// there is no point after which it must start watching for the close.
func (w *WebSocket) Drained() bool { return false }

// Final is the websocket.disconnect the app received, which every later
// receive() returns again; before one came, there is none (receive() waits
// for the server to push it).
func (w *WebSocket) Final() (Event, string, bool) {
	if w.disconnect == nil {
		return Event{}, "", false
	}
	return *w.disconnect, RuleWSDisconnectRepeat, true
}

// Findings returns the SHOULD-level rules the app broke and the server put
// right: uppercase header names in the accept or the denial response.
func (w *WebSocket) Findings() []*Violation {
	return append(append([]*Violation(nil), w.findings...), w.denial.Findings()...)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
