package gopherlua

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("A worker's VM lock", func() {
	It("is taken by one goroutine at a time, and handed to a waiter rather than to a goroutine that only tries", func() {
		l := newVMLock()
		Expect(l.TryLock()).To(BeTrue())
		Expect(l.TryLock()).To(BeFalse())
		got := make(chan struct{})
		go func() {
			l.Lock()
			close(got)
		}()
		Consistently(got, 50*time.Millisecond).ShouldNot(BeClosed())
		l.Unlock()
		// A sync.Mutex would let this goroutine take it back before the
		// waiter runs: under load that starved some requests for tens of ms.
		Expect(l.TryLock()).To(BeFalse(), "the lock went to the waiter")
		Eventually(got).Should(BeClosed())
	})

	It("goes to waiters in the order they came", func() {
		l := newVMLock()
		l.Lock()
		order := make(chan int, 3)
		for i := range 3 {
			go func() {
				l.Lock()
				order <- i
				l.Unlock()
			}()
			time.Sleep(20 * time.Millisecond) // the goroutines queue in turn
		}
		l.Unlock()
		Expect([]int{<-order, <-order, <-order}).To(Equal([]int{0, 1, 2}))
	})
})
