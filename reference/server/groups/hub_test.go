package groups_test

import (
	"fmt"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/reference/server/groups"
)

var _ = Describe("Local hub", func() {
	It("is ready as its zero value, and publishing to no members succeeds", func() {
		var h groups.Local
		Expect(h.Publish("nobody", "x")).To(Succeed())
		Expect(h.Members("nobody")).To(BeZero())
		h.Leave("nobody", &recorder{})
		Expect(h.Close()).To(Succeed())
	})

	It("counts a member that joins twice once, and delivers to it once", func() {
		h := groups.NewLocal()
		m, other := &recorder{}, &recorder{}
		Expect(h.Join("room", m)).To(Succeed())
		Expect(h.Join("room", m)).To(Succeed())
		Expect(h.Join("room", other)).To(Succeed())
		Expect(h.Join("hall", m)).To(Succeed())
		Expect(h.Members("room")).To(Equal(2))
		Expect(h.Members("hall")).To(Equal(1))
		Expect(h.Publish("room", "hi")).To(Succeed())
		Expect(m.Got()).To(Equal([]delivery{{"room", "hi"}}))
		Expect(other.Got()).To(Equal([]delivery{{"room", "hi"}}))
	})

	It("leaves nothing behind after leaves, known or not", func() {
		h := groups.NewLocal()
		m, stranger := &recorder{}, &recorder{}
		Expect(h.Join("room", m)).To(Succeed())
		h.Leave("room", stranger)
		h.Leave("unknown", m)
		Expect(h.Members("room")).To(Equal(1))
		h.Leave("room", m)
		h.Leave("room", m)
		Expect(h.Members("room")).To(BeZero())
		Expect(h.Publish("room", "late")).To(Succeed())
		Expect(m.Got()).To(BeEmpty())
	})

	It("keeps one publisher's order and takes joins and publishes from many goroutines at once", func() {
		h := groups.NewLocal()
		watcher := &recorder{}
		Expect(h.Join("room", watcher)).To(Succeed())
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				defer GinkgoRecover()
				m := &recorder{}
				for j := range 200 {
					g := fmt.Sprintf("g%d", j%5)
					Expect(h.Join(g, m)).To(Succeed())
					Expect(h.Publish(g, "x")).To(Succeed())
					Expect(h.Publish("room", fmt.Sprintf("%d.%03d", i, j))).To(Succeed())
					h.Members(g)
					h.Leave(g, m)
				}
			})
		}
		wg.Wait()
		got := watcher.Datas()
		Expect(got).To(HaveLen(8 * 200))
		for i := range 8 {
			var want []string
			for j := range 200 {
				want = append(want, fmt.Sprintf("%d.%03d", i, j))
			}
			Expect(withPrefix(got, fmt.Sprintf("%d.", i))).To(Equal(want))
		}
		for j := range 5 {
			Expect(h.Members(fmt.Sprintf("g%d", j))).To(BeZero())
		}
	})
})
