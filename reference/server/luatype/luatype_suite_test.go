package luatype_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestLuatype(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "luatype")
}
