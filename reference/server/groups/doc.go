// Package groups carries the messages of the lasgi.groups extension
// (spec/groups.md) between calls. A Hub delivers a message sent to a group
// to every Member of it: Local does so across every worker of one process,
// the Redis hub (redis.go) across processes. A message's data travels as
// bytes in one encoding (data.go), made once when the app sends it and
// decoded into tables of its own by each member's engine, so no Lua value
// is ever shared and a message's size is its encoded length.
package groups
