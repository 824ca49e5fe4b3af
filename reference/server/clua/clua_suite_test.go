//go:build lua54 || luajit

package clua_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestClua(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "clua engine")
}
