package conformance_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
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
		var passed []string
		for _, c := range cases {
			if r := k.Run(ctx, c); r.Status == conformance.Passed || r.Status == conformance.Warning {
				passed = append(passed, c.ID)
			}
		}
		Expect(passed).To(BeEmpty())
	})
})
