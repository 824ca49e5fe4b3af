//go:build lua54 || luajit

package clua

import (
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// common replaced a map lookup by buckets of a few bytes' mix: it must
// still find each common string at its first place, and nothing else.
var _ = Describe("the common strings' lookup", func() {
	It("finds every common string at its first place, and no other string", func() {
		for _, s := range commonStrings {
			i, ok := common(s)
			Expect(ok).To(BeTrue(), "%q", s)
			Expect(i).To(Equal(commonIndex[s]), "%q", s)
		}
		for _, s := range []string{"x", "http.response.bodx", "Content-Type", strings.Repeat("a", commonMax+1), "websocket.sen"} {
			_, ok := common(s)
			Expect(ok).To(BeFalse(), "%q", s)
		}
		most := 0
		for _, b := range commonBuckets {
			most = max(most, len(b))
		}
		GinkgoWriter.Printf("%d common strings, at most %d in a bucket\n", len(commonStrings), most)
		Expect(most).To(BeNumerically("<=", 4), "the buckets should stay short")
	})
})
