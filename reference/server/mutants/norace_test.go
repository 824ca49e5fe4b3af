//go:build !race

package mutants_test

// slow stretches the run's deadlines; see race_test.go.
const slow = 1
