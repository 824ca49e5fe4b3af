package conformance_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/conformance"
	"github.com/lasgi/lasgi/fixtures"
)

// A verdict rests on evidence from the probe: a plain HTTP server that is
// not running it must pass no case.
var _ = Describe("a server that does not run the probe", func() {
	It("passes no case of the corpus", func() {
		plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			io.WriteString(w, "ok")
		}))
		defer plain.Close()
		cases, err := conformance.LoadFS(fixtures.FS, ".")
		Expect(err).NotTo(HaveOccurred())
		k := &conformance.Checker{Addr: plain.Listener.Addr().String(), Timeout: 300 * time.Millisecond}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		// Each case waits out its deadlines for evidence that never comes:
		// eight at a time, since the plain server keeps no state between
		// requests (22 s one after another).
		var (
			mu     sync.Mutex
			passed []string
			wg     sync.WaitGroup
			sem    = make(chan struct{}, 8)
		)
		for _, c := range cases {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer GinkgoRecover()
				defer wg.Done()
				defer func() { <-sem }()
				if r := k.Run(ctx, c); r.Status == conformance.Passed || r.Status == conformance.Warning {
					mu.Lock()
					passed = append(passed, c.ID)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		Expect(passed).To(BeEmpty())
	})
})
