package event

import "fmt"

// Violation is a broken rule: the rule's ID from the spec catalog and what
// exactly was wrong. Its Error text is what a server raises into the app:
// "lasgi: <rule-id>: <detail>".
type Violation struct {
	Rule   string
	Detail string
}

func (v *Violation) Error() string { return "lasgi: " + v.Rule + ": " + v.Detail }

// Violationf makes a Violation of rule with a formatted detail.
func Violationf(rule, format string, args ...any) *Violation {
	return &Violation{Rule: rule, Detail: fmt.Sprintf(format, args...)}
}

// Rule IDs that Go code checks. A test keeps each of them in the catalog.
const (
	RuleAppCallable         = "core.app.callable"
	RuleAppCompleteResponse = "core.app.complete-response"
	RuleEventTable          = "core.send.event-table"
	RuleEventType           = "core.send.type"
	RuleInteger             = "core.value.integer"
	RuleBoolean             = "core.value.boolean"
	RuleBytes               = "core.value.bytes"

	RuleStartFirst       = "http.start.first"
	RuleStartOnce        = "http.start.once"
	RuleStatusType       = "http.start.status-type"
	RuleStatusRange      = "http.start.status-range"
	RuleHeadersType      = "http.start.headers-type"
	RuleTrailersType     = "http.start.trailers-type"
	RuleHeaderLowercase  = "http.headers.name-lowercase"
	RuleHeaderBytes      = "http.headers.valid-bytes"
	RuleBodyType         = "http.body.body-type"
	RuleMoreBodyType     = "http.body.more-body-type"
	RuleNoBodyStatus     = "http.body.no-body-status"
	RuleContentLength    = "http.body.content-length"
	RuleTrailersFlag     = "http.trailers.requires-flag"
	RuleTrailersAfter    = "http.trailers.after-body"
	RuleTrailersHeaders  = "http.trailers.headers-type"
	RuleMoreTrailersType = "http.trailers.more-trailers-type"
	RuleAfterComplete    = "http.send.after-complete"
	RuleTrailersOffered  = "http.trailers.offered"
	RuleOfferedOnly      = "core.extensions.offered-only"
	RuleAfterDisconnect  = "http.send.after-disconnect"
	RuleDisconnectReturn = "http.disconnect.app-return"

	RuleLifespanStartupOrder    = "lifespan.startup.order"
	RuleLifespanStartupMessage  = "lifespan.startup.message-type"
	RuleLifespanShutdownReply   = "lifespan.shutdown.reply"
	RuleLifespanShutdownMessage = "lifespan.shutdown.message-type"
)

// CheckedRules lists every rule ID above, for the catalog test.
var CheckedRules = []string{
	RuleAppCallable, RuleAppCompleteResponse, RuleEventTable, RuleEventType,
	RuleInteger, RuleBoolean, RuleBytes,
	RuleStartFirst, RuleStartOnce, RuleStatusType, RuleStatusRange, RuleHeadersType,
	RuleTrailersType, RuleHeaderLowercase, RuleHeaderBytes, RuleBodyType, RuleMoreBodyType,
	RuleNoBodyStatus, RuleContentLength, RuleTrailersFlag, RuleTrailersAfter,
	RuleTrailersHeaders, RuleMoreTrailersType, RuleAfterComplete, RuleAfterDisconnect,
	RuleTrailersOffered, RuleOfferedOnly, RuleDisconnectReturn,
	RuleLifespanStartupOrder, RuleLifespanStartupMessage, RuleLifespanShutdownReply, RuleLifespanShutdownMessage,
	RuleTimersOfferedOnly, RuleTimersOptions,
	RuleGroupsName, RuleGroupsData, RuleGroupsDataSize, RuleGroupsMaxGroups, RuleGroupsLifespanSend, RuleGroupsUnavailable,
}
