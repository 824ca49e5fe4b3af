package gopherlua

import "github.com/lasgi/lasgi/reference/server/engine"

// The engine registers itself as engine.Default, "gopher": every binary
// that links package reference/server/engines has it.
func init() {
	engine.Register(engine.Default, "gopher-lua, Lua 5.1 in pure Go (the default)",
		func(name string, src []byte, opts engine.Options) (engine.Engine, error) {
			e, err := Load(name, src, opts)
			if err != nil {
				return nil, err // not a typed nil in the interface
			}
			return e, nil
		})
}

var _ engine.Engine = (*Engine)(nil)
