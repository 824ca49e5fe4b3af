package ginkgosuite_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestGinkgosuite(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Conformance as Ginkgo specs")
}
