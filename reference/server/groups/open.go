package groups

import (
	"context"
	"fmt"
	"log"
	"strings"

	"github.com/redis/go-redis/v9"
)

// LogRedisTo sends what the Redis client logs (a dial that failed while
// Redis is away) to l, as lasgi-serve's own lines, rather than to the
// standard logger in a format of the client's. The client has one logger
// for the whole process.
func LogRedisTo(l *log.Logger) { redis.SetLogger(redisLog{l}) }

type redisLog struct{ l *log.Logger }

func (r redisLog) Printf(_ context.Context, format string, v ...any) {
	r.l.Printf("lasgi-serve: groups: "+format, v...)
}

// Open makes the hub a spec names, as lasgi-serve's --groups takes it:
// "" or "local" is a Local (this process's calls only), "off" no hub at
// all (nil, nil: the extension is not offered), and redis://HOST:PORT[/DB]
// a Redis hub shared by every process on that server, which must answer
// PING now.
func Open(spec string) (Hub, error) {
	switch {
	case spec == "" || spec == "local":
		return NewLocal(), nil
	case spec == "off":
		return nil, nil
	case strings.HasPrefix(spec, "redis://"):
		h, err := NewRedis(spec)
		if err != nil {
			return nil, err // not a nil *Redis in a non-nil Hub
		}
		return h, nil
	}
	return nil, fmt.Errorf("groups: %q names no hub: use local (this process), redis://HOST:PORT[/DB] (every process on that Redis) or off", spec)
}
