package conformance

// MergeEvents returns evs with each run of http.request events merged into
// one, as a case's expected events are written (fixtures/README.md): an
// http.request with more_body true takes in the http.request events that
// follow it up to and including the first with more_body false; the bodies
// are concatenated and more_body is that of the last. A server may split a
// body anywhere, so two event lists that merge alike received the same body.
// Other events, and an http.request after a complete one, stay as they are.
// A merged event's Problems are those of the events it was made of, in
// order. evs is not
// modified; the result is nil when evs is empty.
func MergeEvents(evs []Event) []Event { return mergeRuns(evs) }
