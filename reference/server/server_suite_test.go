package server_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/reference/server"
	"github.com/lasgi/lasgi/reference/server/gopherlua"
	"github.com/lasgi/lasgi/reference/server/servertest"
)

func TestServer(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Reference server")
}

// ioDeadline bounds every network step of these tests.
const ioDeadline = 10 * time.Second

// testServer is a reference server on loopback hosting one Lua app.
type testServer struct {
	addr string
	log  *servertest.SyncBuffer
	srv  *server.Server
}

// serve starts a server for the Lua app source; cfg may set limits and
// timeouts. It stops when the spec ends.
func serve(src string, workers int, cfg server.Config) *testServer {
	GinkgoHelper()
	return serveWith(src, gopherlua.Options{Workers: workers, BusyTimeout: 2 * time.Second}, cfg)
}

// serveWith is serve with the engine's options given.
func serveWith(src string, opts gopherlua.Options, cfg server.Config) *testServer {
	GinkgoHelper()
	s, err := servertest.Start("app.lua", []byte(src), opts, cfg, GinkgoWriter)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { Expect(s.Stop()).To(Succeed()) })
	return &testServer{addr: s.Addr, log: s.Log, srv: s.Server()}
}

// dial opens a raw connection with a deadline on everything done with it.
func (s *testServer) dial() net.Conn {
	GinkgoHelper()
	c, err := net.DialTimeout("tcp", s.addr, ioDeadline)
	Expect(err).NotTo(HaveOccurred())
	Expect(c.SetDeadline(time.Now().Add(ioDeadline))).To(Succeed())
	DeferCleanup(func() { _ = c.Close() }) // a test may have closed it already
	return c
}

// response is a response read off the wire, body decoded from its framing.
type response struct {
	Status  int
	Header  http.Header
	Body    string
	Trailer http.Header
	Chunked bool
	Length  int64
	Close   bool
}

// roundTrip sends raw request bytes on a new connection and reads one
// response (for a HEAD request, pass head = true).
func (s *testServer) roundTrip(raw string, head bool) *response {
	GinkgoHelper()
	c := s.dial()
	_, err := io.WriteString(c, raw)
	Expect(err).NotTo(HaveOccurred())
	return readResponse(bufio.NewReader(c), head)
}

func readResponse(br *bufio.Reader, head bool) *response {
	GinkgoHelper()
	method := "GET"
	if head {
		method = "HEAD"
	}
	res, err := http.ReadResponse(br, &http.Request{Method: method})
	Expect(err).NotTo(HaveOccurred())
	body, err := io.ReadAll(res.Body)
	Expect(err).NotTo(HaveOccurred())
	return &response{
		Status: res.StatusCode, Header: res.Header, Body: string(body), Trailer: res.Trailer,
		Chunked: len(res.TransferEncoding) > 0 && res.TransferEncoding[0] == "chunked",
		Length:  res.ContentLength, Close: res.Close,
	}
}

// recording makes an app of handler, the body of the app function, that
// keeps notes for the test: the handler appends strings to the list seen, and
// GET /seen answers them joined by commas. That tells what the app saw after
// its own response was gone.
func recording(handler string) string {
	return `local seen = {}
return function(scope, receive, send)
  if scope.path == "/seen" then
    send({type = "http.response.start", status = 200})
    send({type = "http.response.body", body = table.concat(seen, ",")})
    return
  end
` + handler + `
end`
}

// seen fetches the notes of a recording app.
func (s *testServer) seen() string {
	GinkgoHelper()
	return s.get("/seen").Body
}

// get sends a simple GET on a new connection.
func (s *testServer) get(path string) *response {
	GinkgoHelper()
	return s.roundTrip("GET "+path+" HTTP/1.1\r\nHost: t\r\n\r\n", false)
}
