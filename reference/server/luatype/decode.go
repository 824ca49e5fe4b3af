package luatype

import (
	"math"

	"github.com/lasgi/lasgi/reference/server/internal/mutant"
	"github.com/lasgi/lasgi/spec/event"
)

// Decode reads an event the app sent in a scope of type scope, checking
// each key's Lua type against the spec. Only the keys of the scope's own
// events are read: any other type is core.send.type, which comes before any
// rule on the event's keys (core.send.check-order). Order and value checks
// are the call's conversation's (event.Response for http). f is a fault to
// inject (tests only).
func Decode[V Value[V]](v V, f mutant.Fault, scope string) (event.Event, error) {
	typ, err := eventType(v)
	if err != nil {
		return event.Event{}, err
	}
	return decodeTyped(v, typ, f, scope)
}

// eventType reads the type of the event v, which must be a table.
func eventType[V Value[V]](v V) (string, error) {
	if v.Kind() != Table {
		return "", event.Violationf(event.RuleEventTable, "send takes an event table, got %s", Describe(v))
	}
	typ := v.Field("type")
	if typ.Kind() != String {
		return "", event.Violationf(event.RuleEventType, "event type must be a string, got %s", Describe(typ))
	}
	return typ.Str(), nil
}

// decodeTyped is Decode once the event's type is read.
func decodeTyped[V Value[V]](v V, typ string, f mutant.Fault, scope string) (event.Event, error) {
	ev := event.Event{Type: typ}
	switch scope {
	case event.ScopeLifespan:
		return decodeLifespan(v, ev)
	case event.ScopeWebSocket:
		return decodeWebSocket(v, ev, f)
	}
	var err error
	switch ev.Type {
	case event.HTTPResponseStart:
		err = decodeStart(v, &ev, f)
	case event.HTTPResponseBody:
		err = decodeBody(v, &ev, f)
	case event.HTTPResponseTrailers:
		if ev.Headers, err = decodeHeaders(v.Field("headers"), event.RuleTrailersHeaders); err != nil {
			return ev, err
		}
		ev.MoreTrailers, err = decodeBool(v, "more_trailers", event.RuleMoreTrailersType)
	}
	return ev, err
}

// decodeStart reads the keys of http.response.start (and of the websocket
// denial's start, which has the same).
func decodeStart[V Value[V]](t V, ev *event.Event, f mutant.Fault) error {
	st := t.Field("status")
	n, isNum := st.Num(), st.Kind() == Number
	if st.Kind() == String && f.Is(mutant.StatusStringCoerced) {
		n, isNum = st.StrNum()
	}
	if !isNum || n != math.Trunc(n) || math.IsInf(n, 0) {
		return event.Violationf(event.RuleStatusType, "status must be an integer, got %s", Describe(st))
	}
	if n < -1e9 || n > 1e9 {
		return event.Violationf(event.RuleStatusRange, "status %v is outside 200..599", n)
	}
	ev.Status = int(n)
	var err error
	if ev.Headers, err = decodeHeaders(t.Field("headers"), event.RuleHeadersType); err != nil && !f.Is(mutant.HeadersMapAccepted) {
		return err
	}
	if ev.Trailers, err = decodeBool(t, "trailers", event.RuleTrailersType); err != nil {
		return err
	}
	return nil
}

// decodeBody reads the keys of http.response.body (and of the websocket
// denial's body).
func decodeBody[V Value[V]](t V, ev *event.Event, f mutant.Fault) error {
	switch b := t.Field("body"); b.Kind() {
	case String:
		ev.Body = b.Str()
	case Number:
		if !f.Is(mutant.BodyNumberCoerced) {
			return event.Violationf(event.RuleBodyType, "body must be a string, got %s", Describe(b))
		}
		ev.Body = numberText(b.Num())
	case Nil:
	default:
		return event.Violationf(event.RuleBodyType, "body must be a string, got %s", Describe(b))
	}
	var err error
	if ev.MoreBody, err = decodeBool(t, "more_body", event.RuleMoreBodyType); err != nil && !f.Is(mutant.MoreBodyStringAccepted) {
		return err
	}
	return nil
}

func decodeBool[V Value[V]](t V, key, rule string) (bool, error) {
	switch b := t.Field(key); b.Kind() {
	case Boolean:
		return b.Bool(), nil
	case Nil:
		return false, nil
	default:
		return false, event.Violationf(rule, "%s must be a boolean, got %s", key, Describe(b))
	}
}

// decodeHeaders reads a list of {name, value} pairs of strings.
func decodeHeaders[V Value[V]](v V, rule string) ([]event.Header, error) {
	if v.Kind() == Nil {
		return nil, nil
	}
	if v.Kind() != Table {
		return nil, event.Violationf(rule, "headers must be a list of {name, value} pairs, got %s", Describe(v))
	}
	n, bad, ok := v.List()
	if !ok {
		return nil, event.Violationf(rule, "headers must be a list (keys 1..n), found key %s", Describe(bad))
	}
	hs := make([]event.Header, 0, n)
	for i := 1; i <= n; i++ {
		pair := v.Index(i)
		ok := pair.Kind() == Table
		if ok {
			// Every key in 1..2 with a border of 2 is a pair: keys 1 and 2
			// (a table with only [2] may have border 2 too; its [1] is nil,
			// which the next check refuses under the same rule).
			m, _, list := pair.List()
			ok = list && m == 2
		}
		if !ok {
			return nil, event.Violationf(rule, "header %d must be a {name, value} pair, got %s", i, Describe(pair))
		}
		name, value := pair.Index(1), pair.Index(2)
		if name.Kind() != String || value.Kind() != String {
			return nil, event.Violationf(rule, "header %d must be two strings, got {%s, %s}", i, Describe(name), Describe(value))
		}
		hs = append(hs, event.Header{Name: name.Str(), Value: value.Str()})
	}
	return hs, nil
}

// decodeLifespan reads the keys of an event sent in a lifespan scope: the
// message of the two failed events, which must be text when present
// (lifespan.startup.message-type, lifespan.shutdown.message-type; its UTF-8
// is event.Lifespan's to check). Every other key is ignored.
func decodeLifespan[V Value[V]](t V, ev event.Event) (event.Event, error) {
	var rule string
	switch ev.Type {
	case event.LifespanStartupFailed:
		rule = event.RuleLifespanStartupMessage
	case event.LifespanShutdownFailed:
		rule = event.RuleLifespanShutdownMessage
	default:
		return ev, nil
	}
	switch m := t.Field("message"); m.Kind() {
	case String:
		ev.Message = m.Str()
	case Nil:
	default:
		return ev, event.Violationf(rule, "message must be a string, got %s", Describe(m))
	}
	return ev, nil
}
