// Command lasgi-check checks LASGI servers against the spec, rule by rule.
//
//	lasgi-check server [--url URL] [--run REGEX] [--format text|json|junit] [--out FILE]
//	lasgi-check list | probe | record FILE...
//
// Exit codes: 0 all passed, 1 some failed, 2 usage or setup error.
package main

import (
	"os"

	"github.com/lasgi/lasgi/conformance/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
