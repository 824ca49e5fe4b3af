// Package mutants_test proves the conformance corpus against the reference
// server's fault injection: every mutant of reference/server/internal/mutant
// must be caught by a case that names the rule it breaks.
package mutants_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestMutants(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Server mutants")
}
