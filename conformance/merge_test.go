package conformance_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/conformance"
)

var _ = Describe("MergeEvents", func() {
	type E = conformance.Event

	It("merges each run of http.request events, bodies concatenated and more_body of the last", func() {
		in := []E{
			{Type: "http.request", Body: "ab", MoreBody: true},
			{Type: "http.request", Body: "", MoreBody: true},
			{Type: "http.request", Body: "c"},
			{Type: "http.disconnect"},
		}
		Expect(conformance.MergeEvents(in)).To(Equal([]E{
			{Type: "http.request", Body: "abc"},
			{Type: "http.disconnect"},
		}))
		Expect(in[0]).To(Equal(E{Type: "http.request", Body: "ab", MoreBody: true}), "the input is left as it was")
	})

	It("keeps a run open at the end, and starts a new one after a complete request", func() {
		Expect(conformance.MergeEvents([]E{
			{Type: "http.request", Body: "a"},
			{Type: "http.request", Body: "b", MoreBody: true},
			{Type: "http.request", Body: "c", MoreBody: true},
		})).To(Equal([]E{
			{Type: "http.request", Body: "a"},
			{Type: "http.request", Body: "bc", MoreBody: true},
		}))
	})

	It("does not merge across another event", func() {
		Expect(conformance.MergeEvents([]E{
			{Type: "http.request", Body: "a", MoreBody: true},
			{Type: "http.disconnect"},
			{Type: "http.request", Body: "b"},
		})).To(Equal([]E{
			{Type: "http.request", Body: "a", MoreBody: true},
			{Type: "http.disconnect"},
			{Type: "http.request", Body: "b"},
		}))
	})

	It("gathers the problems of a run, and adds none of its own", func() {
		Expect(conformance.MergeEvents([]E{
			{Type: "http.request", Body: "a", MoreBody: true, Problems: []string{"receive() returned 2 values"}},
			{Type: "http.request", Problems: []string{"body is not a string"}},
			{Type: ""},
		})).To(Equal([]E{
			{Type: "http.request", Body: "a", Problems: []string{"receive() returned 2 values", "body is not a string"}},
			{Type: ""},
		}))
	})

	It("returns nil for no events", func() {
		Expect(conformance.MergeEvents(nil)).To(BeNil())
		Expect(conformance.MergeEvents([]E{})).To(BeNil())
	})
})
