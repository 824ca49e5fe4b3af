package server

import (
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lasgi/lasgi/reference/server/bridge"
	"github.com/lasgi/lasgi/reference/server/internal/mutant"
	"github.com/lasgi/lasgi/reference/server/websocket"
	"github.com/lasgi/lasgi/spec/event"
)

// The mutants' behaviour that does not fit on the line of its hook. Each
// function runs only when a test injected a fault (internal/mutant); a
// server without one never calls them.

// faultScope breaks one scope key.
func faultScope(f mutant.Fault, s *event.Scope) {
	switch f.ID() {
	case mutant.ScopeTypeWrong:
		s.Type = "https"
	case mutant.HTTPVersionAlways11:
		s.HTTPVersion = "1.1"
	case mutant.MethodLowercased:
		s.Method = strings.ToLower(s.Method)
	case mutant.SchemeHTTPS:
		s.Scheme = "https"
	case mutant.PathNotDecoded:
		s.Path = s.RawPath
	case mutant.RawPathDecoded:
		s.RawPath = s.Path
	case mutant.QueryDecoded:
		s.QueryString = event.DecodePath(s.QueryString)
	case mutant.LASGIVersionWrong:
		s.LASGIVersion = "0.9"
	case mutant.HeaderOrderReversed:
		hs := make([]event.Header, len(s.Headers))
		for i, h := range s.Headers {
			hs[len(hs)-1-i] = h
		}
		s.Headers = hs
	case mutant.HeaderDuplicatesJoined:
		s.Headers = joinDuplicates(s.Headers)
	case mutant.ClientMissing:
		s.Client = nil
	case mutant.ServerIsClient:
		s.Server = s.Client
	case mutant.NoExtensions:
		s.Extensions = nil
	case mutant.HostAdded:
		if !slices.ContainsFunc(s.Headers, func(h event.Header) bool { return h.Name == "host" }) && s.Server != nil {
			host := net.JoinHostPort(s.Server.Host, strconv.Itoa(s.Server.Port))
			s.Headers = append(slices.Clip(s.Headers), event.Header{Name: "host", Value: host})
		}
	}
}

// joinDuplicates folds every repeated header name into its first
// occurrence, values joined with ", " (what a server with a map would do).
func joinDuplicates(hs []event.Header) []event.Header {
	out := make([]event.Header, 0, len(hs))
	at := map[string]int{}
	for _, h := range hs {
		if i, ok := at[h.Name]; ok {
			out[i].Value += ", " + h.Value
			continue
		}
		at[h.Name] = len(out)
		out = append(out, h)
	}
	return out
}

// faultResponseHeaders breaks the order or the repetition of the headers
// an app sent; it returns a new list, the event's is the app's.
func faultResponseHeaders(f mutant.Fault, hs []event.Header) []event.Header {
	switch f.ID() {
	case mutant.ResponseHeadersReversed:
		out := make([]event.Header, len(hs))
		for i, h := range hs {
			out[len(out)-1-i] = h
		}
		return out
	case mutant.ResponseDuplicatesJoined:
		return joinDuplicates(hs)
	}
	return hs
}

// faultBuffered breaks the one event of a body that was read whole.
func faultBuffered(f mutant.Fault, ev event.Event) event.Event {
	switch {
	case f.Is(mutant.BufferedMoreBodyTrue):
		ev.MoreBody = true
	case f.Is(mutant.BodyLastByteDropped) && len(ev.Body) > 0:
		ev.Body = ev.Body[:len(ev.Body)-1]
	}
	return ev
}

// chunkBase is the base chunk sizes are written or read in: 16, or 10 for
// mutant id.
func chunkBase(f mutant.Fault, id mutant.ID) int {
	if f.Is(id) {
		return 10
	}
	return 16
}

// faultFinished answers an app that ended without completing its response
// the wrong way, and reports whether it did (the connection then closes).
// quiet stops the goroutines reading the connection, as before refuse.
func (c *conn) faultFinished(f mutant.Fault, w *responseWriter, err error, quiet func()) bool {
	switch {
	case f.Is(mutant.ErrorBefore200) && err != nil && !w.headerWritten:
		quiet()
		c.refuse(&httpError{200, ""})
	case f.Is(mutant.ReturnWithoutResponseCloses) && err == nil && !w.headerWritten:
		// closed without a word
	case f.Is(mutant.ErrorDetailsShown) && err != nil && !w.headerWritten:
		quiet()
		c.refuse(&httpError{500, err.Error()})
	case f.Is(mutant.ErrorAfterStartCompletes) && err != nil && w.headerWritten:
		c.acquireWriter() // writeEvents gave it back
		w.bw = c.bw
		w.finish()
		c.bw.Flush()
	default:
		return false
	}
	return true
}

// faultWholeBody reads the whole body before handing it over in one event,
// and reports whether that worked.
func (c *conn) faultWholeBody(call *bridge.Call, body *bodyReader) bool {
	c.nc.SetReadDeadline(time.Now().Add(c.srv.cfg.ReadTimeout))
	buf, err := io.ReadAll(body)
	if err != nil {
		return false
	}
	call.Push(event.Event{Type: event.HTTPRequest, Body: string(buf)})
	return true
}

// knownMethod: the methods of RFC 9110 and PATCH, all a server that
// refuses the others knows.
func knownMethod(m string) bool {
	switch m {
	case "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH":
		return true
	}
	return false
}

// faultWSScope breaks one key of a websocket scope.
func faultWSScope(f mutant.Fault, s *event.Scope) {
	switch f.ID() {
	case mutant.WSSchemeHTTP:
		s.Scheme = "http"
	case mutant.WSSubprotocolsUnsplit:
		s.Subprotocols = nil
		for _, h := range s.Headers {
			if h.Name == "sec-websocket-protocol" {
				s.Subprotocols = append(s.Subprotocols, h.Value)
			}
		}
	}
}

// faultAccept breaks the key the accept is computed from, or the
// subprotocol the 101 names; offered is scope.subprotocols.
func faultAccept(f mutant.Fault, key, subprotocol string, offered []string) (string, string) {
	switch f.ID() {
	case mutant.WSAcceptKeyWrong:
		key = strings.TrimRight(key, "=")
	case mutant.WSSubprotocolHeaderDropped:
		subprotocol = ""
	case mutant.WSSubprotocolHeaderOffered:
		if subprotocol == "" && len(offered) > 0 {
			subprotocol = offered[0]
		}
	}
	return key, subprotocol
}

// faultBinary breaks which key a received message is delivered under.
func faultBinary(f mutant.Fault, binary bool) bool {
	switch f.ID() {
	case mutant.WSTextAsBytes:
		return true
	case mutant.WSBinaryAsText:
		return false
	}
	return binary
}

// faultDisconnect breaks the code or the reason of the client's close
// frame as websocket.disconnect hands them on.
func faultDisconnect(f mutant.Fault, code int, reason string) (int, string) {
	switch f.ID() {
	case mutant.WSDisconnectCode1000:
		code = 1000
	case mutant.WSDisconnectReasonDropped:
		reason = ""
	}
	return code, reason
}

// faultFinishCode breaks the close code of an open socket whose app call
// ended with err.
func faultFinishCode(f mutant.Fault, err error, code int, reason string) (int, string) {
	switch {
	case f.Is(mutant.WSErrorCloses1000) && code == websocket.CloseInternalError:
		return websocket.CloseNormal, ""
	case f.Is(mutant.WSReturnCloses1011) && err == nil:
		return websocket.CloseInternalError, "the application failed"
	}
	return code, reason
}

// faultErrorStatus is the error response the mutants of it give (answer
// false: none at all), for the outside writer, which answers a call that
// ended while the connection's goroutine was in the engine (faultFinished
// answers the others).
func faultErrorStatus(f mutant.Fault, err error, status int, msg string) (int, string, bool) {
	switch {
	case f.Is(mutant.ErrorBefore200) && err != nil:
		return 200, "", true
	case f.Is(mutant.ErrorDetailsShown) && err != nil:
		return 500, err.Error(), true
	case f.Is(mutant.ReturnWithoutResponseCloses) && err == nil:
		return 0, "", false
	}
	return status, msg, true
}
