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

	NoBodyNoEvent
	BufferedMoreBodyTrue
	StreamedEndsEarly
	BodyLastByteDropped
	ChunkSizeDecimal

	WatchNoDisconnect
	MidBodyNoDisconnect
	DisconnectOnce
	SendAfterDisconnectAccepted

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
	PipelineDropped

	ErrorBefore200
	ReturnWithoutResponseCloses
	ErrorAfterStartCompletes
	ErrorDetailsShown

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

	// Added after the first table; kept last so that IDs stay put.
	BodyBufferedWhole
	UnreadBodyLeft
	ResponseHeldUntilComplete
	HostAdded
	UnknownMethodRefused
	NameWhitespaceTrimmed
	InvalidLengthIgnored
	RequestLineTooLong400
	StateNotEmpty
	ASGIVersionWrong
	MoreBodyKeyMissing
	HostUnchecked

	// WebSocket (ws_session.go, gopherlua, bridge).
	WSSchemeHTTP
	WSSubprotocolsUnsplit
	WSSpecVersionWrong
	WSAcceptKeyWrong
	WSSubprotocolHeaderDropped
	WSSubprotocolHeaderOffered
	WSTextAsBytes
	WSBinaryAsText
	WSDisconnectCode1000
	WSDisconnectReasonDropped
	WSRepeatForgetsCode
	WSCloseBeforeAccept101
	WSCloseCodeIgnored
	WSErrorCloses1000
	WSReturnCloses1011
	WSErrorBeforeAccept403
	WSSendAfterCloseAccepted
	WSConnectNotHeld
	WSPingNotAnswered
	WSInvalidUTF8Delivered
	WSFragmentsSeparate
	WSReceiveBeforeAccept
	WSMessageAfterDisconnect

	LifespanSpecVersionWrong
	LifespanStateNotEmpty
	LifespanStartupNotFirst
	LifespanFirstWorkerOnly
	LifespanServesBeforeReply
	LifespanFailedIgnored
	LifespanErrorAfterFailedServes
	LifespanUnsupportedFails
	LifespanErrorAfterStartupFails
	LifespanShutdownNotAwaited
	LifespanShutdownWithCallsRunning
	LifespanStateShared
	LifespanStateDeepCopy
	LifespanStateServerKey

	TimeoutEarly
	TimeoutNever
	TimeoutBeforeEvent
	TimeoutTakesEvent
	TimersWithoutTimesOut
	TimersOptionsUnchecked

	GroupsNoLimits
	GroupsNameUnchecked
	GroupsDataUnchecked
	GroupsSizeUnchecked
	GroupsMaxGroupsUnchecked
	GroupsJoinTwice
	GroupsLeaveIgnored
	GroupsLeaveUnjoinedRaises
	GroupsNoMembersRaises
	GroupsSenderSkipped
	GroupsWakeLost
	GroupsDeliveredTwice
	GroupsOrderReversed
	GroupsStringCutAtNUL
	GroupsFloatTruncated
	GroupsDataShared
	GroupsQueueUnbounded
	GroupsDropsOldest
	GroupsDroppedMissing
	GroupsDroppedNotReset
	GroupsDroppedZero
	GroupsBusyDrops
)

var registry = []Mutant{
	// Scope keys (server/fault.go faultScope, request.go).
	{ID: ScopeTypeWrong, Name: "scope-type-wrong", Rule: "http.scope.type", Description: `scope.type is "https" instead of "http"`, MustCatch: []string{"http.scope/type-and-versions"}},
	{ID: HTTPVersionAlways11, Name: "http-version-always-1.1", Rule: "http.scope.http-version", Description: `scope.http_version is "1.1" for an HTTP/1.0 request`, MustCatch: []string{"http.scope/http-version-1.0"}},
	{ID: MethodLowercased, Name: "method-lowercased", Rule: "http.scope.method", Description: "scope.method is lowercased", MustCatch: []string{"http.scope/method-get", "http.scope/method-post"}},
	{ID: SchemeHTTPS, Name: "scheme-https", Rule: "http.scope.scheme", Description: `scope.scheme is "https" on a plain connection`, MustCatch: []string{"http.scope/scheme-http"}},
	{ID: PathNotDecoded, Name: "path-not-decoded", Rule: "http.scope.path", Description: "scope.path is the raw target path, percent escapes left in", MustCatch: []string{"http.scope/path-percent-space", "http.scope/path-percent-utf8", "http.scope/path-percent-lowercase-hex"}},
	{ID: RawPathDecoded, Name: "raw-path-decoded", Rule: "http.scope.raw-path", Description: "scope.raw_path is the decoded path", MustCatch: []string{"http.scope/path-percent-space", "http.scope/path-percent-utf8", "http.scope/path-percent-lowercase-hex"}},
	{ID: QueryDecoded, Name: "query-decoded", Rule: "http.scope.query-string", Description: "scope.query_string is percent-decoded", MustCatch: []string{"http.scope/query-raw-escapes", "http.scope/query-binary-escapes"}},
	{ID: LASGIVersionWrong, Name: "lasgi-version-wrong", Rule: "core.scope.lasgi", Description: `scope.lasgi.version is "0.9"`, MustCatch: []string{"http.scope/type-and-versions"}},
	{ID: HeaderNamesRaw, Name: "header-names-raw", Rule: "http.scope.header-names-lowercase", Description: "request header names keep the client's case", MustCatch: []string{"http.scope/headers-lowercased"}},
	{ID: HeaderValuesUntrimmed, Name: "header-values-untrimmed", Rule: "http.scope.header-values", Description: "request header values keep their surrounding whitespace", MustCatch: []string{"http.scope/header-values-trimmed", "http.scope/header-values-bytes"}},
	{ID: HeaderOrderReversed, Name: "header-order-reversed", Rule: "http.scope.header-order", Description: "scope.headers lists the request headers in reverse order", MustCatch: []string{"http.scope/headers-order-and-duplicates"}},
	{ID: HeaderDuplicatesJoined, Name: "header-duplicates-joined", Rule: "http.scope.headers", Description: "repeated request headers are joined into one with \", \"", MustCatch: []string{"http.scope/headers-order-and-duplicates"}},
	{ID: ClientMissing, Name: "client-missing", Rule: "http.scope.client", Description: "scope.client is absent on a TCP connection", MustCatch: []string{"http.scope/client-and-server"}},
	{ID: ServerIsClient, Name: "server-is-client", Rule: "http.scope.server", Description: "scope.server is the client's address", MustCatch: []string{"http.scope/client-and-server"}},

	// Request body (conn.go exchange and bodyPump, body.go).
	{ID: NoBodyNoEvent, Name: "no-body-no-event", Rule: "http.request.at-least-one", Description: "a request without a body gets no http.request event", MustCatch: []string{"http.request/no-body-one-event", "http.request/empty-content-length"}},
	{ID: BufferedMoreBodyTrue, Name: "buffered-more-body-true", Rule: "http.request.more-body", Description: "a body read whole is delivered with more_body = true, and nothing follows", MustCatch: []string{"http.request/content-length-body"}},
	{ID: StreamedEndsEarly, Name: "streamed-ends-early", Rule: "http.request.more-body", Description: "a streamed body's first piece says more_body = false", MustCatch: []string{"http.request/chunked-body"}},
	{ID: BodyLastByteDropped, Name: "body-last-byte-dropped", Rule: "http.request.body-type", Description: "a body read whole loses its last byte", MustCatch: []string{"http.request/content-length-body", "http.request/binary-body"}},
	{ID: ChunkSizeDecimal, Name: "chunk-size-decimal", Rule: "http.request.decoded", Description: "request chunk sizes are read as decimal, not hexadecimal", MustCatch: []string{"http.request/chunked-extensions-and-trailers", "http.request/large-chunked-body"}},

	// Disconnect (conn.go, bridge).
	{ID: WatchNoDisconnect, Name: "watch-no-disconnect", Rule: "http.disconnect.on-close", Description: "a client leaving while the app waits for http.disconnect is not told to the app", MustCatch: []string{"http.disconnect/client-leaves-while-app-waits"}},
	{ID: MidBodyNoDisconnect, Name: "mid-body-no-disconnect", Rule: "http.disconnect.on-close", Description: "a client leaving in the middle of the body is not told to the app", MustCatch: []string{"http.request/client-gone-mid-body"}},
	{ID: DisconnectOnce, Name: "disconnect-once", Rule: "http.disconnect.repeat", Description: "receive() gives http.disconnect once, then waits forever", MustCatch: []string{"http.disconnect/receive-after-complete"}},
	{ID: SendAfterDisconnectAccepted, Name: "send-after-disconnect-accepted", Rule: "http.send.after-disconnect", Description: "send() after the client left succeeds silently", MustCatch: []string{"http.disconnect/send-after-client-left"}},

	// Response framing and headers (response.go).
	{ID: NeverChunked, Name: "never-chunked", Rule: "http.body.chunked", Description: "a streamed HTTP/1.1 body is close-delimited instead of chunked", MustCatch: []string{"http.response/streamed-body-framed-chunked"}},
	{ID: ResponseChunkSizeDecimal, Name: "response-chunk-size-decimal", Rule: "http.body.chunked", Description: "response chunk sizes are written in decimal", MustCatch: []string{"http.response/large-streamed-body"}},
	{ID: LastChunkMissing, Name: "last-chunk-missing", Rule: "http.body.complete", Description: "a chunked body never gets its last chunk", MustCatch: []string{"http.response/trailers-sent"}},
	{ID: HTTP10Chunked, Name: "http10-chunked", Rule: "http.body.http10", Description: "a streamed body to an HTTP/1.0 client is chunked", MustCatch: []string{"http.response/http-1.0-streamed-framed-by-close"}},
	{ID: HeadBodySent, Name: "head-body-sent", Rule: "http.body.head", Description: "the body the app sends for HEAD goes on the wire", MustCatch: []string{"http.response/head-then-get-on-one-connection"}},
	{ID: AppLengthIgnored, Name: "app-length-ignored", Rule: "http.body.honour-content-length", Description: "the app's content-length is dropped and the body framed by the server", MustCatch: []string{"http.response/app-content-length-honoured"}},
	{ID: ShortLengthKeptAlive, Name: "short-length-kept-alive", Rule: "http.body.content-length", Description: "a body shorter than its content-length leaves the connection open", MustCatch: []string{"http.response/content-length-short-closes"}},
	{ID: AppTransferEncodingKept, Name: "app-transfer-encoding-kept", Rule: "http.headers.transfer-encoding", Description: "the app's transfer-encoding header goes on the wire", MustCatch: []string{"http.response/app-transfer-encoding-ignored"}},
	{ID: ResponseHeadersReversed, Name: "response-headers-reversed", Rule: "http.headers.order", Description: "response headers go out in reverse order", MustCatch: []string{"http.response/headers-in-order", "http.response/repeated-set-cookie"}},
	{ID: ResponseDuplicatesJoined, Name: "response-duplicates-joined", Rule: "http.headers.order", Description: "repeated response headers are joined into one line", MustCatch: []string{"http.response/repeated-set-cookie"}},
	{ID: DateAlwaysAdded, Name: "date-always-added", Rule: "http.headers.server-no-duplicate", Description: "the server adds date even when the app sent one", MustCatch: []string{"http.response/app-date-kept"}},
	{ID: EmptyPieceEndsBody, Name: "empty-piece-ends-body", Rule: "http.body.empty-piece", Description: "an empty body piece with more_body = true writes the last chunk", MustCatch: []string{"http.response/empty-piece-does-not-end"}},
	{ID: TrailersNotAwaited, Name: "trailers-not-awaited", Rule: "http.trailers.wait", Description: "the response ends at the last body event although trailers were asked for", MustCatch: []string{"http.response/trailers-sent"}},
	{ID: TrailersNoChunking, Name: "trailers-no-chunking", Rule: "http.trailers.force-chunked", Description: "a one-piece body with trailers gets a content-length, so the trailers are lost", MustCatch: []string{"http.response/trailers-sent"}},

	// Connections (conn.go, request.go).
	{ID: KeepAliveNever, Name: "keep-alive-never", Rule: "http.connection.every-request", Description: "every connection closes after one response, without saying connection: close", MustCatch: []string{"http.connection/keep-alive", "http.connection/pipelined-three", "http.connection/pipelined-with-bodies"}},
	{ID: ClientCloseIgnored, Name: "client-close-ignored", Rule: "http.connection.close-asked", Description: "connection: close from the client is ignored", MustCatch: []string{"http.connection/client-asks-close"}},
	{ID: PipelineDropped, Name: "pipeline-dropped", Rule: "http.connection.every-request", Description: "requests pipelined behind the first are dropped", MustCatch: []string{"http.connection/pipelined-three", "http.connection/pipelined-with-bodies"}},

	// Application errors (conn.go await).
	{ID: ErrorBefore200, Name: "error-before-start-200", Rule: "http.error.before-start", Description: "an app error before the head gives 200 instead of 500", MustCatch: []string{"http.error/raise-before-start", "http.error/raise-after-head-held", "http.error/error-value-table"}},
	{ID: ReturnWithoutResponseCloses, Name: "return-without-response-closes", Rule: "core.app.complete-response", Description: "an app returning without a response gets the connection closed, no 500", MustCatch: []string{"http.error/return-without-response"}},
	{ID: ErrorAfterStartCompletes, Name: "error-after-start-completes", Rule: "http.error.after-start", Description: "an app error mid-body ends the chunked body cleanly instead of cutting it off", MustCatch: []string{"http.error/raise-after-body-started"}},
	{ID: ErrorDetailsShown, Name: "error-details-shown", Rule: "http.error.no-details", Description: "the 500 body shows the app's error message", MustCatch: []string{"http.error/no-details-in-500"}},

	// Malformed requests (request.go, conn.go).
	{ID: ConflictingLengthsAccepted, Name: "conflicting-lengths-accepted", Rule: "http.malformed", Description: "conflicting content-length headers: the last wins", MustCatch: []string{"http.malformed/conflicting-content-lengths"}},
	{ID: LengthAndChunkedAccepted, Name: "length-and-chunked-accepted", Rule: "http.malformed", Description: "content-length with transfer-encoding: chunked wins", MustCatch: []string{"http.malformed/content-length-and-chunked"}},
	{ID: ExpectationPassed, Name: "expectation-passed", Rule: "http.malformed", Description: "an unsupported expect reaches the app", MustCatch: []string{"http.malformed/unsupported-expectation"}},
	{ID: HeaderTooLarge400, Name: "header-too-large-400", Rule: "http.malformed", Description: "a header section over the limit gets 400, not 431", MustCatch: []string{"http.malformed/header-section-too-large"}},
	{ID: HTTP2Answered400, Name: "http2-answered-400", Rule: "http.malformed", Description: "an unsupported major version gets 400, not 505", MustCatch: []string{"http.malformed/http-2.0-on-http-1", "http.malformed/http-3.0"}},
	{ID: MalformedKeepsOpen, Name: "malformed-keeps-open", Rule: "http.malformed.close", Description: "the connection stays open after a malformed request", MustCatch: []string{"http.malformed/garbage-request-line", "http.malformed/no-http-version", "http.malformed/malformed-version"}},

	// The app-side checks the server enforces (gopherlua convert.go, bridge).
	{ID: StatusStringCoerced, Name: "status-string-coerced", Rule: "core.value.no-coercion", Description: `status "200" is taken as 200`, MustCatch: []string{"http.send/status-string"}},
	{ID: BodyNumberCoerced, Name: "body-number-coerced", Rule: "core.value.no-coercion", Description: "body 5 is taken as \"5\"", MustCatch: []string{"http.send/body-number"}},
	{ID: HeadersMapAccepted, Name: "headers-map-accepted", Rule: "core.send.invalid-raises", Description: "headers that are not a list of string pairs are taken as no headers", MustCatch: []string{"http.send/headers-map", "http.send/header-single", "http.send/header-number"}},
	{ID: MoreBodyStringAccepted, Name: "more-body-string-accepted", Rule: "core.send.invalid-raises", Description: `more_body = "yes" is taken as false without an error`, MustCatch: []string{"http.send/more-body-string"}},
	{ID: StatusRangeUnchecked, Name: "status-range-unchecked", Rule: "core.send.invalid-raises", Description: "a status outside 200..599 (103) is not raised", MustCatch: []string{"http.send/status-1xx", "http.send/status-600"}, Ignore: event.RuleStatusRange},
	{ID: StartOnceUnchecked, Name: "start-once-unchecked", Rule: "core.send.invalid-raises", Description: "a second http.response.start is not raised", MustCatch: []string{"http.send/start-again"}, Ignore: event.RuleStartOnce},
	{ID: AfterCompleteUnchecked, Name: "after-complete-unchecked", Rule: "http.send.after-complete", Description: "send() after the response was complete is not raised", MustCatch: []string{"http.disconnect/send-after-complete-even-if-gone", "http.send/after-complete"}, Ignore: event.RuleAfterComplete},
	{ID: BodyOverLengthUnchecked, Name: "body-over-length-unchecked", Rule: "http.body.content-length", Description: "a body over the declared content-length is not raised", MustCatch: []string{"http.send/body-over-content-length", "http.send/content-length-bad"}, Ignore: event.RuleContentLength},

	{ID: BodyBufferedWhole, Name: "body-buffered-whole", Rule: "http.request.streamed", Description: "the whole request body is read before the first http.request event", MustCatch: []string{"http.request/answered-before-body-complete"}},
	{ID: UnreadBodyLeft, Name: "unread-body-left", Rule: "http.request.unread-body", Description: "the unread rest of a streamed body stays on a kept-alive connection", MustCatch: []string{"http.request/unread-chunked-body-then-next-request"}},
	{ID: ResponseHeldUntilComplete, Name: "response-held-until-complete", Rule: "http.body.streamed", Description: "response body pieces are flushed only when the response is complete (or the write buffer is full)",
		MustCatch: []string{"http.request/answered-before-body-complete"}},
	{ID: HostAdded, Name: "host-added", Rule: "http.scope.headers", Description: "a request without host gets one in scope.headers", MustCatch: []string{"http.scope/no-host-http-1.0"}},
	{ID: UnknownMethodRefused, Name: "unknown-method-refused", Rule: "http.scope.method-any", Description: "a method token the server does not know gets 501", MustCatch: []string{"http.scope/method-unknown-token"}},
	{ID: NameWhitespaceTrimmed, Name: "name-whitespace-trimmed", Rule: "http.malformed", Description: "whitespace between a header name and its colon is trimmed, not refused", MustCatch: []string{"http.malformed/space-before-colon"}},
	{ID: InvalidLengthIgnored, Name: "invalid-length-ignored", Rule: "http.malformed", Description: "an invalid content-length is ignored: the request has no body", MustCatch: []string{"http.malformed/invalid-content-length", "http.malformed/negative-content-length"}},
	{ID: RequestLineTooLong400, Name: "request-line-too-long-400", Rule: "http.malformed", Description: "a request line over the limit gets 400, not 414", MustCatch: []string{"http.malformed/request-line-too-long"}},
	{ID: StateNotEmpty, Name: "state-not-empty", Rule: "http.scope.state", Description: "scope.state holds a key without lifespan state", MustCatch: []string{"http.scope/state-empty-without-lifespan"}},
	{ID: ASGIVersionWrong, Name: "asgi-version-wrong", Rule: "http.scope.asgi-version", Description: `scope.asgi.version is "2.0"`, MustCatch: []string{"http.scope/type-and-versions"}},
	{ID: MoreBodyKeyMissing, Name: "more-body-key-missing", Rule: "core.receive.complete-keys", Description: "http.request events leave out more_body when it is false", MustCatch: []string{"http.request/no-body-one-event", "http.request/content-length-body", "http.request/empty-content-length"}},
	{ID: HostUnchecked, Name: "host-unchecked", Rule: "http.malformed", Description: "host header fields are not checked: none in HTTP/1.1, two, or an invalid one get 200", MustCatch: []string{"http.malformed/http-1.1-without-host", "http.malformed/two-hosts", "http.malformed/host-with-space"}},

	// WebSocket (ws_session.go, gopherlua, bridge).
	{ID: WSSchemeHTTP, Name: "ws-scheme-http", Rule: "websocket.scope.scheme", Description: `scope.scheme of a websocket is "http", the handshake request's scheme`, MustCatch: []string{"websocket.scope/keys"}},
	{ID: WSSubprotocolsUnsplit, Name: "ws-subprotocols-unsplit", Rule: "websocket.scope.subprotocols", Description: "scope.subprotocols holds each sec-websocket-protocol field value whole, not split at commas", MustCatch: []string{"websocket.scope/keys"}},
	{ID: WSSpecVersionWrong, Name: "ws-spec-version-wrong", Rule: "websocket.scope.asgi-version", Description: `scope.asgi.spec_version of a websocket is "2.4"`, MustCatch: []string{"websocket.scope/keys"}},
	{ID: WSAcceptKeyWrong, Name: "ws-accept-key-wrong", Rule: "websocket.accept.handshake", Description: "sec-websocket-accept is computed from the key with its base64 padding dropped", MustCatch: []string{"websocket.accept/handshake"}},
	{ID: WSSubprotocolHeaderDropped, Name: "ws-subprotocol-header-dropped", Rule: "websocket.accept.subprotocol-header", Description: "the subprotocol the app chose is not sent in sec-websocket-protocol", MustCatch: []string{"websocket.accept/subprotocol-header"}},
	{ID: WSSubprotocolHeaderOffered, Name: "ws-subprotocol-header-offered", Rule: "websocket.accept.subprotocol-header", Description: "an accept without a subprotocol answers with the client's first offer in sec-websocket-protocol", MustCatch: []string{"websocket.accept/no-subprotocol"}},
	{ID: WSTextAsBytes, Name: "ws-text-as-bytes", Rule: "websocket.receive.text", Description: "a text message is delivered under bytes", MustCatch: []string{"websocket.receive/text-and-binary"}},
	{ID: WSBinaryAsText, Name: "ws-binary-as-text", Rule: "websocket.receive.binary", Description: "a binary message is delivered under text", MustCatch: []string{"websocket.receive/text-and-binary"}},
	{ID: WSDisconnectCode1000, Name: "ws-disconnect-code-1000", Rule: "websocket.disconnect.code", Description: "websocket.disconnect says 1000 whatever code the client's close frame carried", MustCatch: []string{"websocket.disconnect/client-code"}},
	{ID: WSDisconnectReasonDropped, Name: "ws-disconnect-reason-dropped", Rule: "websocket.disconnect.reason", Description: "websocket.disconnect has an empty reason whatever the client's close frame said", MustCatch: []string{"websocket.disconnect/client-code"}},
	{ID: WSRepeatForgetsCode, Name: "ws-repeat-forgets-code", Rule: "websocket.disconnect.repeat", Description: "a receive() after websocket.disconnect returns one with code 1005 and no reason, not the first one's", MustCatch: []string{"websocket.disconnect/client-code"}},
	{ID: WSCloseBeforeAccept101, Name: "ws-close-before-accept-101", Rule: "websocket.close.before-accept", Description: "websocket.close before the accept completes the handshake and sends a close frame instead of a 403", MustCatch: []string{"websocket.close/before-accept"}},
	{ID: WSCloseCodeIgnored, Name: "ws-close-code-ignored", Rule: "websocket.close.after-accept", Description: "the close frame for websocket.close carries 1000 whatever code the app gave", MustCatch: []string{"websocket.accept/handshake"}},
	{ID: WSErrorCloses1000, Name: "ws-error-closes-1000", Rule: "websocket.error.after-accept", Description: "an app error on an open socket closes it with 1000, not 1011", MustCatch: []string{"websocket.error/after-accept"}},
	{ID: WSReturnCloses1011, Name: "ws-return-closes-1011", Rule: "websocket.error.return-open", Description: "an app returning on an open socket gets it closed with 1011, not 1000", MustCatch: []string{"websocket.error/return-open"}},
	{ID: WSErrorBeforeAccept403, Name: "ws-error-before-accept-403", Rule: "websocket.error.before-accept", Description: "an app error before the accept refuses the handshake with 403, as a close would, not 500", MustCatch: []string{"websocket.error/before-accept"}},
	{ID: WSSendAfterCloseAccepted, Name: "ws-send-after-close-accepted", Rule: "websocket.send.after-close", Description: "an event sent after websocket.close is dropped without an error", MustCatch: []string{"websocket.send/after-close"}, Ignore: event.RuleWSSendAfterClose},
	{ID: WSConnectNotHeld, Name: "ws-connect-not-held", Rule: "websocket.connect.hold", Description: "the 101 goes out as soon as the handshake request is read, before the app answers websocket.connect", MustCatch: []string{"websocket.connect/held-until-refused"}},
	{ID: WSPingNotAnswered, Name: "ws-ping-not-answered", Rule: "websocket.receive.control-frames", Description: "a ping from the client gets no pong", MustCatch: []string{"websocket.receive/fragmented"}},
	{ID: WSInvalidUTF8Delivered, Name: "ws-invalid-utf8-delivered", Rule: "websocket.receive.invalid-utf8", Description: "a text message that is not valid UTF-8 is delivered to the app, not closed with 1007", MustCatch: []string{"websocket.receive/invalid-utf8"}},
	{ID: WSFragmentsSeparate, Name: "ws-fragments-separate", Rule: "websocket.receive.whole-messages", Description: "each fragment of a fragmented message is delivered as a websocket.receive of its own", MustCatch: []string{"websocket.receive/fragmented"}},
	{ID: WSReceiveBeforeAccept, Name: "ws-receive-before-accept", Rule: "websocket.receive.before-accept", Description: "frames are read from the handshake on, so a message the client sent before the 101 reaches a receive() the app calls before it accepts", MustCatch: []string{"websocket.receive/before-accept"}},
	{ID: WSMessageAfterDisconnect, Name: "ws-message-after-disconnect", Rule: "websocket.disconnect.repeat", Description: "the reader goes on past the client's close frame, and a message the client sent after it reaches a receive() after websocket.disconnect instead of the repeated disconnect (the MUST NOT half of websocket.disconnect.pending-messages too, a MAY by its first keyword)", MustCatch: []string{"websocket.disconnect/message-after-close"}},

	// Lifespan (gopherlua/lifespan.go, lifespan_tables.go, serve.go): each
	// caught by a case on a freshly launched server.
	{ID: LifespanSpecVersionWrong, Name: "lifespan-spec-version-wrong", Rule: "lifespan.scope.asgi-version", Description: `the lifespan scope's asgi.spec_version is "2.3"`, MustCatch: []string{"lifespan.startup/scope-and-order"}},
	{ID: LifespanStateNotEmpty, Name: "lifespan-state-not-empty", Rule: "lifespan.scope.state", Description: "the lifespan scope's state table holds a key of the server's", MustCatch: []string{"lifespan.startup/scope-and-order"}},
	{ID: LifespanStartupNotFirst, Name: "lifespan-startup-not-first", Rule: "lifespan.startup.first", Description: `the lifespan call's first receive() returns an event of type "lifespan.begin"`, MustCatch: []string{"lifespan.startup/scope-and-order"}},
	{ID: LifespanFirstWorkerOnly, Name: "lifespan-first-worker-only", Rule: "lifespan.call.per-state", Description: "only the first worker makes a lifespan call; the others serve without one", MustCatch: []string{"lifespan.startup/scope-and-order"}},
	{ID: LifespanServesBeforeReply, Name: "lifespan-serves-before-reply", Rule: "lifespan.startup.wait", Description: "a worker serves as soon as its lifespan call is started, without waiting for the reply", MustCatch: []string{"lifespan.startup/no-reply"}},
	{ID: LifespanFailedIgnored, Name: "lifespan-failed-ignored", Rule: "lifespan.startup.failed", Description: "lifespan.startup.failed is taken as complete: the server serves", MustCatch: []string{"lifespan.startup/failed-stops-the-server"}},
	{ID: LifespanErrorAfterFailedServes, Name: "lifespan-error-after-failed-serves", Rule: "lifespan.error.after-failed", Description: "a lifespan call that raises after lifespan.startup.failed is taken as one without lifespan: the server serves", MustCatch: []string{"lifespan.startup/error-after-failed"}},
	{ID: LifespanUnsupportedFails, Name: "lifespan-unsupported-fails", Rule: "lifespan.unsupported", Description: "a lifespan call that raises or returns before replying fails the startup, as --lifespan on does", MustCatch: []string{"lifespan.unsupported/raise", "lifespan.unsupported/return"}},
	{ID: LifespanErrorAfterStartupFails, Name: "lifespan-error-after-startup-fails", Rule: "lifespan.error.after-startup", Description: "a lifespan call that raises right after lifespan.startup.complete fails the startup", MustCatch: []string{"lifespan.error/after-startup"}},
	{ID: LifespanShutdownNotAwaited, Name: "lifespan-shutdown-not-awaited", Rule: "lifespan.shutdown.wait", Description: "the shutdown sends lifespan.shutdown and closes the Lua states without waiting for the reply", MustCatch: []string{"lifespan.startup/scope-and-order"}},
	{ID: LifespanShutdownWithCallsRunning, Name: "lifespan-shutdown-with-calls-running", Rule: "lifespan.shutdown.when", Description: "the lifespan shutdown starts with the server's, without waiting for the calls in flight or cancelling them", MustCatch: []string{"lifespan.shutdown/after-calls-in-flight"}},
	{ID: LifespanStateShared, Name: "lifespan-state-shared", Rule: "lifespan.state.copy", Description: "every connection scope gets the lifespan state table itself, not a copy", MustCatch: []string{"lifespan.state/shallow-copy-per-call", "lifespan.state/websocket-copy"}},
	{ID: LifespanStateDeepCopy, Name: "lifespan-state-deep-copy", Rule: "lifespan.state.shallow", Description: "the state copy copies nested tables too", MustCatch: []string{"lifespan.state/shallow-copy-per-call", "lifespan.state/websocket-copy"}},
	{ID: LifespanStateServerKey, Name: "lifespan-state-server-key", Rule: "lifespan.state.server-hands-off", Description: "the server adds a key of its own to the lifespan state table", MustCatch: []string{"lifespan.state/shallow-copy-per-call"}},

	// Timers (bridge/timers.go, luatype/timers.go).
	{ID: TimeoutEarly, Name: "timeout-early", Rule: "timers.receive.not-early", Description: "receive({timeout}) gives lasgi.timeout at once, whatever the timeout", MustCatch: []string{"timers.receive/timeout-after-body"}},
	{ID: TimeoutNever, Name: "timeout-never", Rule: "timers.receive.timeout", Description: "receive({timeout}) waits as if it had no timeout", MustCatch: []string{"timers.receive/timeout-after-body", "timers.websocket/timeout"}},
	{ID: TimeoutBeforeEvent, Name: "timeout-before-event", Rule: "timers.receive.event-first", Description: "receive({timeout = 0}) gives lasgi.timeout even with an event there", MustCatch: []string{"timers.receive/zero-after-complete"}},
	{ID: TimeoutTakesEvent, Name: "timeout-takes-event", Rule: "timers.receive.no-loss", Description: "the event pushed after a lasgi.timeout is lost", MustCatch: []string{"timers.receive/body-after-timeout"}},
	{ID: TimersWithoutTimesOut, Name: "timers-without-times-out", Rule: "timers.receive.without", Description: "receive({}) without a timeout gives lasgi.timeout at once", MustCatch: []string{"timers.receive/options-without-timeout"}},
	{ID: TimersOptionsUnchecked, Name: "timers-options-unchecked", Rule: "timers.receive.invalid-raises", Description: "receive() with invalid options does not raise but waits as without them", Ignore: event.RuleTimersOptions, MustCatch: []string{"timers.receive/invalid-options"}},

	// Groups (bridge/groups.go, luatype/groups.go, gopherlua/fault.go).
	{ID: GroupsNoLimits, Name: "groups-no-limits", Rule: "groups.offer.limits", Description: `scope.extensions["lasgi.groups"] is an empty table, without its limits`, MustCatch: []string{"groups.offer/limits-http", "groups.offer/limits-websocket"}},
	{ID: GroupsNameUnchecked, Name: "groups-name-unchecked", Rule: "groups.invalid-raises", Description: "a group name of any string is taken: empty, too long, with a space", MustCatch: []string{"groups.invalid/names", "groups.invalid/websocket"}},
	{ID: GroupsDataUnchecked, Name: "groups-data-unchecked", Rule: "groups.invalid-raises", Description: "data with what groups.data refuses (a function, a table key, a cycle) is sent as an empty table, without an error", MustCatch: []string{"groups.invalid/data", "groups.invalid/websocket"}},
	{ID: GroupsSizeUnchecked, Name: "groups-size-unchecked", Rule: "groups.invalid-raises", Description: "data over max_message_bytes is sent, without an error", MustCatch: []string{"groups.invalid/size", "groups.invalid/websocket"}},
	{ID: GroupsMaxGroupsUnchecked, Name: "groups-max-groups-unchecked", Rule: "groups.invalid-raises", Description: "a call may join more than max_groups groups", MustCatch: []string{"groups.invalid/max-groups"}},
	{ID: GroupsJoinTwice, Name: "groups-join-twice", Rule: "groups.join", Description: "joining a group twice makes the call a member twice: messages come twice, and a leave ends one membership", MustCatch: []string{"groups.join/twice-is-once"}},
	{ID: GroupsLeaveIgnored, Name: "groups-leave-ignored", Rule: "groups.leave", Description: "lasgi.group.leave does nothing: the call stays a member", MustCatch: []string{"groups.leave/no-message-after"}},
	{ID: GroupsLeaveUnjoinedRaises, Name: "groups-leave-unjoined-raises", Rule: "groups.leave", Description: "leaving a group the call is not a member of raises an error", MustCatch: []string{"groups.leave/not-a-member"}},
	{ID: GroupsNoMembersRaises, Name: "groups-no-members-raises", Rule: "groups.send.no-members", Description: "a send to a group without members raises an error", MustCatch: []string{"groups.send/no-members"}},
	{ID: GroupsSenderSkipped, Name: "groups-sender-skipped", Rule: "groups.deliver", Description: "a message reaches every member but the sender", MustCatch: []string{"groups.deliver/sender-is-member"}},
	{ID: GroupsWakeLost, Name: "groups-wake-lost", Rule: "groups.deliver", Description: "a message to a member waiting in receive() is queued without waking it", MustCatch: []string{"groups.deliver/two-websocket-members"}},
	{ID: GroupsDeliveredTwice, Name: "groups-delivered-twice", Rule: "groups.once", Description: "every message is queued twice for each member", MustCatch: []string{"groups.once/one-message"}},
	{ID: GroupsOrderReversed, Name: "groups-order-reversed", Rule: "groups.order", Description: "a message is queued ahead of the group messages already waiting, so they come newest first", MustCatch: []string{"groups.order/in-order"}},
	{ID: GroupsStringCutAtNUL, Name: "groups-string-cut-at-nul", Rule: "groups.message", Description: "a string in received data ends at its first NUL byte, as a C string would", MustCatch: []string{"groups.message/round-trip"}},
	{ID: GroupsFloatTruncated, Name: "groups-float-truncated", Rule: "groups.message", Description: "a number in received data is truncated to an integer (1.5 arrives as 1)", MustCatch: []string{"groups.message/round-trip"}},
	{ID: GroupsDataShared, Name: "groups-data-shared", Rule: "groups.copy", Description: "members in one Lua state get one data table, the first member's, for the same message", MustCatch: []string{"groups.copy/own-tables"}},
	{ID: GroupsQueueUnbounded, Name: "groups-queue-unbounded", Rule: "groups.queue", Description: "a call's group queue never drops: past queue, messages keep coming", MustCatch: []string{"groups.queue/flood"}},
	{ID: GroupsDropsOldest, Name: "groups-drops-oldest", Rule: "groups.queue", Description: "a full group queue drops its oldest message to take the new one", MustCatch: []string{"groups.queue/flood"}},
	{ID: GroupsDroppedMissing, Name: "groups-dropped-missing", Rule: "groups.dropped", Description: "messages are dropped without a word: no message carries dropped", MustCatch: []string{"groups.queue/flood"}},
	{ID: GroupsDroppedNotReset, Name: "groups-dropped-not-reset", Rule: "groups.dropped", Description: "the dropped count is not reset once reported: every later message carries it again", MustCatch: []string{"groups.queue/flood"}},
	{ID: GroupsDroppedZero, Name: "groups-dropped-zero", Rule: "groups.dropped", Description: "a message with none dropped before it carries dropped = 0", MustCatch: []string{"groups.queue/flood"}},
	{ID: GroupsBusyDrops, Name: "groups-busy-drops", Rule: "groups.busy", Description: "a message that reaches a call not waiting in receive() is dropped, uncounted", MustCatch: []string{"groups.busy/while-running"}},
}
