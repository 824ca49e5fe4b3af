package engine

// ExitError is what os.exit raises in an app: the server's process is shared
// by every request and worker, so no app may end it.
const ExitError = "lasgi: os.exit is not available to an app: it would end the server process and every request in it; an app ends its call by returning or raising an error"

// Sandboxed are the functions Options.Sandbox removes, by library ("_G" for
// globals): those that run other programs or reach files outside the app's
// own modules. lasgi-check's harness removes the same for --lua (a test
// keeps the two equal); every engine removes these. Callers must not modify it.
var Sandboxed = map[string][]string{
	"os": {"execute", "remove", "rename", "tmpname", "getenv", "setlocale"},
	"io": {"popen", "open", "lines", "input", "output", "tmpfile"},
	"_G": {"dofile", "loadfile"},
}
