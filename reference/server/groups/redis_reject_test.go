package groups_test

import (
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/reference/server/groups"
	"github.com/lasgi/lasgi/spec/event"
)

var _ = Describe("Redis hub, given bytes that are not data", func() {
	It("drops what reaches a group's channel that is not data", func() {
		m := &recorder{}
		srv := startRedis()
		b, err := groups.NewRedis(srv.URL())
		Expect(err).NotTo(HaveOccurred())
		defer b.Close()
		Expect(b.Join("room", m)).To(Succeed())
		tooDeep := strings.Repeat("T\x01\x00\x00\x00S\x00\x00\x00\x00", event.MaxGroupDepth) + "T\x00\x00\x00\x00"
		bad := []string{
			"", "hello", "S\x00\x00\x00\x00", "t",
			"T\xff\xff\xff\xff",                                   // pairs that are not there (a 4-billion-entry size hint)
			"T\x01\x00\x00\x00S\x01\x00\x00\x00k",                 // a key without its value
			"T\x01\x00\x00\x00tS\x00\x00\x00\x00",                 // a boolean key
			"T\x01\x00\x00\x00T\x00\x00\x00\x00t",                 // a table key
			"T\x01\x00\x00\x00F\x01\x00\x00\x00\x00\x00\xf8\x7ft", // a NaN key
			"T\x00\x00\x00\x00t",                                  // bytes after the data
			tooDeep,
			"T\x01\x00\x00\x00S\x00\x00\x00\x00S" + le32(event.GroupsMaxMessageBytes) + strings.Repeat("x", event.GroupsMaxMessageBytes),
		}
		for _, data := range bad {
			Expect(srv.publish(groups.ChannelPrefix+"room", data)).To(Equal(1))
		}
		okDeep := strings.Repeat("T\x01\x00\x00\x00S\x00\x00\x00\x00", event.MaxGroupDepth-1) + "T\x00\x00\x00\x00"
		good := []string{"T\x00\x00\x00\x00", okDeep, "T\x01\x00\x00\x00F\x00\x00\x00\x00\x00\x00\xf0\x3ft"}
		for _, data := range good {
			Expect(srv.publish(groups.ChannelPrefix+"room", data)).To(Equal(1))
		}
		Eventually(m.Len).Should(Equal(len(good)))
		Expect(m.Datas()).To(Equal(good))
		Expect(b.Rejected()).To(Equal(int64(len(bad))))
		for _, d := range good {
			_, err := groups.Decode(d)
			Expect(err).NotTo(HaveOccurred())
		}
	})

})

func le32(n int) string {
	return string([]byte{byte(n), byte(n >> 8), byte(n >> 16), byte(n >> 24)})
}
