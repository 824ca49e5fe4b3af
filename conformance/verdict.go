package conformance

import (
	"slices"

	"github.com/lasgi/lasgi/spec"
)

// A finding is one thing a case's checks found wrong, with the expect field
// it concerns: the field decides which of the case's rules it breaks
// (Case.FieldRules), and their levels in the catalog decide whether the case
// failed or only earned a warning.
type finding struct {
	field string // an expect field ("responses", "scope", ...), or "" for the case as a whole
	text  string
}

// Fields a finding may concern besides the expect fields: the case as a
// whole (a step that could not be carried out) and the alternatives of
// expect.one_of, none of which matched.
// fieldSendsRule is the part of expect.sends that says which rule each
// error names: a case whose events break several rules keeps it apart,
// since which one a server reports first is a SHOULD (core.send.check-order).
const (
	fieldCase      = ""
	fieldOneOf     = "one_of"
	fieldSendsRule = "sends.rule"
)

// Binding reports whether a rule of this level makes a case fail when it is
// broken: MUST and MUST NOT do; SHOULD, SHOULD NOT and MAY only warn (as
// h2spec runs SHOULD cases under --strict only, and Autobahn reports them as
// NON-STRICT apart from failures).
func Binding(l spec.Level) bool { return l == spec.Must || l == spec.MustNot }

// RulesOf returns the rules of c that a finding about an expect field
// breaks: those FieldRules names for it, else the rules FieldRules names for
// no field (all of them when it names none); for the case as a whole ("")
// every rule.
func (c *Case) RulesOf(field string) []string {
	if field == fieldCase || len(c.FieldRules) == 0 {
		return c.Rules
	}
	if rules, ok := c.FieldRules[field]; ok {
		return rules
	}
	var rest []string
	for _, r := range c.Rules {
		if !c.ruleHasField(r) {
			rest = append(rest, r)
		}
	}
	if rest == nil {
		return c.Rules
	}
	return rest
}

// CheckedFields lists the expect fields the case checks (one_of standing
// for all its outcomes), in expectFields order.
func (c *Case) CheckedFields() []string {
	var fields []string
	for _, f := range expectFields {
		if c.Expect.has(f) {
			fields = append(fields, f)
		}
	}
	return fields
}

func (c *Case) ruleHasField(rule string) bool {
	for _, rules := range c.FieldRules {
		if slices.Contains(rules, rule) {
			return true
		}
	}
	return false
}

// verdict turns findings into a status and the rules they break, in the
// case's order: Failed when one of them binds (Binding), Warning when none
// does, Passed when there are no findings. strict makes a warning a failure.
func verdict(c *Case, findings []finding, strict bool) (Status, []string) {
	if len(findings) == 0 {
		return Passed, nil
	}
	var broken []string
	for _, r := range c.Rules {
		for _, f := range findings {
			if slices.Contains(c.RulesOf(f.field), r) {
				broken = append(broken, r)
				break
			}
		}
	}
	return levelStatus(broken, strict), broken
}

// levelStatus is Failed when one of the broken rules binds or strict is set,
// else Warning. No broken rules at all is a failure too: something went wrong
// that no rule of the case's covers, and it must not pass quietly.
func levelStatus(broken []string, strict bool) Status {
	if strict || len(broken) == 0 {
		return Failed
	}
	for _, id := range broken {
		if r, ok := spec.Lookup(id); !ok || Binding(r.Level) {
			return Failed
		}
	}
	return Warning
}
