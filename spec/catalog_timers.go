package spec

// timersRules are the rules of timers.md, the lasgi.timers extension.
var timersRules = []Rule{
	{
		ID:         "timers.offer",
		Level:      May,
		Side:       Server,
		Section:    "timers.md#offering-timers",
		Text:       "A server MAY offer the timers extension, as `scope.extensions[\"lasgi.timers\"] = {}` in `http` and `websocket` scopes.",
		Untestable: "A permission: a server without timers conforms; the cases of the other timers rules are skipped when a server does not offer the extension.",
	},
	{
		ID:      "timers.offered-only",
		Level:   MustNot,
		Side:    App,
		Section: "timers.md#offering-timers",
		Text:    "An application MUST NOT pass an argument to `receive` unless the server offers `lasgi.timers` in the current scope.",
	},
	{
		ID:      "timers.receive.options",
		Level:   Must,
		Side:    App,
		Section: "timers.md#waiting-with-a-timeout",
		Text:    "The argument of `receive`, when given, MUST be a table, and its `timeout` key, when present, MUST be a number that is not negative, not NaN and not infinite.",
	},
	{
		ID:      "timers.receive.invalid-raises",
		Level:   Must,
		Side:    Server,
		Section: "timers.md#waiting-with-a-timeout",
		Text:    "A server that offers timers MUST raise, in the way [`core.send.invalid-raises`](core.md#core.send.invalid-raises) describes for `send`, when `receive` is called with an argument that breaks [`timers.receive.options`](#timers.receive.options).",
	},
	{
		ID:      "timers.receive.timeout",
		Level:   Must,
		Side:    Server,
		Section: "timers.md#waiting-with-a-timeout",
		Text:    "When `receive` is called with a `timeout` of T seconds and no event is available for the application within T seconds, the server MUST return the event `{type = \"lasgi.timeout\"}`.",
	},
	{
		ID:      "timers.receive.not-early",
		Level:   MustNot,
		Side:    Server,
		Section: "timers.md#waiting-with-a-timeout",
		Text:    "The server MUST NOT return `lasgi.timeout` before T seconds have passed since `receive` was called.",
	},
	{
		ID:      "timers.receive.prompt",
		Level:   Should,
		Side:    Server,
		Section: "timers.md#waiting-with-a-timeout",
		Text:    "The server SHOULD return `lasgi.timeout` promptly once T seconds have passed, within a second at most.",
	},
	{
		ID:      "timers.receive.event-first",
		Level:   Must,
		Side:    Server,
		Section: "timers.md#waiting-with-a-timeout",
		Text:    "When an event is available for the application, already waiting or arriving before the T seconds are over, `receive` MUST return that event instead of `lasgi.timeout`; with a `timeout` of 0 it returns at once, the available event or else `lasgi.timeout`.",
	},
	{
		ID:      "timers.receive.no-loss",
		Level:   MustNot,
		Side:    Server,
		Section: "timers.md#waiting-with-a-timeout",
		Text:    "A call of `receive` that returns `lasgi.timeout` MUST NOT take any event: the events that arrive afterwards are returned by the later calls of `receive`, in order, as without the timeout.",
	},
	{
		ID:      "timers.receive.without",
		Level:   Must,
		Side:    Server,
		Section: "timers.md#waiting-with-a-timeout",
		Text:    "A call of `receive` with no argument, or with a table that has no `timeout` key, MUST wait for the next event as it would if timers were not offered, and MUST NOT return `lasgi.timeout`.",
	},
}
