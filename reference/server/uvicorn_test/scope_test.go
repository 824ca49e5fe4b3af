package uvicorn_test

import (
	"fmt"
	"strings"

	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// allBytes is every byte value 0x00..0xff once.
var allBytes = func() string {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i)
	}
	return string(b)
}()

// request builds a raw HTTP/1.1 request: the request line, Host: example.test,
// the given header lines (written as they are), and body after the blank line.
func request(method, target string, headerLines []string, body string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: example.test\r\n", method, target)
	for _, h := range headerLines {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	b.WriteString(body)
	return b.String()
}

func get(target string, headerLines ...string) string {
	return request("GET", target, headerLines, "")
}

// chunk is one chunk of a chunked body, with its size in hex.
func chunk(data string) string {
	return fmt.Sprintf("%x\r\n%s\r\n", len(data), data)
}

// methodOf is the method of a raw request.
func methodOf(raw string) string {
	m, _, _ := strings.Cut(raw, " ")
	return m
}

// answer sends raws on one connection to addr, expects 200 JSON answers,
// and decodes the last one. HEAD requests may come before it.
func answer(server, addr string, raws ...string) (scopeFields, []*response) {
	GinkgoHelper()
	methods := make([]string, len(raws))
	for i, raw := range raws {
		methods[i] = methodOf(raw)
	}
	resps, err := exchange(addr, raws, methods)
	Expect(err).NotTo(HaveOccurred(), "%s (%s): requests %q", server, addr, raws)
	last := resps[len(resps)-1]
	Expect(last.status).To(Equal(200), "%s: status of %q; body:\n%s", server, raws[len(raws)-1], last.body)
	ct, _ := last.header("content-type")
	Expect(ct).To(Equal("application/json"), "%s: content-type; headers %q", server, last.headers)
	f, err := decodeAnswer(last.body)
	Expect(err).NotTo(HaveOccurred(), "%s: decoding the answer to %q:\n%s", server, raws[len(raws)-1], last.body)
	return f, resps
}

// expectSameScope compares our scope with uvicorn's. uvicornDiffers, when
// set, documents a known, deliberate difference: it checks uvicorn's value
// and rewrites it into what our server must report instead.
func expectSameScope(theirs, ours scopeFields, raw string, uvicornDiffers func(*scopeFields)) {
	GinkgoHelper()
	if uvicornDiffers != nil {
		uvicornDiffers(&theirs)
	}
	if diff := cmp.Diff(theirs, ours); diff != "" {
		Fail(fmt.Sprintf("scope differs for request %q (-uvicorn +ours):\n%s", raw, diff))
	}
}

var _ = Describe("the scope, side by side with uvicorn", func() {
	DescribeTable("for the raw request",
		func(raw string, uvicornDiffers func(*scopeFields)) {
			theirs, _ := answer("uvicorn", uvicornAddr, raw)
			ours, _ := answer("our server", ourAddr, raw)
			expectSameScope(theirs, ours, raw, uvicornDiffers)
		},

		Entry("a plain GET", get("/"), nil),

		// path: percent-decoded, read as UTF-8; raw_path: as received
		Entry("an escaped space", get("/a%20b"), nil),
		Entry("escaped UTF-8, uppercase hex", get("/caf%C3%A9"), nil),
		Entry("escaped UTF-8, lowercase hex", get("/caf%c3%a9/%e2%82%ac"), nil),
		Entry("%2F is decoded in path and kept in raw_path", get("/a%2Fb%2fc/d"), nil),
		Entry("an invalid escape stays as it is", get("/a%zzb"), nil),
		Entry("a truncated escape at the end", get("/a%4"), nil),
		Entry("a lone % at the end", get("/a%"), nil),
		Entry("an escape of a literal %", get("/100%25"), nil),
		Entry("invalid UTF-8 after decoding (%ff)", get("/x%ff"), nil),
		Entry("a truncated UTF-8 sequence (%e2%82), one U+FFFD", get("/%e2%82"), nil),
		Entry("overlong, surrogate and out-of-range sequences, one U+FFFD per maximal part",
			get("/%c0%af-%ed%a0%80-%f4%90%80%80-%e2%82x"), nil),
		Entry("literal reserved characters in the path", get("/a;b=c,d/:@!$&'()*+~"), nil),

		// query_string: everything after the first ?, not decoded
		Entry("a raw query string with +, %20, &&, and = without value",
			get("/search?q=a+b%20c&&flag&empty=&=novalue&x=%zz"), nil),
		Entry("an empty query", get("/?"), nil),
		Entry("a ? inside the query", get("/p?a?b=c/d"), nil),
		Entry("a query without a path segment", get("/?a=1"), nil),

		// headers
		Entry("duplicate headers in different case, order kept",
			get("/", "X-Dup: 1", "Accept: */*", "x-dup: 2", "X-DUP: 3"), nil),
		Entry("header values with surrounding spaces and tabs",
			get("/", "X-Spaces:    padded  value   ", "X-Tabs:\t\tv\t", "X-Empty:", "X-Blank:    ", "X-None:x"), nil),
		Entry("header values with bytes beyond ASCII", get("/", "X-Bin: caf\xc3\xa9 \x80\xff"), nil),
		Entry("mixed-case header names are lowercased", get("/", "CoNtEnT-TyPe: text/plain", "X-CamelCase: Value"), nil),

		// versions and methods
		Entry("HTTP/1.0 GET without Host", "GET /old?x=1 HTTP/1.0\r\n\r\n", nil),
		Entry("HTTP/1.0 GET with Host", "GET /old HTTP/1.0\r\nHost: example.test\r\nUser-Agent: t/1\r\n\r\n", nil),
		Entry("OPTIONS *", request("OPTIONS", "*", nil, ""), nil),
		Entry("OPTIONS with a path", request("OPTIONS", "/api/items?x=1", []string{"Access-Control-Request-Method: PUT"}, ""), nil),
		Entry("a method outside the usual set", request("PURGE", "/cache", nil, ""), nil),
		Entry("DELETE", request("DELETE", "/items/1", nil, ""), nil),

		// bodies
		Entry("POST with a content-length body of all 256 byte values",
			request("POST", "/upload", []string{"Content-Type: application/octet-stream", "Content-Length: 256"}, allBytes), nil),
		Entry("POST with a chunked body of several chunks",
			request("POST", "/upload", []string{"Transfer-Encoding: chunked"},
				chunk(allBytes[:100])+chunk("x")+chunk(allBytes[100:])+"0\r\n\r\n"), nil),
		Entry("POST with a chunked body, chunk extensions, uppercase hex and a trailer",
			request("POST", "/upload", []string{"Transfer-Encoding: chunked", "Trailer: X-Sum"},
				"A;name=value\r\n0123456789\r\n"+"1F\r\n"+allBytes[200:231]+"\r\n"+"0\r\nX-Sum: 42\r\n\r\n"), nil),
		Entry("an empty POST with content-length: 0",
			request("POST", "/empty", []string{"Content-Length: 0"}, ""), nil),
		Entry("a POST without content-length or transfer-encoding (no body)",
			request("POST", "/nolength", nil, ""), nil),
		Entry("PUT with a body", request("PUT", "/items/1", []string{"Content-Length: 5"}, "hello"), nil),

		// absolute-form targets
		Entry("an absolute-form target", get("http://example.com/p?q=1"),
			// Known difference: uvicorn 0.17.6's h11 backend splits the target at the
			// first ? and keeps the scheme and authority in path and raw_path
			// (h11_impl.py: event.target.partition(b"?")); its httptools backend and
			// the LASGI spec (http.scope.raw-path) keep only the path part.
			func(f *scopeFields) {
				Expect(f.Path).To(Equal("http://example.com/p"), "uvicorn's path")
				Expect(f.RawPath).To(Equal("http://example.com/p"), "uvicorn's raw_path")
				f.Path, f.RawPath = "/p", "/p"
			}),
		Entry("an absolute-form target without a path", get("http://example.com?q=1"),
			// Known difference, as above; for a target without a path the LASGI
			// spec says the path part is "/".
			func(f *scopeFields) {
				Expect(f.Path).To(Equal("http://example.com"), "uvicorn's path")
				Expect(f.RawPath).To(Equal("http://example.com"), "uvicorn's raw_path")
				f.Path, f.RawPath = "/", "/"
			}),
	)

	It("answers HEAD like GET, without a body, and keeps the connection usable", func() {
		head := request("HEAD", "/caf%C3%A9?x=1", []string{"X-Dup: 1", "x-dup: 2"}, "")
		next := get("/after-head?y=2")
		var heads [2]*response
		var scopes [2]scopeFields
		for i, s := range []struct{ name, addr string }{{"uvicorn", uvicornAddr}, {"our server", ourAddr}} {
			// The GET after the HEAD on the same connection is only read right if
			// the HEAD response carried no body.
			f, resps := answer(s.name, s.addr, head, next)
			heads[i], scopes[i] = resps[0], f
			Expect(f.Method).To(Equal("GET"), s.name)
			Expect(f.Path).To(Equal("/after-head"), s.name)

			// The HEAD response announces the framing the same server uses for
			// the GET of the same target (RFC 9110 9.3.2).
			getResps, err := exchange(s.addr, []string{strings.Replace(head, "HEAD", "GET", 1)}, []string{"GET"})
			Expect(err).NotTo(HaveOccurred(), s.name)
			Expect(framingHeaders(resps[0])).To(Equal(framingHeaders(getResps[0])), "%s: HEAD vs GET framing", s.name)
		}
		theirs, ours := heads[0], heads[1]
		Expect(ours.status).To(Equal(theirs.status), "HEAD status")
		theirCT, _ := theirs.header("content-type")
		ourCT, _ := ours.header("content-type")
		Expect(ourCT).To(Equal(theirCT), "HEAD content-type")
		expectSameScope(scopes[0], scopes[1], next, nil)
	})
})

// framingHeaders names the body framing a response announces: the
// transfer-encoding value or "content-length" (its value depends on the body).
func framingHeaders(r *response) []string {
	var out []string
	for _, h := range r.headers {
		switch h[0] {
		case "transfer-encoding":
			out = append(out, "transfer-encoding: "+strings.ToLower(h[1]))
		case "content-length":
			out = append(out, "content-length")
		}
	}
	return out
}
