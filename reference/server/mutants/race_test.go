//go:build race

package mutants_test

// slow stretches the run's deadlines under the race detector, which makes
// the server several times slower (four 16 MiB uploads at once, one per variant, no longer fit 4 times 1.5 s on two cores).
const slow = 8
