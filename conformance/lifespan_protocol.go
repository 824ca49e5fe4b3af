package conformance

// lifespanProtocol is spec/lifespan.md: the cases that start the server
// under test afresh (a Launcher) to see its lifespan calls, what the probe
// recorded of them, and the app cases of the lifespan scope.
var lifespanProtocol = protocol{
	name:     "lifespan",
	appCases: lifespanAppCases,
}
