package mutant

import "github.com/lasgi/lasgi/spec/event"

// The mutants, in registry order. Each constant is the ID of the entry at
// the same position in registry (a test keeps them in step).
const (
	_ ID = iota
	ScopeTypeWrong
	HTTPVersionAlways11
	MethodLowercased
	SchemeHTTPS
	PathNotDecoded
	RawPathDecoded
	QueryDecoded
	LASGIVersionWrong
	HeaderNamesRaw
	HeaderValuesUntrimmed
	HeaderOrderReversed
	HeaderDuplicatesJoined
	ClientMissing
	ServerIsClient
	ExtensionsNone

	NoBodyNoEvent
	BufferedMoreBodyTrue
	StreamedEndsEarly
	BodyLastByteDropped
	ChunkSizeDecimal
	ContinueNotSent

	WatchNoDisconnect
	MidBodyNoDisconnect
	DisconnectOnce
	SendAfterDisconnectAccepted

	AlwaysChunked
	NeverChunked
	ResponseChunkSizeDecimal
	LastChunkMissing
	HTTP10Chunked
	HeadBodySent
	AppLengthIgnored
	ShortLengthKeptAlive
	AppTransferEncodingKept
	ResponseHeadersReversed
	ResponseDuplicatesJoined
	DateAlwaysAdded
	EmptyPieceEndsBody
	TrailersNotAwaited
	TrailersNoChunking

	KeepAliveNever
	ClientCloseIgnored
	HTTP10KeepAliveIgnored
	PipelineDropped

	ErrorBefore200
	ReturnWithoutResponseCloses
	ErrorAfterStartCompletes
	ErrorDetailsShown
	HeldHeadWrittenOnError

	FoldingAccepted
	ConflictingLengthsAccepted
	LengthAndChunkedAccepted
	ExpectationPassed
	HeaderTooLarge400
	HTTP2Answered400
	MalformedKeepsOpen

	StatusStringCoerced
	BodyNumberCoerced
	HeadersMapAccepted
	MoreBodyStringAccepted
	StatusRangeUnchecked
	StartOnceUnchecked
	AfterCompleteUnchecked
	BodyOverLengthUnchecked
)

var registry = []Mutant{
	// Scope keys (server/fault.go faultScope, request.go).
	{ID: ScopeTypeWrong, Name: "scope-type-wrong", Rule: "http.scope.type", Description: `scope.type is "https" instead of "http"`},
	{ID: HTTPVersionAlways11, Name: "http-version-always-1.1", Rule: "http.scope.http-version", Description: `scope.http_version is "1.1" for an HTTP/1.0 request`, MustCatch: []string{"http.scope/http-version-1.0"}},
	{ID: MethodLowercased, Name: "method-lowercased", Rule: "http.scope.method", Description: "scope.method is lowercased"},
	{ID: SchemeHTTPS, Name: "scheme-https", Rule: "http.scope.scheme", Description: `scope.scheme is "https" on a plain connection`},
	{ID: PathNotDecoded, Name: "path-not-decoded", Rule: "http.scope.path", Description: "scope.path is the raw target path, percent escapes left in"},
	{ID: RawPathDecoded, Name: "raw-path-decoded", Rule: "http.scope.raw-path", Description: "scope.raw_path is the decoded path"},
	{ID: QueryDecoded, Name: "query-decoded", Rule: "http.scope.query-string", Description: "scope.query_string is percent-decoded"},
	{ID: LASGIVersionWrong, Name: "lasgi-version-wrong", Rule: "core.scope.lasgi", Description: `scope.lasgi.version is "0.9"`},
	{ID: HeaderNamesRaw, Name: "header-names-raw", Rule: "http.scope.header-names-lowercase", Description: "request header names keep the client's case"},
	{ID: HeaderValuesUntrimmed, Name: "header-values-untrimmed", Rule: "http.scope.header-values", Description: "request header values keep their surrounding whitespace"},
	{ID: HeaderOrderReversed, Name: "header-order-reversed", Rule: "http.scope.header-order", Description: "scope.headers lists the request headers in reverse order"},
	{ID: HeaderDuplicatesJoined, Name: "header-duplicates-joined", Rule: "http.scope.headers", Description: "repeated request headers are joined into one with \", \""},
	{ID: ClientMissing, Name: "client-missing", Rule: "http.scope.client", Description: "scope.client is absent on a TCP connection"},
	{ID: ServerIsClient, Name: "server-is-client", Rule: "http.scope.server", Description: "scope.server is the client's address"},
	{ID: ExtensionsNone, Name: "extensions-none", Rule: "http.scope.extensions", Description: "scope.extensions offers nothing, not even the trailers the server supports"},

	// Request body (conn.go exchange and bodyPump, body.go).
	{ID: NoBodyNoEvent, Name: "no-body-no-event", Rule: "http.request.at-least-one", Description: "a request without a body gets no http.request event"},
	{ID: BufferedMoreBodyTrue, Name: "buffered-more-body-true", Rule: "http.request.more-body", Description: "a body read whole is delivered with more_body = true, and nothing follows"},
	{ID: StreamedEndsEarly, Name: "streamed-ends-early", Rule: "http.request.more-body", Description: "a streamed body's first piece says more_body = false"},
	{ID: BodyLastByteDropped, Name: "body-last-byte-dropped", Rule: "http.request.body-type", Description: "a body read whole loses its last byte"},
	{ID: ChunkSizeDecimal, Name: "chunk-size-decimal", Rule: "http.request.decoded", Description: "request chunk sizes are read as decimal, not hexadecimal"},
	{ID: ContinueNotSent, Name: "continue-not-sent", Rule: "http.request.continue", Description: "expect: 100-continue gets no 100 Continue",
		Gap: "the wire client records interim 1xx responses, but no expect field compares them"},

	// Disconnect (conn.go, bridge).
	{ID: WatchNoDisconnect, Name: "watch-no-disconnect", Rule: "http.disconnect.on-close", Description: "a client leaving while the app waits for http.disconnect is not told to the app"},
	{ID: MidBodyNoDisconnect, Name: "mid-body-no-disconnect", Rule: "http.disconnect.on-close", Description: "a client leaving in the middle of the body is not told to the app"},
	{ID: DisconnectOnce, Name: "disconnect-once", Rule: "http.disconnect.repeat", Description: "receive() gives http.disconnect once, then waits forever"},
	{ID: SendAfterDisconnectAccepted, Name: "send-after-disconnect-accepted", Rule: "http.send.after-disconnect", Description: "send() after the client left succeeds silently"},

	// Response framing and headers (response.go).
	{ID: AlwaysChunked, Name: "always-chunked", Rule: "http.body.chunked", Description: "a one-piece body is chunked instead of sent with its content-length"},
	{ID: NeverChunked, Name: "never-chunked", Rule: "http.body.chunked", Description: "a streamed HTTP/1.1 body is close-delimited instead of chunked"},
	{ID: ResponseChunkSizeDecimal, Name: "response-chunk-size-decimal", Rule: "http.body.chunked", Description: "response chunk sizes are written in decimal"},
	{ID: LastChunkMissing, Name: "last-chunk-missing", Rule: "http.body.complete", Description: "a chunked body never gets its last chunk"},
	{ID: HTTP10Chunked, Name: "http10-chunked", Rule: "http.body.http10", Description: "a streamed body to an HTTP/1.0 client is chunked"},
	{ID: HeadBodySent, Name: "head-body-sent", Rule: "http.body.head", Description: "the body the app sends for HEAD goes on the wire"},
	{ID: AppLengthIgnored, Name: "app-length-ignored", Rule: "http.body.honour-content-length", Description: "the app's content-length is dropped and the body framed by the server"},
	{ID: ShortLengthKeptAlive, Name: "short-length-kept-alive", Rule: "http.body.content-length", Description: "a body shorter than its content-length leaves the connection open"},
	{ID: AppTransferEncodingKept, Name: "app-transfer-encoding-kept", Rule: "http.headers.transfer-encoding", Description: "the app's transfer-encoding header goes on the wire"},
	{ID: ResponseHeadersReversed, Name: "response-headers-reversed", Rule: "http.headers.order", Description: "response headers go out in reverse order"},
	{ID: ResponseDuplicatesJoined, Name: "response-duplicates-joined", Rule: "http.headers.order", Description: "repeated response headers are joined into one line", MustCatch: []string{"http.response/repeated-set-cookie"}},
	{ID: DateAlwaysAdded, Name: "date-always-added", Rule: "http.headers.server-added", Description: "the server adds date even when the app sent one",
		Gap: "expected headers are a subsequence of the response's, so no case can require a header to appear only once"},
	{ID: EmptyPieceEndsBody, Name: "empty-piece-ends-body", Rule: "http.body.empty-piece", Description: "an empty body piece with more_body = true writes the last chunk"},
	{ID: TrailersNotAwaited, Name: "trailers-not-awaited", Rule: "http.trailers.wait", Description: "the response ends at the last body event although trailers were asked for"},
	{ID: TrailersNoChunking, Name: "trailers-no-chunking", Rule: "http.trailers.force-chunked", Description: "a one-piece body with trailers gets a content-length, so the trailers are lost"},

	// Connections (conn.go, request.go).
	{ID: KeepAliveNever, Name: "keep-alive-never", Rule: "http.connection.next-request", Description: "every connection closes after one response"},
	{ID: ClientCloseIgnored, Name: "client-close-ignored", Rule: "http.connection.next-request", Description: "connection: close from the client is ignored", MustCatch: []string{"http.connection/client-asks-close"}},
	{ID: HTTP10KeepAliveIgnored, Name: "http10-keep-alive-ignored", Rule: "http.connection.next-request", Description: "connection: keep-alive from an HTTP/1.0 client is ignored", MustCatch: []string{"http.connection/http-1.0-keep-alive"}},
	{ID: PipelineDropped, Name: "pipeline-dropped", Rule: "http.connection.next-request", Description: "requests pipelined behind the first are dropped"},

	// Application errors (conn.go await).
	{ID: ErrorBefore200, Name: "error-before-start-200", Rule: "http.error.before-start", Description: "an app error before the head gives 200 instead of 500"},
	{ID: ReturnWithoutResponseCloses, Name: "return-without-response-closes", Rule: "core.app.complete-response", Description: "an app returning without a response gets the connection closed, no 500"},
	{ID: ErrorAfterStartCompletes, Name: "error-after-start-completes", Rule: "http.error.after-start", Description: "an app error mid-body ends the chunked body cleanly instead of cutting it off"},
	{ID: ErrorDetailsShown, Name: "error-details-shown", Rule: "http.error.no-details", Description: "the 500 body shows the app's error message"},
	{ID: HeldHeadWrittenOnError, Name: "held-head-written-on-error", Rule: "http.error.before-start", Description: "an app error after a start not yet on the wire sends that start, not 500", MustCatch: []string{"http.error/raise-after-head-held"}},

	// Malformed requests (request.go, conn.go).
	{ID: FoldingAccepted, Name: "folding-accepted", Rule: "http.malformed", Description: "obsolete line folding is joined into the previous header"},
	{ID: ConflictingLengthsAccepted, Name: "conflicting-lengths-accepted", Rule: "http.malformed", Description: "conflicting content-length headers: the last wins"},
	{ID: LengthAndChunkedAccepted, Name: "length-and-chunked-accepted", Rule: "http.malformed", Description: "content-length with transfer-encoding: chunked wins"},
	{ID: ExpectationPassed, Name: "expectation-passed", Rule: "http.malformed", Description: "an unsupported expect reaches the app"},
	{ID: HeaderTooLarge400, Name: "header-too-large-400", Rule: "http.malformed", Description: "a header section over the limit gets 400, not 431"},
	{ID: HTTP2Answered400, Name: "http2-answered-400", Rule: "http.malformed", Description: "an unsupported major version gets 400, not 505"},
	{ID: MalformedKeepsOpen, Name: "malformed-keeps-open", Rule: "http.malformed.close", Description: "the connection stays open after a malformed request"},

	// The app-side checks the server enforces (gopherlua convert.go, bridge).
	{ID: StatusStringCoerced, Name: "status-string-coerced", Rule: "core.value.no-coercion", Description: `status "200" is taken as 200`, MustCatch: []string{"http.send/status-string"}},
	{ID: BodyNumberCoerced, Name: "body-number-coerced", Rule: "core.value.no-coercion", Description: "body 5 is taken as \"5\"", MustCatch: []string{"http.send/body-number"}},
	{ID: HeadersMapAccepted, Name: "headers-map-accepted", Rule: "core.send.invalid-raises", Description: "headers that are not a list of string pairs are taken as no headers", MustCatch: []string{"http.send/headers-map"}},
	{ID: MoreBodyStringAccepted, Name: "more-body-string-accepted", Rule: "core.send.invalid-raises", Description: `more_body = "yes" is taken as false without an error`, MustCatch: []string{"http.send/more-body-string"}},
	{ID: StatusRangeUnchecked, Name: "status-range-unchecked", Rule: "core.send.invalid-raises", Description: "a status outside 200..599 (103) is not raised", MustCatch: []string{"http.send/status-1xx"}, Ignore: event.RuleStatusRange},
	{ID: StartOnceUnchecked, Name: "start-once-unchecked", Rule: "core.send.invalid-raises", Description: "a second http.response.start is not raised", MustCatch: []string{"http.send/start-again"}, Ignore: event.RuleStartOnce},
	{ID: AfterCompleteUnchecked, Name: "after-complete-unchecked", Rule: "http.send.after-complete", Description: "send() after the response was complete is not raised", Ignore: event.RuleAfterComplete},
	{ID: BodyOverLengthUnchecked, Name: "body-over-length-unchecked", Rule: "http.body.content-length", Description: "a body over the declared content-length is not raised", MustCatch: []string{"http.send/body-over-content-length"}, Ignore: event.RuleContentLength},
}
