package conformance

// SetMaxHarnessOutput lowers the bound on the harness's result lines, so a
// test can pass it with a few cases.
func SetMaxHarnessOutput(k *InterpreterChecker, n int) { k.maxOutput = n }
