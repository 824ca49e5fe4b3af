package server_test

import (
	"bufio"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/reference/server"
	"github.com/lasgi/lasgi/reference/server/bridge"
	"github.com/lasgi/lasgi/spec/event"
)

// The body pump hands an engine that copies what it receives
// (bridge.BodyCopier) its chunks in its own buffers. The promise to such an
// engine: a chunk's bytes stay as they are until the engine takes the next
// chunk. copyChecker holds each chunk uncopied until the next has been
// pushed (the pump has read it by then), checks it is unchanged, and
// answers with what it saw.
type copyChecker struct{}

func (copyChecker) CopiesBodies() bool   { return true }
func (copyChecker) Close() error         { return nil }
func (copyChecker) Start(c *bridge.Call) { go checkCopies(c) }

type chanWaker chan struct{}

func (w chanWaker) Wake() {
	select {
	case w <- struct{}{}:
	default:
	}
}

func checkCopies(c *bridge.Call) {
	wake := make(chanWaker, 1)
	sum := sha256.New()
	var problems []string
	chunks := 0
	for {
		ev, ok := c.Receive(wake)
		if !ok {
			select {
			case <-wake:
				continue
			case <-time.After(ioDeadline):
				c.Finish(errors.New("no chunk came"))
				return
			}
		}
		if ev.Type != event.HTTPRequest {
			c.Finish(fmt.Errorf("got %s", ev.Type))
			return
		}
		chunks++
		sum.Write([]byte(ev.Body))
		if !ev.MoreBody {
			break
		}
		kept := strings.Clone(ev.Body)
		for end := time.Now().Add(ioDeadline); c.Pending() == 0 && time.Now().Before(end); {
			time.Sleep(100 * time.Microsecond)
		}
		if ev.Body != kept {
			problems = append(problems, fmt.Sprintf("chunk %d changed before the next was taken", chunks))
		}
	}
	report := fmt.Sprintf("%d chunks, sha256 %x, problems %v", chunks, sum.Sum(nil), problems)
	for _, out := range []event.Event{
		{Type: event.HTTPResponseStart, Status: 200},
		{Type: event.HTTPResponseBody, Body: report},
	} {
		if _, err := c.Send(&out, nil); err != nil {
			c.Finish(err)
			return
		}
	}
	c.Finish(nil)
}

var _ = Describe("A request body handed to an engine that copies it", func() {
	It("keeps each chunk's bytes until the engine takes the next", func() {
		srv, err := server.New(server.Config{Engine: copyChecker{}, ReadTimeout: ioDeadline, WriteTimeout: ioDeadline})
		Expect(err).NotTo(HaveOccurred())
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		go srv.Serve(ln)
		DeferCleanup(func(ctx SpecContext) { Expect(srv.Shutdown(ctx)).To(Succeed()) }, NodeTimeout(ioDeadline))

		body := make([]byte, 3<<20) // many chunks, each unlike the one before
		r := rand.New(rand.NewPCG(1, 2))
		for i := range body {
			body[i] = byte(r.Uint32())
		}
		c, err := net.DialTimeout("tcp", ln.Addr().String(), ioDeadline)
		Expect(err).NotTo(HaveOccurred())
		defer c.Close()
		Expect(c.SetDeadline(time.Now().Add(ioDeadline))).To(Succeed())
		go func() {
			fmt.Fprintf(c, "POST / HTTP/1.1\r\nhost: x\r\ncontent-length: %d\r\n\r\n", len(body))
			for rest := body; len(rest) > 0; { // in pieces, so the pump reads many chunks
				n := min(len(rest), 100<<10)
				if _, err := c.Write(rest[:n]); err != nil {
					return
				}
				rest = rest[n:]
			}
		}()
		resp := readResponse(bufio.NewReader(c), false)
		Expect(resp.Status).To(Equal(200))
		Expect(resp.Body).To(HaveSuffix(fmt.Sprintf("sha256 %x, problems []", sha256.Sum256(body))))
		var chunks int
		_, err = fmt.Sscanf(resp.Body, "%d chunks", &chunks)
		Expect(err).NotTo(HaveOccurred())
		Expect(chunks).To(BeNumerically(">", 2), "the body came in few chunks: nothing was reused")
	})
})
