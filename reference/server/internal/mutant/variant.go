package mutant

// Variants are the opposite of mutants: each makes the reference server take
// another way the spec permits (a choice a server written elsewhere may make),
// so that a case which fails on one claims a failure that is none. The test
// runs the whole corpus against each and requires every case to pass or skip.
const (
	// CloseEveryResponse closes each connection after one response, saying
	// connection: close (RFC 9112 §9.3 lets a server not keep connections).
	CloseEveryResponse ID = 200 + iota
	// HeadAtStart writes the response head at http.response.start, as
	// uvicorn does, instead of holding it until the first body event
	// (http.start.deferred is a MAY).
	HeadAtStart
	// NoExtensions offers no extension in an http scope's scope.extensions
	// (an empty table).
	NoExtensions
	// UnfoldObsFold replaces obsolete line folding in a request header with
	// a space instead of answering 400 (RFC 9112 section 5.2 permits both).
	UnfoldObsFold
)

// Variant is one permitted behaviour of the registry of variants.
type Variant struct {
	ID          ID
	Name        string
	Description string
	// Exercises names cases that take their other permitted outcome (or
	// skip) under the variant: the test checks the variant really changed
	// what they saw, so a variant that does nothing cannot pass.
	Exercises []string
}

var variants = []Variant{
	{ID: CloseEveryResponse, Name: "close-every-response", Description: "every response says connection: close and the connection closes after it",
		Exercises: []string{"http.connection/keep-alive", "http.connection/pipelined-three", "http.request/unread-body-then-next-request", "http.response/head-then-get-on-one-connection", "http.response/204-body-and-length-dropped"}},
	{ID: HeadAtStart, Name: "head-at-start", Description: "the response head goes out at http.response.start, not with the first body",
		Exercises: []string{"http.error/raise-after-head-held", "http.response/single-body-content-length", "http.response/http-1.0-single-body-content-length"}},
	{ID: NoExtensions, Name: "no-extensions", Description: "scope.extensions of an http scope is an empty table: trailers, timers and groups are not offered there",
		Exercises: []string{"http.response/trailers-sent", "http.send/trailers-before-last-body", "timers.receive/timeout-after-body", "groups.offer/limits-http", "groups.queue/flood"}},
	{ID: UnfoldObsFold, Name: "unfold-obs-fold", Description: "a folded request header line is joined to the one before with a space, not refused with 400",
		Exercises: []string{"http.malformed/obsolete-line-folding"}},
}

// Variants returns the registry of variants, in order; the slice is a copy.
func Variants() []Variant {
	out := make([]Variant, len(variants))
	copy(out, variants)
	return out
}
