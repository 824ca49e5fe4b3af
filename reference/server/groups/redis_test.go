package groups_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/reference/server/groups"
	"github.com/lasgi/lasgi/spec/event"
)

// Every spec runs two Redis hubs on one redis-server, as two lasgi-serve
// processes would.
var _ = Describe("Redis hub", func() {
	var (
		srv  *redisServer
		a, b *groups.Redis
	)
	newHub := func() *groups.Redis {
		GinkgoHelper()
		h, err := groups.NewRedis(srv.URL())
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(h.Close)
		return h
	}
	BeforeEach(func() {
		srv = startRedis()
		a, b = newHub(), newHub()
	})

	// publishAll publishes datas on h in order, then "end".
	publishAll := func(h *groups.Redis, group string, datas []string) time.Duration {
		GinkgoHelper()
		start := time.Now()
		for _, d := range append(datas, "end") {
			Expect(h.Publish(group, text(d))).To(Succeed())
		}
		return time.Since(start)
	}
	// awaitEnd waits for m to have received "end" n times.
	awaitEnd := func(m *recorder, n int) {
		GinkgoHelper()
		Eventually(func() int { return countOf(m.Datas(), "end") }).WithTimeout(10 * time.Second).Should(Equal(n))
	}

	It("delivers a message to the members in both processes, in order, exactly once", func() {
		ma, mb := &recorder{}, &recorder{}
		Expect(a.Join("room", ma)).To(Succeed())
		Expect(b.Join("room", mb)).To(Succeed())
		var want []string
		for i := range 1000 {
			want = append(want, fmt.Sprintf("m%04d", i))
		}
		took := publishAll(a, "room", want)
		GinkgoWriter.Printf("1001 sequential PUBLISHes: %v, %v each\n", took, took/1001)
		want = append(want, "end")
		for _, m := range []*recorder{ma, mb} {
			awaitEnd(m, 1)
			// Order kept, and a message delivered twice would sit before
			// "end", which is last.
			Expect(cmp.Diff(want, m.Datas())).To(BeEmpty())
			for _, d := range m.Got() {
				Expect(d.Group).To(Equal("room"))
			}
		}
	})

	It("keeps each sender's order when two send at once", func() {
		ma, mb := &recorder{}, &recorder{}
		Expect(a.Join("room", ma)).To(Succeed())
		Expect(b.Join("room", mb)).To(Succeed())
		seq := func(p string) (s []string) {
			for i := range 300 {
				s = append(s, fmt.Sprintf("%s%03d", p, i))
			}
			return s
		}
		var wg sync.WaitGroup
		for _, h := range []*groups.Redis{a, b} {
			p := map[*groups.Redis]string{a: "a", b: "b"}[h]
			wg.Go(func() {
				defer GinkgoRecover()
				publishAll(h, "room", seq(p))
			})
		}
		wg.Wait()
		for _, m := range []*recorder{ma, mb} {
			awaitEnd(m, 2)
			got := m.Datas()
			Expect(got).To(HaveLen(602))
			for _, p := range []string{"a", "b"} {
				Expect(cmp.Diff(seq(p), withPrefix(got, p))).To(BeEmpty())
			}
		}
	})

	It("delivers what is published the moment a Join in another process returns", func() {
		// groups.deliver: the Join waits until Redis has the SUBSCRIBE.
		m := &recorder{}
		var want []delivery
		for i := range 100 {
			g := fmt.Sprintf("fresh.%d", i)
			Expect(b.Join(g, m)).To(Succeed())
			Expect(a.Publish(g, text(g))).To(Succeed())
			want = append(want, delivery{g, text(g)})
		}
		Eventually(m.Len).WithTimeout(10 * time.Second).Should(Equal(100))
		Expect(cmp.Diff(want, m.Got())).To(BeEmpty())
	})

	It("unsubscribes when the last member in a process leaves, without waiting", func() {
		ma, mb, mb2 := &recorder{}, &recorder{}, &recorder{}
		Expect(a.Join("room", ma)).To(Succeed())
		Expect(b.Join("room", mb)).To(Succeed())
		Expect(b.Join("room", mb2)).To(Succeed())
		Expect(srv.numsub(groups.ChannelPrefix + "room")).To(Equal(2)) // one subscription per process

		b.Leave("room", mb)
		Expect(b.Members("room")).To(Equal(1))
		Expect(srv.numsub(groups.ChannelPrefix + "room")).To(Equal(2))
		publishAll(a, "room", []string{"one left"})
		awaitEnd(mb2, 1)

		start := time.Now()
		b.Leave("room", mb2)
		Expect(time.Since(start)).To(BeNumerically("<", time.Second))
		Expect(b.Members("room")).To(BeZero())
		Eventually(func() (int, error) { return srv.numsub(groups.ChannelPrefix + "room") }).Should(Equal(1))

		publishAll(a, "room", []string{"after"})
		awaitEnd(ma, 2)
		Expect(mb.Datas()).To(BeEmpty())
		Expect(mb2.Datas()).To(Equal([]string{"one left", "end"}))

		// Leaving what one is no member of changes nothing.
		b.Leave("room", mb)
		b.Leave("nowhere", mb)
		a.Leave("room", mb)
		Expect(a.Members("room")).To(Equal(1))
	})

	It("ends joined and subscribed after a burst of joins and leaves", func() {
		m := &recorder{}
		for range 200 {
			Expect(b.Join("churn", m)).To(Succeed())
			b.Leave("churn", m)
		}
		Eventually(func() (int, error) { return srv.numsub(groups.ChannelPrefix + "churn") }).Should(BeZero())
		Expect(b.Join("churn", m)).To(Succeed())
		Expect(srv.numsub(groups.ChannelPrefix + "churn")).To(Equal(1))
		publishAll(a, "churn", nil)
		awaitEnd(m, 1)
		Expect(m.Datas()).To(Equal([]string{"end"}))
	})

	It("carries group names made of every character groups.name allows", func() {
		const chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"
		names := []string{chars, chars + strings.Repeat("9", event.MaxGroupName-len(chars)),
			strings.Repeat("z", event.MaxGroupName), "a", ".", "_", "-", "..", "room.1-a_b"}
		m := &recorder{}
		var want []delivery
		for _, n := range names {
			Expect(event.CheckGroupName(n)).To(Succeed())
			Expect(b.Join(n, m)).To(Succeed())
			Expect(a.Publish(n, text(n))).To(Succeed())
			want = append(want, delivery{n, text(n)})
		}
		Eventually(m.Len).Should(Equal(len(names)))
		Expect(cmp.Diff(want, m.Got())).To(BeEmpty())
	})

	It("carries any bytes, as large as max_message_bytes", func() {
		all := make([]byte, 256)
		for i := range all {
			all[i] = byte(i)
		}
		// {text = big} is 5 + (5 + 4) + (5 + len(big)) bytes.
		big := make([]byte, event.GroupsMaxMessageBytes-19)
		rng := rand.New(rand.NewPCG(1, 2))
		for i := range big {
			big[i] = byte(rng.Uint32())
		}
		Expect(text(string(big))).To(HaveLen(event.GroupsMaxMessageBytes))
		datas := []string{string(all), "\x00", "\r\n*1\r\n$4\r\nPING\r\n", string(big), text("nested"), ""}
		m := &recorder{}
		Expect(b.Join("bin", m)).To(Succeed())
		publishAll(a, "bin", datas)
		awaitEnd(m, 1)
		Expect(m.Datas()).To(Equal(append(datas, "end")))
		for i, d := range datas {
			Expect(m.Got()[i].Data).To(Equal(text(d)))
		}
	})

	It("fails quickly and clearly while Redis is down, and resubscribes when it is back", func() {
		ma, mb := &recorder{}, &recorder{}
		Expect(a.Join("room", ma)).To(Succeed())
		Expect(b.Join("room", mb)).To(Succeed())
		srv.stop()

		unavailable := MatchError(And(
			ContainSubstring("lasgi: groups.send.unavailable: "),
			ContainSubstring("Redis at "+srv.Addr()),
			ContainSubstring("messages cannot be passed to other processes")))
		start := time.Now()
		err := a.Publish("room", text("lost"))
		took := time.Since(start)
		GinkgoWriter.Printf("Publish with Redis down: %v: %v\n", took, err)
		Expect(err).To(unavailable)
		Expect(took).To(BeNumerically("<", 3*time.Second)) // its bound is 2 s
		// Again, on connections already in the pool or none.
		for range 5 {
			start := time.Now()
			Expect(b.Publish("room", text("lost"))).To(unavailable)
			Expect(time.Since(start)).To(BeNumerically("<", 3*time.Second))
		}

		newcomer := &recorder{}
		start = time.Now()
		err = b.Join("new", newcomer)
		took = time.Since(start)
		GinkgoWriter.Printf("Join of a new group with Redis down: %v: %v\n", took, err)
		Expect(err).To(unavailable)
		Expect(took).To(BeNumerically("<", 3*time.Second))
		Expect(b.Members("new")).To(BeZero())
		// Once the hub has seen its subscription's connection go, a
		// Join of a group subscribed before cannot count on it either.
		Eventually(func() error {
			start := time.Now()
			err := b.Join("room", newcomer)
			Expect(time.Since(start)).To(BeNumerically("<", 3*time.Second))
			if err == nil {
				b.Leave("room", newcomer)
			}
			return err
		}).Should(unavailable)
		Expect(b.Members("room")).To(Equal(1))
		start = time.Now()
		b.Leave("room", mb)
		Expect(time.Since(start)).To(BeNumerically("<", time.Second))
		Expect(b.Join("room", mb)).To(unavailable)
		Expect(b.Members("room")).To(BeZero())

		srv.start()
		back := time.Now()
		Eventually(func() error { return b.Join("room", mb) }).WithTimeout(10 * time.Second).Should(Succeed())
		// Existing members hear again once go-redis has connected and
		// subscribed anew; until then a message may be lost, so keep
		// sending until one comes.
		for _, m := range []*recorder{ma, mb} {
			Eventually(func() []string {
				a.Publish("room", text("back"))
				return m.Datas()
			}).WithTimeout(10 * time.Second).WithPolling(50 * time.Millisecond).Should(ContainElement("back"))
		}
		GinkgoWriter.Printf("members heard again %v after redis-server was back\n", time.Since(back))
		var want []string
		for i := range 100 {
			want = append(want, fmt.Sprintf("r%03d", i))
		}
		publishAll(a, "room", want)
		for _, m := range []*recorder{ma, mb} {
			awaitEnd(m, 1)
			Expect(cmp.Diff(append(want, "end"), withPrefix(m.Datas(), "r", "end"))).To(BeEmpty())
			Expect(m.Datas()).NotTo(ContainElement("lost"))
		}
		Expect(b.Join("new", newcomer)).To(Succeed())
	})

	It("fails within its bound, not hanging, while Redis does not answer", func() {
		m := &recorder{}
		Expect(a.Join("room", m)).To(Succeed())
		srv.pause() // the sockets stay open; nothing answers
		var wg sync.WaitGroup
		var pubErr, joinErr error
		var pubTook, joinTook time.Duration
		wg.Go(func() {
			start := time.Now()
			pubErr = a.Publish("room", text("stuck"))
			pubTook = time.Since(start)
		})
		wg.Go(func() {
			start := time.Now()
			joinErr = b.Join("new", &recorder{})
			joinTook = time.Since(start)
		})
		wg.Wait()
		GinkgoWriter.Printf("with Redis paused: Publish %v (%v), Join %v (%v)\n", pubTook, pubErr, joinTook, joinErr)
		Expect(pubErr).To(MatchError(ContainSubstring("groups.send.unavailable")))
		Expect(joinErr).To(MatchError(ContainSubstring("groups.send.unavailable")))
		Expect(pubTook).To(BeNumerically("<", 4*time.Second)) // its bound is 2 s
		Expect(joinTook).To(BeNumerically("<", 4*time.Second))
		Expect(b.Members("new")).To(BeZero())

		srv.resume()
		Eventually(func() []string {
			a.Publish("room", text("again"))
			return m.Datas()
		}).WithTimeout(10 * time.Second).WithPolling(50 * time.Millisecond).Should(ContainElement("again"))
	})

	It("fails the sends after one that got no answer at once, until Redis answers again", func() {
		m := &recorder{}
		Expect(a.Join("room", m)).To(Succeed())
		srv.pause()
		start := time.Now()
		Expect(a.Publish("room", text("stuck"))).To(MatchError(ContainSubstring("groups.send.unavailable")))
		first := time.Since(start)
		start = time.Now()
		for range 20 {
			Expect(a.Publish("room", text("stuck"))).To(MatchError(And(
				ContainSubstring("groups.send.unavailable"), ContainSubstring("has not answered a PING since"))))
		}
		rest := time.Since(start)
		GinkgoWriter.Printf("with Redis paused: the first send failed in %v, 20 more in %v\n", first, rest)
		Expect(rest).To(BeNumerically("<", time.Second), "the sends after the first waited for Redis too")
		Expect(b.Publish("room", text("b"))).To(MatchError(ContainSubstring("groups.send.unavailable")), "each hub finds out for itself")

		srv.resume()
		Eventually(func() error { return a.Publish("room", text("again")) }).
			WithTimeout(10 * time.Second).WithPolling(50 * time.Millisecond).Should(Succeed())
		Eventually(m.Datas).WithTimeout(10 * time.Second).Should(ContainElement("again"))
		// The first may have reached Redis before it stopped, and comes
		// after it resumes; the 20 failed at once never left the process.
		Expect(countOf(m.Datas(), "stuck")).To(BeNumerically("<=", 1))
	})

	It("fails the joins that need Redis at once after one got no answer, until Redis answers again", func() {
		Expect(b.Join("room", &recorder{})).To(Succeed())
		srv.pause()
		start := time.Now()
		Expect(b.Join("new", &recorder{})).To(MatchError(ContainSubstring("groups.send.unavailable")))
		first := time.Since(start)
		start = time.Now()
		for i := range 10 {
			Expect(b.Join(fmt.Sprint("other", i), &recorder{})).To(MatchError(ContainSubstring("has not answered a PING since")))
		}
		Expect(b.Publish("room", text("x"))).To(MatchError(ContainSubstring("has not answered a PING since")))
		rest := time.Since(start)
		GinkgoWriter.Printf("with Redis paused: the first join failed in %v, 10 joins and a send more in %v\n", first, rest)
		Expect(rest).To(BeNumerically("<", time.Second))
		Expect(b.Join("room", &recorder{})).To(Succeed(), "a group already subscribed to needs no word from Redis")
		Expect(b.Members("other0")).To(BeZero())

		srv.resume()
		Eventually(func() error { return b.Join("later", &recorder{}) }).
			WithTimeout(10 * time.Second).WithPolling(50 * time.Millisecond).Should(Succeed())
	})

	It("closes without hanging, Redis up or down, and refuses calls afterwards", func() {
		c := newHub()
		m := &recorder{}
		Expect(c.Join("room", m)).To(Succeed())
		start := time.Now()
		Expect(c.Close()).To(Succeed())
		Expect(time.Since(start)).To(BeNumerically("<", 2*time.Second))
		Expect(c.Close()).To(Succeed())
		Expect(c.Publish("room", text("x"))).To(MatchError(ContainSubstring("groups.send.unavailable")))
		Expect(c.Join("room", m)).To(MatchError(ContainSubstring("closed")))
		c.Leave("room", m)

		d := newHub()
		Expect(d.Join("room", m)).To(Succeed())
		srv.stop()
		start = time.Now()
		d.Close()
		Expect(time.Since(start)).To(BeNumerically("<", 3*time.Second))
	})

	It("takes joins, leaves and messages from many goroutines at once", func() {
		var wg sync.WaitGroup
		members := make([]*recorder, 8)
		for i := range members {
			members[i] = &recorder{}
			h := []*groups.Redis{a, b}[i%2]
			wg.Go(func() {
				defer GinkgoRecover()
				for j := range 30 {
					g := fmt.Sprintf("busy.%d", j%3)
					Expect(h.Join(g, members[i])).To(Succeed())
					Expect(h.Publish(g, text("x"))).To(Succeed())
					h.Leave(g, members[i])
				}
			})
		}
		wg.Wait()
		for j := range 3 {
			g := fmt.Sprintf("busy.%d", j)
			Expect(a.Members(g) + b.Members(g)).To(BeZero())
			Eventually(func() (int, error) { return srv.numsub(groups.ChannelPrefix + g) }).Should(BeZero())
		}
	})
})

func countOf(s []string, v string) (n int) {
	for _, x := range s {
		if x == v {
			n++
		}
	}
	return n
}

// withPrefix is the elements of s that begin with one of prefixes.
func withPrefix(s []string, prefixes ...string) (out []string) {
	for _, x := range s {
		for _, p := range prefixes {
			if strings.HasPrefix(x, p) {
				out = append(out, x)
				break
			}
		}
	}
	return out
}
