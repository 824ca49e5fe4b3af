package conformance

// lifespanAppCases are the exchanges of the lifespan scope.
func lifespanAppCases() []*AppCase { return nil }
