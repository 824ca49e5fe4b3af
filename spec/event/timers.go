package event

// Rule IDs of the timers extension (spec/timers.md) that Go code checks;
// CheckedRules lists them too.
const (
	RuleTimersOfferedOnly = "timers.offered-only"
	RuleTimersOptions     = "timers.receive.options"
)
