package websocket

import (
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// acceptGUID is the GUID RFC 6455 section 1.3 appends to the client's key.
const acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// HandshakeError is an opening handshake request CheckUpgrade refuses, and
// the HTTP response to refuse it with: Status, the header fields that
// status needs (allow for 405, sec-websocket-version for 426, upgrade and
// connection for 426 when no upgrade was asked), and Reason, a short text
// for the response body and the log. The response is the caller's to
// frame; the connection is to be closed after it (a caller sending
// connection: close along with a 426's connection: upgrade puts both
// options in one field).
type HandshakeError struct {
	Status  int
	Headers [][2]string
	Reason  string
}

func (e *HandshakeError) Error() string {
	return "websocket handshake refused with " + strconv.Itoa(e.Status) + ": " + e.Reason
}

// IsUpgrade reports whether a request asks to become a WebSocket: one of
// its upgrade header fields lists the websocket token (case-insensitive).
// Such a request is for CheckUpgrade; any other is plain HTTP.
func IsUpgrade(headers [][2]string) bool {
	return hasToken(headers, "upgrade", "websocket")
}

// CheckUpgrade checks an HTTP/1.1 opening handshake request (RFC 6455
// section 4.2.1) given its method and header fields, names in any case, in
// the order received. It returns the client's sec-websocket-key and the
// subprotocols the client offers, in order, from every
// sec-websocket-protocol field split at commas, spaces trimmed and empty
// entries dropped (spec rule websocket.scope.subprotocols).
//
// It refuses, with the HandshakeError to answer with:
//   - a method other than GET: 405, allow: GET;
//   - no upgrade field listing websocket: 426, upgrade: websocket;
//   - no connection field listing the upgrade token: 400;
//   - anything but exactly one sec-websocket-version field of 13: 426,
//     sec-websocket-version: 13 (section 4.4);
//   - anything but exactly one sec-websocket-key field holding the base64
//     of 16 bytes: 400;
//   - a subprotocol that is not an HTTP token: 400.
//
// The HTTP version (1.1 or later), the host field and the request target
// are the HTTP front's to check. sec-websocket-extensions is ignored: no
// extension is offered.
func CheckUpgrade(method string, headers [][2]string) (key string, protocols []string, err *HandshakeError) {
	if method != "GET" {
		return "", nil, &HandshakeError{Status: 405, Headers: [][2]string{{"allow", "GET"}},
			Reason: "a WebSocket handshake must be a GET, not " + strconv.Quote(method)}
	}
	if !hasToken(headers, "upgrade", "websocket") {
		return "", nil, &HandshakeError{Status: 426, Headers: [][2]string{{"upgrade", "websocket"}, {"connection", "upgrade"}},
			Reason: "no upgrade header field lists websocket"}
	}
	if !hasToken(headers, "connection", "upgrade") {
		return "", nil, &HandshakeError{Status: 400, Reason: "no connection header field lists upgrade"}
	}
	versions := values(headers, "sec-websocket-version")
	if len(versions) != 1 || trimOWS(versions[0]) != "13" {
		reason := "sec-websocket-version must be 13"
		switch len(versions) {
		case 0:
			reason = "no sec-websocket-version header field (13 is supported)"
		case 1:
			reason = "sec-websocket-version " + strconv.Quote(versions[0]) + " is not supported (13 is)"
		default:
			reason = strconv.Itoa(len(versions)) + " sec-websocket-version header fields (one of 13 is supported)"
		}
		return "", nil, &HandshakeError{Status: 426, Headers: [][2]string{{"sec-websocket-version", "13"}}, Reason: reason}
	}
	keys := values(headers, "sec-websocket-key")
	if len(keys) != 1 {
		return "", nil, &HandshakeError{Status: 400,
			Reason: strconv.Itoa(len(keys)) + " sec-websocket-key header fields (one is needed)"}
	}
	key = trimOWS(keys[0])
	var raw [18]byte
	if n, derr := base64.StdEncoding.Decode(raw[:], []byte(key)); len(key) != 24 || derr != nil || n != 16 {
		return "", nil, &HandshakeError{Status: 400,
			Reason: "sec-websocket-key " + strconv.Quote(clip(key)) + " is not the base64 of 16 bytes"}
	}
	for _, v := range values(headers, "sec-websocket-protocol") {
		for _, p := range strings.Split(v, ",") {
			p = trimOWS(p)
			if p == "" {
				continue
			}
			if !isToken(p) {
				return "", nil, &HandshakeError{Status: 400,
					Reason: "sec-websocket-protocol entry " + strconv.Quote(clip(p)) + " is not a token"}
			}
			protocols = append(protocols, p)
		}
	}
	return key, protocols, nil
}

// AcceptKey is the sec-websocket-accept value for a client's
// sec-websocket-key (RFC 6455 section 4.2.2): the base64 of the SHA-1 of
// the key and the protocol's GUID.
func AcceptKey(key string) string {
	h := sha1.New()
	h.Write([]byte(key))
	h.Write([]byte(acceptGUID))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// acceptOwned are the header fields WriteAccept writes itself or that a 101
// response must not carry: an app's own would contradict them.
var acceptOwned = map[string]string{
	"upgrade":                  "the server writes upgrade itself",
	"connection":               "the server writes connection itself",
	"sec-websocket-accept":     "the server writes sec-websocket-accept itself",
	"sec-websocket-protocol":   "the subprotocol is chosen with the subprotocol key (websocket.accept.no-protocol-header)",
	"sec-websocket-extensions": "no WebSocket extension is negotiated",
	"content-length":           "a 101 response has no content-length (RFC 9110 section 8.6)",
	"transfer-encoding":        "a 101 response has no transfer-encoding (RFC 9112 section 6.1)",
}

// WriteAccept writes the 101 response that completes the opening handshake
// for the client's key (spec rule websocket.accept.handshake): upgrade,
// connection and sec-websocket-accept, then sec-websocket-protocol when
// subprotocol is not empty, then extraHeaders in their order, in one Write.
// It writes nothing and says which field is wrong when subprotocol is not a
// token, or when an extra field's name is not a token, its value holds a
// control character other than tab, or it clashes with the response's own
// fields (upgrade, connection, sec-websocket-accept, sec-websocket-protocol,
// sec-websocket-extensions, content-length, transfer-encoding). Whether
// subprotocol is one the client offered is the caller's to check.
func WriteAccept(w io.Writer, key, subprotocol string, extraHeaders [][2]string) error {
	if subprotocol != "" && !isToken(subprotocol) {
		return errors.New("websocket: WriteAccept: subprotocol " + strconv.Quote(clip(subprotocol)) + " is not a token")
	}
	for i, h := range extraHeaders {
		where := "websocket: WriteAccept: header " + strconv.Itoa(i+1) + " (" + strconv.Quote(clip(h[0])) + "): "
		if !isToken(h[0]) {
			return errors.New(where + "the name is not a token")
		}
		if why, ok := acceptOwned[strings.ToLower(h[0])]; ok {
			return errors.New(where + why)
		}
		for j := 0; j < len(h[1]); j++ {
			if c := h[1][j]; c < 0x20 && c != '\t' || c == 0x7f {
				return errors.New(where + "the value holds control byte 0x" + strconv.FormatUint(uint64(c), 16) + " at " + strconv.Itoa(j))
			}
		}
	}
	b := make([]byte, 0, 160)
	b = append(b, "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: "...)
	b = append(b, AcceptKey(key)...)
	b = append(b, "\r\n"...)
	if subprotocol != "" {
		b = append(b, "sec-websocket-protocol: "...)
		b = append(b, subprotocol...)
		b = append(b, "\r\n"...)
	}
	for _, h := range extraHeaders {
		b = append(b, h[0]...)
		b = append(b, ": "...)
		b = append(b, h[1]...)
		b = append(b, "\r\n"...)
	}
	b = append(b, "\r\n"...)
	_, err := w.Write(b)
	if err != nil {
		return fmt.Errorf("websocket: writing the 101 response: %w", err)
	}
	return nil
}

// values are the values of every field named name (any case).
func values(headers [][2]string, name string) []string {
	var vs []string
	for _, h := range headers {
		if strings.EqualFold(h[0], name) {
			vs = append(vs, h[1])
		}
	}
	return vs
}

// hasToken reports whether a field named name lists token in its
// comma-separated value, both compared without case.
func hasToken(headers [][2]string, name, token string) bool {
	for _, h := range headers {
		if !strings.EqualFold(h[0], name) {
			continue
		}
		for v := h[1]; v != ""; {
			var item string
			item, v, _ = strings.Cut(v, ",")
			if strings.EqualFold(trimOWS(item), token) {
				return true
			}
		}
	}
	return false
}

// trimOWS trims HTTP's optional white space, spaces and tabs.
func trimOWS(s string) string { return strings.Trim(s, " \t") }

// isToken reports whether s is an HTTP token (RFC 9110 section 5.6.2).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			continue
		}
		if !strings.ContainsRune("!#$%&'*+-.^_`|~", rune(c)) {
			return false
		}
	}
	return true
}

// clip shortens what a peer sent to 64 bytes for an error text.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
