// Package mutant is the reference server's fault injection, for proving that
// the conformance corpus catches a broken server: each Mutant breaks one
// server-side rule in one place. The package is internal, so only code under
// reference/server (its tests, servertest) can name a Fault; lasgi-serve and
// lasgi-check can only pass the zero Fault, which injects nothing.
package mutant

import (
	"errors"

	"github.com/lasgi/lasgi/spec/event"
)

// ID names one mutant. The zero ID is no mutant.
type ID uint8

// Fault is the one fault a server injects. The zero Fault injects none, and
// asking it costs one comparison: hooks on the request path are
// `if f.Is(mutant.X)`. A Fault is a value, held by each server's Config and
// call, so servers with different faults run side by side in one process.
type Fault struct{ id ID }

// Inject returns the fault of mutant id.
func Inject(id ID) Fault { return Fault{id: id} }

// Is reports whether f is mutant id.
func (f Fault) Is(id ID) bool { return f.id == id }

// ID returns which mutant f is (0 for none).
func (f Fault) ID() ID { return f.id }

// Ignores reports whether f is a mutant that lets a violation of err's rule
// pass silently instead of raising it into the app. Only error paths ask.
func (f Fault) Ignores(err error) bool {
	if f.id == 0 {
		return false
	}
	var v *event.Violation
	m, ok := Lookup(f.id)
	return ok && m.Ignore != "" && errors.As(err, &v) && v.Rule == m.Ignore
}

// Mutant is one entry of the registry.
type Mutant struct {
	ID          ID
	Name        string // short, unique, kebab-case
	Rule        string // the server-side rule of spec.Rules() it breaks
	Description string // one line: what the mutant does wrong
	// MustCatch names cases of Rule that must catch the mutant: the test
	// checks each on every run, and docs/mutants.md lists them. Other cases
	// of the rule may catch it too.
	MustCatch []string
	// Gap, when no case of the corpus can catch the mutant yet: the checker
	// feature such a case needs. A test keeps it uncaught, so the gap is
	// closed (and this emptied) when a case catches it.
	Gap string
	// Ignore, for mutants of the app-side checks the server enforces: the
	// violation rule whose error the server swallows (the event is queued).
	Ignore string
}

// All returns the registry, in order; the slice is a copy.
func All() []Mutant {
	out := make([]Mutant, len(registry))
	copy(out, registry)
	return out
}

// Lookup returns the mutant with id.
func Lookup(id ID) (Mutant, bool) {
	if id == 0 || int(id) > len(registry) {
		return Mutant{}, false
	}
	return registry[id-1], true
}
