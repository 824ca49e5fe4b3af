package conformance

import (
	"fmt"
	"strings"

	"github.com/lasgi/lasgi/spec"
)

// Validating a loaded case: every field the loader cannot check by type
// alone, each error naming the field.

// check validates one case against the format and the rule catalog.
func (c *Case) check() error {
	bad := func(field, format string, args ...any) error {
		id := c.ID
		if !idPattern.MatchString(id) {
			id = ""
		}
		return &FixtureError{Case: id, Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	if !idPattern.MatchString(c.ID) {
		return bad("id", "%q is not of the form area.topic/name (lowercase letters, digits, '.', '-')", c.ID)
	}
	if len(c.Rules) == 0 {
		return bad("rules", "a case names at least one rule it checks")
	}
	for i, r := range c.Rules {
		if _, ok := spec.Lookup(r); !ok {
			return bad(fmt.Sprintf("rules[%d]", i), "%q is not a rule in the catalog", r)
		}
	}
	if !contains(reportKinds, c.Report) {
		return bad("report", "%q is not one of head, kept, none", c.Report)
	}
	if err := CheckScript(c.Probe); err != nil {
		return bad("probe", "%v", err)
	}
	if len(c.Send) == 0 {
		return bad("send", "a case sends something")
	}
	placeholders := 0
	for i := range c.Send {
		s := &c.Send[i]
		where := fmt.Sprintf("send[%d]", i)
		kind, err := kindOf(s)
		if err != nil {
			return bad(where, "%v", err)
		}
		placeholders += strings.Count(string(s.Data), ProbePlaceholder)
		if s.Repeat < 0 || s.Repeat > 1<<24 || (s.Repeat > 0 && s.Data == "") {
			return bad(where+".repeat", "repeats data 1..16777216 times")
		}
		if s.Conn < 0 || s.Conn > 3 {
			return bad(where+".conn", "%d is outside 0..3", s.Conn)
		}
		if kind.check != nil {
			if err := kind.check(s, where, bad); err != nil {
				return err
			}
		}
	}
	if placeholders > 1 {
		return bad("send", "%s appears %d times; a request carries the probe header once", ProbePlaceholder, placeholders)
	}
	if err := c.Expect.check(bad, "expect", c.Report, true); err != nil {
		return err
	}
	if err := c.checkLaunch(bad); err != nil {
		return err
	}
	return c.checkFieldRules(bad)
}

// check validates one expectation (the case's, or one of its one_of
// entries, at where).
func (e *Expect) check(bad badField, where, report string, top bool) error {
	for i, r := range e.Responses {
		if r.Framing != "" && !contains(framings, r.Framing) {
			return bad(fmt.Sprintf("%s.responses[%d].framing", where, i), "%q is not one of %s", r.Framing, strings.Join(framings, ", "))
		}
		if r.Body != nil && r.BodySum != nil {
			return bad(fmt.Sprintf("%s.responses[%d]", where, i), "body and body_sum exclude each other")
		}
		if r.BodyMax != nil && *r.BodyMax < 0 {
			return bad(fmt.Sprintf("%s.responses[%d].body_max", where, i), "negative")
		}
	}
	if !contains(connections, e.Connection) {
		return bad(where+".connection", "%q: the only value is \"closed\"", e.Connection)
	}
	if e.NoMoreResponses && e.Connection == "" {
		return bad(where+".no_more_responses", "needs connection \"closed\" beside it: only the close shows that nothing more came")
	}
	if e.needsReport() && report == "none" {
		return bad("report", "\"none\" but %s checks what the probe observed", where)
	}
	if e.Scope != nil {
		scope, err := bytesOf(e.Scope)
		if err != nil {
			return bad(where+".scope", "%v", err)
		}
		e.Scope = scope.(map[string]any)
	}
	for i, ev := range e.Events {
		if ev.Type == "" {
			return bad(fmt.Sprintf("%s.events[%d].type", where, i), "missing")
		}
		if err := checkGroupEvent(&e.Events[i]); err != nil {
			return bad(fmt.Sprintf("%s.events[%d].data", where, i), "%v", err)
		}
	}
	switch {
	case top && e.Outcome != "":
		return bad(where+".outcome", "names an entry of one_of, not the case's expect")
	case !top && len(e.OneOf) > 0:
		return bad(where+".one_of", "one_of does not nest")
	case !top && e.Outcome == "":
		return bad(where+".outcome", "missing: say which outcome the spec permits this is")
	case len(e.OneOf) == 1:
		return bad(where+".one_of", "lists one outcome: put it in expect itself")
	}
	for i := range e.OneOf {
		if err := e.OneOf[i].check(bad, fmt.Sprintf("%s.one_of[%d]", where, i), report, false); err != nil {
			return err
		}
	}
	return nil
}

// checkFieldRules validates field_rules: known fields that the case checks,
// and rules of the case's own.
func (c *Case) checkFieldRules(bad badField) error {
	for field, rules := range c.FieldRules {
		if !contains(expectFields, field) {
			return bad("field_rules."+field, "not an expect field (%s)", strings.Join(expectFields, ", "))
		}
		if !c.Expect.has(field) {
			return bad("field_rules."+field, "expect does not check this field")
		}
		if len(rules) == 0 {
			return bad("field_rules."+field, "names no rule")
		}
		for _, r := range rules {
			if !contains(c.Rules, r) {
				return bad("field_rules."+field, "%q is not one of the case's rules", r)
			}
		}
	}
	return nil
}
