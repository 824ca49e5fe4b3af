//go:build lua54 || luajit

package engines

import _ "github.com/lasgi/lasgi/reference/server/clua" // lua54 or luajit, by build tag
