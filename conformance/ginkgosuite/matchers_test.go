package ginkgosuite_test

import (
	"errors"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/conformance"
	"github.com/lasgi/lasgi/conformance/ginkgosuite"
)

var _ = Describe("Gomega matchers", func() {
	It("MatchEvents merges body splits and shows a diff", func() {
		got := []conformance.Event{
			{Type: "http.request", Body: "ab", MoreBody: true},
			{Type: "http.request", Body: "c"},
			{Type: "http.disconnect"},
		}
		Expect(got).To(ginkgosuite.MatchEvents(
			conformance.Event{Type: "http.request", Body: "abc"},
			conformance.Event{Type: "http.disconnect"},
		))
		m := ginkgosuite.MatchEvents(conformance.Event{Type: "http.request", Body: "abd"})
		ok, err := m.Match(got)
		Expect(err).NotTo(HaveOccurred())
		Expect(ok).To(BeFalse())
		Expect(m.FailureMessage(got)).To(And(ContainSubstring(`"abd"`), ContainSubstring(`"abc"`), ContainSubstring("-want +got")))
		_, err = m.Match("not events")
		Expect(err).To(MatchError(ContainSubstring("[]conformance.Event")))
	})

	It("NameRule matches LASGI error values naming a rule", func() {
		Expect("lasgi: http.start.once: sent twice").To(ginkgosuite.NameRule("http.start.once"))
		Expect(errors.New("lasgi: http.start.once: sent twice")).To(ginkgosuite.NameRule("http.start.once"))
		Expect("app.lua:3: lasgi: http.start.once: sent twice").NotTo(ginkgosuite.NameRule("http.start.once"))
		Expect("lasgi: http.start.first: x").NotTo(ginkgosuite.NameRule("http.start.once"))
	})
})
