package conformance_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/conformance"
)

var _ = Describe("running cases several at a time (Checker.Parallel)", func() {
	// play ends case i after a time that makes later cases end first.
	play := func(running, most *atomic.Int32) func(i int) conformance.Result {
		return func(i int) conformance.Result {
			n := running.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			time.Sleep(time.Duration((7-i%7)*3) * time.Millisecond)
			running.Add(-1)
			return conformance.ResultWith(fmt.Sprint("played ", i))
		}
	}
	skip := func(i int, why string) conformance.Result {
		return conformance.ResultWith(fmt.Sprint("skipped ", i, ": ", why))
	}
	messages := func(rs []conformance.Result) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.Message)
		}
		return out
	}

	It("plays every case, at most par at once, and reports them in order", func() {
		var running, most atomic.Int32
		var reported []int
		results, stop := conformance.RunCases(context.Background(), 20, 4, play(&running, &most),
			func(int, conformance.Result) string { return "" }, skip,
			func(i int, _ conformance.Result) { reported = append(reported, i) })
		var want []string
		var order []int
		for i := range 20 {
			want = append(want, fmt.Sprint("played ", i))
			order = append(order, i)
		}
		Expect(cmp.Diff(want, messages(results))).To(BeEmpty())
		Expect(cmp.Diff(order, reported)).To(BeEmpty())
		Expect(stop).To(BeEmpty())
		Expect(most.Load()).To(And(BeNumerically(">", 1), BeNumerically("<=", 4)))
	})

	It("stops where judge says, in the cases' order, and skips what had not started", func() {
		var running, most atomic.Int32
		results, stop := conformance.RunCases(context.Background(), 30, 3, play(&running, &most),
			func(i int, _ conformance.Result) string {
				if i == 5 {
					return "enough"
				}
				return ""
			}, skip, nil)
		Expect(stop).To(Equal("enough"))
		msgs := messages(results)
		Expect(msgs[:6]).To(HaveEach(HavePrefix("played ")))
		Expect(msgs[len(msgs)-1]).To(Equal("skipped 29: enough"))
	})

	It("skips every case not started once ctx is done, with its cause", func() {
		ctx, cancel := context.WithCancelCause(context.Background())
		cancel(errors.New("interrupted"))
		var running, most atomic.Int32
		results, _ := conformance.RunCases(ctx, 5, 2, play(&running, &most),
			func(int, conformance.Result) string { return "" }, skip, nil)
		Expect(messages(results)).To(HaveEach(HaveSuffix(": interrupted")))
		Expect(most.Load()).To(BeZero())
	})

	It("plays one after another with par 1", func() {
		var running, most atomic.Int32
		conformance.RunCases(context.Background(), 6, 1, play(&running, &most),
			func(int, conformance.Result) string { return "" }, skip, nil)
		Expect(most.Load()).To(Equal(int32(1)))
	})
})
