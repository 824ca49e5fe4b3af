package conformance

// MergeEvents returns evs with each run of http.request events merged into
// one, as a case's expected events are written (fixtures/README.md): an
// http.request with more_body true takes in the http.request events that
// follow it up to and including the first with more_body false; the bodies
// are concatenated and more_body is that of the last. A server may split a
// body anywhere, so two event lists that merge alike received the same body.
// Other events, and an http.request after a complete one, stay as they are.
// A merged event's Problems are those of the events it was made of, in
// order. evs is not modified; the result is nil when evs is empty.
func MergeEvents(evs []Event) []Event {
	// mergeEvents (the checker's own, on probe reports) decides the runs.
	// Each event is handed over with a one-byte body, so the length of a
	// merged body is the number of events in its run; the real bodies and
	// the Problems are then gathered here, and what mergeEvents says of
	// the report's shape (a missing type, say) does not apply to an Event.
	raw := make([]any, len(evs))
	for i, e := range evs {
		raw[i] = map[string]any{"type": e.Type, "more_body": e.MoreBody, "body": "\x00"}
	}
	runs := mergeEvents(raw)
	if len(runs) == 0 {
		return nil
	}
	out := make([]Event, len(runs))
	next := 0
	for i, r := range runs {
		ev := Event{Type: r.Type, MoreBody: r.MoreBody}
		for _, e := range evs[next : next+len(r.Body)] {
			ev.Body += e.Body
			ev.Problems = append(ev.Problems, e.Problems...)
		}
		next += len(r.Body)
		out[i] = ev
	}
	return out
}
