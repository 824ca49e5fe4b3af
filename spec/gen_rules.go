//go:build ignore

// gen_rules writes rules.md from the rule catalog. Run it with
// `go generate ./spec/...` from the repository root.
package main

import (
	"log"
	"os"

	"github.com/lasgi/lasgi/spec"
)

func main() {
	if err := os.WriteFile("rules.md", []byte(spec.RenderRulesMarkdown()), 0o644); err != nil {
		log.Fatal(err)
	}
}
