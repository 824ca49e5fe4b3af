//go:build race

package mutants_test

// slow stretches the run's deadlines under the race detector, which makes
// the server several times slower (a 16 MiB upload no longer fits 1.5 s).
const slow = 4
