package groups_test

import (
	"strconv"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/reference/server/groups"
)

var _ = Describe("Open", func() {
	It("makes a Local for local or nothing, and no hub for off", func() {
		for _, spec := range []string{"", "local"} {
			h, err := groups.Open(spec)
			Expect(err).NotTo(HaveOccurred())
			Expect(h).To(BeAssignableToTypeOf(&groups.Local{}))
		}
		h, err := groups.Open("off")
		Expect(err).NotTo(HaveOccurred())
		Expect(h).To(BeNil())
	})

	It("makes a Redis hub for redis://HOST:PORT[/DB]", func() {
		srv := startRedis()
		for _, url := range []string{srv.URL(), srv.URL() + "/3"} {
			h, err := groups.Open(url)
			Expect(err).NotTo(HaveOccurred())
			Expect(h).To(BeAssignableToTypeOf(&groups.Redis{}))
			Expect(h.(*groups.Redis).Addr()).To(Equal(srv.Addr()))
			Expect(h.Close()).To(Succeed())
		}
	})

	It("says clearly, and soon, that a Redis address answers nothing", func() {
		addr := "127.0.0.1:" + strconv.Itoa(freePort())
		start := time.Now()
		h, err := groups.Open("redis://" + addr)
		Expect(time.Since(start)).To(BeNumerically("<", 3*time.Second))
		Expect(h).To(BeNil()) // a nil Hub, not a nil *Redis in one
		Expect(err).To(MatchError(And(ContainSubstring("Redis at "+addr), ContainSubstring("PING"))))
	})

	It("refuses anything else, naming it and the forms it takes", func() {
		for _, spec := range []string{"Local", "on", "redis", "memcached://127.0.0.1:11211", "127.0.0.1:6379"} {
			h, err := groups.Open(spec)
			Expect(h).To(BeNil())
			Expect(err).To(MatchError(And(ContainSubstring(`"`+spec+`"`),
				ContainSubstring("local"), ContainSubstring("redis://HOST:PORT"), ContainSubstring("off"))), spec)
		}
		h, err := groups.Open("redis://127.0.0.1:6379/notadb")
		Expect(h).To(BeNil())
		Expect(err).To(MatchError(And(ContainSubstring("notadb"), ContainSubstring("redis://HOST:PORT[/DB]"))))
	})
})
