package spec_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/lasgi/lasgi/spec"
	"github.com/lasgi/lasgi/spec/event"
)

// normativeFiles are the files that state rules, in specification order.
var normativeFiles = []string{"core.md", "http.md", "websocket.md", "lifespan.md", "timers.md", "groups.md"}

// generatedFile is produced from the catalog and not parsed as spec text.
const generatedFile = "rules.md"

var (
	idPattern      = regexp.MustCompile(`^[a-z0-9]+(\.[a-z0-9-]+)+$`)
	sectionPattern = regexp.MustCompile(`^[a-z]+\.md#[a-z0-9_-]+$`)
	// markerLine is a rule line: optional list bullet, anchor, bold code ID, text.
	markerLine = regexp.MustCompile("^(?:[-*+]|[0-9]+\\.)?[ \t]*<a id=\"([^\"]*)\"></a>\\*\\*`([^`]*)`\\*\\*(.*)$")
	anchorTag  = regexp.MustCompile(`<a\s+id=`)
	// levelWord finds the RFC 2119 keywords LASGI uses; longest alternatives first.
	levelWord = regexp.MustCompile(`\b(MUST NOT|SHOULD NOT|MUST|SHOULD|MAY)\b`)
	// anyKeyword also finds the RFC 2119 keywords LASGI does not use.
	anyKeyword = regexp.MustCompile(`\b(MUST|SHOULD|MAY|SHALL|REQUIRED|RECOMMENDED|OPTIONAL)\b`)
	unusedWord = regexp.MustCompile(`\b(SHALL|REQUIRED|RECOMMENDED|OPTIONAL)\b`)
	heading    = regexp.MustCompile(`^ {0,3}(#{1,6})[ \t]+(.*?)[ \t]*#*[ \t]*$`)
	fence      = regexp.MustCompile("^ {0,3}(```|~~~)")
	link       = regexp.MustCompile(`\]\(([^)\s]+)\)`)
)

// docRule is a rule as extracted from the Markdown.
type docRule struct {
	ID      string
	Section string
	Text    string
}

// docLink is a relative link found in the Markdown.
type docLink struct {
	File   string
	Line   int
	Target string
}

// parsedDocs is everything the tests need from the Markdown files.
type parsedDocs struct {
	Rules    []docRule
	RuleFile map[string]string          // rule ID -> file
	Anchors  map[string]map[string]bool // file -> anchors (headings and rule IDs)
	Links    []docLink
	Problems []string // formatting problems found while parsing
}

// stripCodeSpans removes inline code spans (any backtick run length) from a line.
func stripCodeSpans(line string) string {
	var b strings.Builder
	for i := 0; i < len(line); {
		if line[i] != '`' {
			b.WriteByte(line[i])
			i++
			continue
		}
		n := 0
		for i+n < len(line) && line[i+n] == '`' {
			n++
		}
		closeAt := -1
		for j := i + n; j < len(line); {
			if line[j] != '`' {
				j++
				continue
			}
			m := 0
			for j+m < len(line) && line[j+m] == '`' {
				m++
			}
			if m == n {
				closeAt = j
				break
			}
			j += m
		}
		if closeAt < 0 { // unmatched backticks are literal text
			b.WriteString(line[i : i+n])
			i += n
			continue
		}
		i = closeAt + n
	}
	return b.String()
}

// slug computes GitHub's anchor for a heading text.
func slug(text string) string {
	text = stripMarkup(strings.ToLower(strings.TrimSpace(text)))
	var b strings.Builder
	for _, r := range text {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9'):
			b.WriteRune(r)
		case r > 127 && (isLetter(r)):
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isLetter(r rune) bool { return strings.ToLower(string(r)) != strings.ToUpper(string(r)) }

// stripMarkup removes backticks and link syntax so a heading reads as its text.
func stripMarkup(s string) string {
	s = regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`).ReplaceAllString(s, "$1")
	return strings.ReplaceAll(s, "`", "")
}

func collapse(s string) string { return strings.Join(strings.Fields(s), " ") }

// markdownFiles lists the spec's Markdown files other than the generated one.
func markdownFiles() []string {
	names, err := filepath.Glob("*.md")
	Expect(err).NotTo(HaveOccurred())
	names = slices.DeleteFunc(names, func(n string) bool { return n == generatedFile })
	sort.Strings(names)
	return names
}

func parseDocs() parsedDocs {
	docs := parsedDocs{RuleFile: map[string]string{}, Anchors: map[string]map[string]bool{}}
	files := markdownFiles()
	// Normative files first, in specification order, then the rest.
	order := append([]string{}, normativeFiles...)
	for _, f := range files {
		if !slices.Contains(order, f) {
			order = append(order, f)
		}
	}
	for _, f := range order {
		data, err := os.ReadFile(f)
		Expect(err).NotTo(HaveOccurred(), "reading %s", f)
		parseFile(&docs, f, string(data))
	}
	return docs
}

func parseFile(docs *parsedDocs, file, text string) {
	anchors := map[string]bool{}
	docs.Anchors[file] = anchors
	slugCount := map[string]int{}
	current := ""
	inFence := ""
	for n, line := range strings.Split(text, "\n") {
		lineNo := n + 1
		where := fmt.Sprintf("%s:%d", file, lineNo)
		if m := fence.FindStringSubmatch(line); m != nil {
			switch {
			case inFence == "":
				inFence = m[1]
			case inFence == m[1]:
				inFence = ""
			}
			continue
		}
		if inFence != "" {
			continue
		}
		prose := stripCodeSpans(line)
		if m := heading.FindStringSubmatch(line); m != nil {
			s := slug(m[2])
			if c := slugCount[s]; c > 0 {
				slugCount[s]++
				s = fmt.Sprintf("%s-%d", s, c)
			} else {
				slugCount[s] = 1
			}
			anchors[s] = true
			current = s
			if kw := anyKeyword.FindString(prose); kw != "" {
				docs.Problems = append(docs.Problems, fmt.Sprintf("%s: keyword %q in a heading", where, kw))
			}
			continue
		}
		for _, l := range link.FindAllStringSubmatch(prose, -1) {
			docs.Links = append(docs.Links, docLink{File: file, Line: lineNo, Target: l[1]})
		}
		m := markerLine.FindStringSubmatch(line)
		if m == nil {
			if anchorTag.MatchString(prose) {
				docs.Problems = append(docs.Problems, fmt.Sprintf("%s: malformed rule marker: %s", where, line))
			}
			if kw := anyKeyword.FindString(prose); kw != "" {
				docs.Problems = append(docs.Problems, fmt.Sprintf("%s: keyword %q outside a rule sentence: %s", where, kw, line))
			}
			continue
		}
		id, boldID, ruleText := m[1], m[2], collapse(m[3])
		if id != boldID {
			docs.Problems = append(docs.Problems, fmt.Sprintf("%s: anchor id %q differs from bold id %q", where, id, boldID))
		}
		if current == "" {
			docs.Problems = append(docs.Problems, fmt.Sprintf("%s: rule %s before any heading", where, id))
		}
		if kw := unusedWord.FindString(stripCodeSpans(ruleText)); kw != "" {
			docs.Problems = append(docs.Problems, fmt.Sprintf("%s: rule %s uses keyword %q, which LASGI does not use", where, id, kw))
		}
		if prev, dup := docs.RuleFile[id]; dup {
			docs.Problems = append(docs.Problems, fmt.Sprintf("%s: rule %s already stated in %s", where, id, prev))
		}
		docs.RuleFile[id] = file
		anchors[id] = true
		docs.Rules = append(docs.Rules, docRule{ID: id, Section: file + "#" + current, Text: ruleText})
	}
	if inFence != "" {
		docs.Problems = append(docs.Problems, fmt.Sprintf("%s: unterminated code fence", file))
	}
}

func catalogAsDocRules() []docRule {
	var out []docRule
	for _, r := range spec.Rules() {
		out = append(out, docRule{ID: r.ID, Section: r.Section, Text: r.Text})
	}
	return out
}

func ids[T any](xs []T, id func(T) string) []string {
	out := make([]string, 0, len(xs))
	for _, x := range xs {
		out = append(out, id(x))
	}
	sort.Strings(out)
	return out
}

var _ = Describe("the rule catalog", func() {
	It("has unique, well-formed IDs whose first part names the section file", func() {
		seen := map[string]bool{}
		var problems []string
		for _, r := range spec.Rules() {
			if !idPattern.MatchString(r.ID) {
				problems = append(problems, fmt.Sprintf("%s: ID does not match %s", r.ID, idPattern))
			}
			if seen[r.ID] {
				problems = append(problems, fmt.Sprintf("%s: duplicate ID", r.ID))
			}
			seen[r.ID] = true
			area, _, _ := strings.Cut(r.ID, ".")
			file, _, _ := strings.Cut(r.Section, "#")
			if file != area+".md" {
				problems = append(problems, fmt.Sprintf("%s: section %s is not in %s.md", r.ID, r.Section, area))
			}
		}
		Expect(problems).To(BeEmpty())
	})

	It("has a valid level, side and section on every rule", func() {
		var problems []string
		for _, r := range spec.Rules() {
			if !slices.Contains([]spec.Level{spec.Must, spec.MustNot, spec.Should, spec.ShouldNot, spec.May}, r.Level) {
				problems = append(problems, fmt.Sprintf("%s: unknown level %q", r.ID, r.Level))
			}
			if !slices.Contains([]spec.Side{spec.Server, spec.App, spec.Both}, r.Side) {
				problems = append(problems, fmt.Sprintf("%s: unknown side %q", r.ID, r.Side))
			}
			if !sectionPattern.MatchString(r.Section) {
				problems = append(problems, fmt.Sprintf("%s: section %q does not look like file.md#anchor", r.ID, r.Section))
			}
			if strings.TrimSpace(r.Untestable) != r.Untestable {
				problems = append(problems, fmt.Sprintf("%s: Untestable has surrounding whitespace", r.ID))
			}
		}
		Expect(problems).To(BeEmpty())
	})

	It("names each rule's level as the first keyword of its sentence, which ends with a full stop", func() {
		var problems []string
		for _, r := range spec.Rules() {
			first := levelWord.FindString(stripCodeSpans(r.Text))
			if first != string(r.Level) {
				problems = append(problems, fmt.Sprintf("%s: level %s but the first keyword in the text is %q", r.ID, r.Level, first))
			}
			if !strings.HasSuffix(r.Text, ".") {
				problems = append(problems, fmt.Sprintf("%s: text does not end with a full stop", r.ID))
			}
			if collapse(r.Text) != r.Text {
				problems = append(problems, fmt.Sprintf("%s: text has uncollapsed whitespace", r.ID))
			}
		}
		Expect(problems).To(BeEmpty())
	})

	It("contains every rule ID that Go checks name", func() {
		var missing []string
		for _, id := range event.CheckedRules {
			if _, ok := spec.Lookup(id); !ok {
				missing = append(missing, id)
			}
		}
		Expect(missing).To(BeEmpty())
	})

	It("finds every rule with Lookup and nothing else", func() {
		for _, r := range spec.Rules() {
			got, ok := spec.Lookup(r.ID)
			Expect(ok).To(BeTrue(), r.ID)
			Expect(cmp.Diff(r, got)).To(BeEmpty(), r.ID)
		}
		_, ok := spec.Lookup("http.no-such-rule")
		Expect(ok).To(BeFalse())
	})

	It("returns a copy from Rules", func() {
		first := spec.Rules()
		Expect(first).NotTo(BeEmpty())
		original := first[0]
		first[0].Text = "changed"
		Expect(cmp.Diff(original, spec.Rules()[0])).To(BeEmpty())
	})
})

var _ = Describe("the Markdown specification", func() {
	var docs parsedDocs
	BeforeEach(func() {
		docs = parseDocs()
	})

	It("parses without formatting problems", func() {
		Expect(docs.Problems).To(BeEmpty())
	})

	It("has no RFC 2119 keyword in capitals outside a marked rule sentence", func() {
		var stray []string
		for _, p := range docs.Problems {
			if strings.Contains(p, "outside a rule sentence") || strings.Contains(p, "in a heading") {
				stray = append(stray, p)
			}
		}
		Expect(stray).To(BeEmpty())
	})

	It("states rules only in the normative files", func() {
		var misplaced []string
		for id, f := range docs.RuleFile {
			if !slices.Contains(normativeFiles, f) {
				misplaced = append(misplaced, fmt.Sprintf("%s in %s", id, f))
			}
		}
		Expect(misplaced).To(BeEmpty())
	})

	It("states the same set of rule IDs as the catalog", func() {
		docIDs := ids(docs.Rules, func(r docRule) string { return r.ID })
		catIDs := ids(spec.Rules(), func(r spec.Rule) string { return r.ID })
		diff := cmp.Diff(catIDs, docIDs)
		Expect(diff).To(BeEmpty(), "rule IDs differ (-catalog +markdown):\n%s", diff)
	})

	It("states every rule with the catalog's text and section, in catalog order", func() {
		diff := cmp.Diff(catalogAsDocRules(), docs.Rules)
		Expect(diff).To(BeEmpty(), "rules differ (-catalog +markdown):\n%s", diff)
	})

	It("puts each rule in the file its section names", func() {
		var wrong []string
		for _, r := range spec.Rules() {
			file, _, _ := strings.Cut(r.Section, "#")
			if got, ok := docs.RuleFile[r.ID]; ok && got != file {
				wrong = append(wrong, fmt.Sprintf("%s: catalog says %s, found in %s", r.ID, file, got))
			}
		}
		Expect(wrong).To(BeEmpty())
	})

	It("has no broken links between its files, including the generated one", func() {
		var broken []string
		links := docs.Links
		for n, line := range strings.Split(spec.RenderRulesMarkdown(), "\n") {
			for _, l := range link.FindAllStringSubmatch(stripCodeSpans(line), -1) {
				links = append(links, docLink{File: generatedFile, Line: n + 1, Target: l[1]})
			}
		}
		for _, l := range links {
			target := l.Target
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			file, anchor, hasAnchor := strings.Cut(target, "#")
			if file == "" {
				file = l.File
			}
			if file == generatedFile && hasAnchor {
				broken = append(broken, fmt.Sprintf("%s:%d: %s: links into the generated file need no anchor", l.File, l.Line, target))
				continue
			}
			if !strings.HasSuffix(file, ".md") {
				continue
			}
			anchors, ok := docs.Anchors[file]
			if file == generatedFile {
				_, err := os.Stat(file)
				ok = err == nil
				hasAnchor = false
			}
			switch {
			case !ok:
				broken = append(broken, fmt.Sprintf("%s:%d: %s: no such file", l.File, l.Line, target))
			case hasAnchor && !anchors[anchor]:
				broken = append(broken, fmt.Sprintf("%s:%d: %s: no such heading or rule", l.File, l.Line, target))
			}
		}
		Expect(broken).To(BeEmpty())
	})
})

var _ = Describe("rules.md", func() {
	It("is exactly what gen_rules.go produces from the catalog", func() {
		data, err := os.ReadFile(generatedFile)
		Expect(err).NotTo(HaveOccurred())
		diff := cmp.Diff(spec.RenderRulesMarkdown(), string(data))
		Expect(diff).To(BeEmpty(), "rules.md is stale; run `go generate ./spec/...` (-want +got):\n%s", diff)
	})

	It("links every rule to its anchor and section", func() {
		text := spec.RenderRulesMarkdown()
		for _, r := range spec.Rules() {
			file, _, _ := strings.Cut(r.Section, "#")
			Expect(text).To(ContainSubstring(fmt.Sprintf("[`%s`](%s#%s)", r.ID, file, r.ID)))
			Expect(text).To(ContainSubstring(fmt.Sprintf("[%s](%s)", r.Section, r.Section)))
		}
	})
})
