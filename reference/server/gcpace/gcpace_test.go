package gcpace_test

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/reference/server/gcpace"
)

func TestGCPace(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "gcpace")
}

const MiB = 1 << 20

// gogc is the GOGC the runtime works with now.
func gogc() int {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return int(s[0].Value.Uint64())
}

var _ = Describe("The GC pacer", func() {
	DescribeTable("gives a live heap the headroom as a share of it, within [100, max]",
		func(live uint64, max int, want int) {
			Expect(gcpace.Percent(live, max, 32*MiB)).To(Equal(want))
		},
		Entry("nothing live yet: the maximum", uint64(0), 400, 400),
		Entry("4 MiB live: 800% would fit, capped at 400", uint64(4*MiB), 400, 400),
		Entry("16 MiB live: 200%", uint64(16*MiB), 400, 200),
		Entry("64 MiB live: never below 100%", uint64(64*MiB), 400, 100),
		Entry("a maximum of 100 stays 100", uint64(MiB), 100, 100),
		Entry("a maximum below 100 is kept", uint64(MiB), 50, 50),
	)

	It("lowers GOGC after collections while much is live, and raises it again once that is freed", func() {
		defer debug.SetGCPercent(debug.SetGCPercent(100))
		stop := gcpace.Start(400, 32*MiB)
		defer stop()
		runtime.GC()
		Eventually(func() int { runtime.GC(); return gogc() }).Should(Equal(400))

		// 96 MiB kept alive: 32 MiB of headroom is a third of it, so 100%.
		live := make([][]byte, 96)
		for i := range live {
			live[i] = make([]byte, MiB)
		}
		Eventually(func() int { runtime.GC(); return gogc() }).Should(Equal(100))
		runtime.KeepAlive(live)

		live = nil
		Eventually(func() int { runtime.GC(); return gogc() }).Should(Equal(400))
	})

	It("leaves GOGC alone once stopped", func() {
		defer debug.SetGCPercent(debug.SetGCPercent(100))
		stop := gcpace.Start(300, 32*MiB)
		runtime.GC()
		Eventually(func() int { runtime.GC(); return gogc() }).Should(Equal(300))
		stop()
		debug.SetGCPercent(150)
		runtime.GC()
		runtime.GC()
		Consistently(func() int { runtime.GC(); return gogc() }, "200ms").Should(Equal(150))
	})
})
