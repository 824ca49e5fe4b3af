package luatype

import (
	"math"
	"time"

	"github.com/lasgi/lasgi/reference/server/internal/mutant"
	"github.com/lasgi/lasgi/spec/event"
)

// maxTimeout is the longest wait a timeout asks for that is kept as asked:
// a longer one (up to infinity, which is refused) waits this long, some 31
// years, so that no duration overflows.
const maxTimeout = 1e9 * time.Second

// ReceiveOptions reads the argument of receive() (spec/timers.md): given
// reports whether there was one (none: receive as without the extension),
// timed whether it asks for a timeout, and d the timeout. An argument in a
// scope that does not offer lasgi.timers is timers.offered-only, one that is
// not a table or has a timeout that is not a number ≥ 0 is
// timers.receive.options. f is a fault to inject (tests only).
func ReceiveOptions[V Value[V]](v V, f mutant.Fault, scope *event.Scope) (d time.Duration, timed bool, err error) {
	d, timed, err = receiveOptions(v, f, scope)
	if err != nil && f.Ignores(err) {
		return 0, false, nil // mutant.TimersOptionsUnchecked: as if none were given
	}
	return d, timed, err
}

func receiveOptions[V Value[V]](v V, f mutant.Fault, scope *event.Scope) (time.Duration, bool, error) {
	if v.Kind() == Nil {
		return 0, false, nil
	}
	if !scope.Offers(event.ExtensionTimers) {
		return 0, false, event.Violationf(event.RuleTimersOfferedOnly,
			"receive takes no argument in a %s scope: it does not offer the %s extension", scope.Type, event.ExtensionTimers)
	}
	if v.Kind() != Table {
		return 0, false, event.Violationf(event.RuleTimersOptions, "receive takes an options table, got %s", Describe(v))
	}
	t := v.Field("timeout")
	switch {
	case t.Kind() == Nil:
		if f.Is(mutant.TimersWithoutTimesOut) {
			return 0, true, nil
		}
		return 0, false, nil
	case t.Kind() != Number:
		return 0, false, event.Violationf(event.RuleTimersOptions, "timeout must be a number of seconds, got %s", Describe(t))
	}
	s := t.Num()
	if s < 0 || math.IsNaN(s) || math.IsInf(s, 0) {
		return 0, false, event.Violationf(event.RuleTimersOptions, "timeout must be a number of seconds, not negative, NaN or infinite; got %s", Describe(t))
	}
	if s >= maxTimeout.Seconds() {
		return maxTimeout, true, nil
	}
	return time.Duration(s * float64(time.Second)), true, nil
}
