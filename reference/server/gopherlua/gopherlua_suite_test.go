package gopherlua

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestGopherlua(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "gopher-lua engine")
}
