package groups

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/lasgi/lasgi/spec/event"
)

// The bounds of the Redis hub. groups.send.unavailable asks for an error
// within a few seconds when Redis is gone, so nothing waits on Redis for
// longer than about two seconds.
const (
	// ChannelPrefix is put before a group's name to make its Redis
	// channel: the names groups.name allows need no escaping.
	ChannelPrefix = "lasgi.group."

	publishTimeout = 2 * time.Second // one PUBLISH, dial included
	joinTimeout    = 2 * time.Second // a first Join's wait for Redis to confirm the SUBSCRIBE
	dialTimeout    = time.Second
	ioTimeout      = time.Second // each read or write of a command
	poolSize       = 32          // PUBLISHes at once; more wait for a connection
	poolTimeout    = time.Second // the longest such a wait
	startTimeout   = 2 * time.Second

	// A subscription quiet for idleCheck is pinged; no answer within
	// probeTimeout and the connection is taken as dead and made again,
	// which go-redis does with every channel subscribed again.
	idleCheck    = 5 * time.Second
	probeTimeout = 2 * time.Second
	maxPause     = time.Second // the longest pause between attempts to reach Redis again
)

// Redis is a Hub shared by every process on one Redis server, through its
// pub/sub. The process's own members are in a Local; a group with members
// here is subscribed to, as channel ChannelPrefix+name, on the one PubSub
// connection of the process, and every message Redis sends on it is
// handed to the Local. Publish is a PUBLISH, so a message reaches the
// members in this process, the sender too, the way it reaches the others:
// through Redis, in the order Redis took it (groups.order).
//
// Membership changes are made by one goroutine (subscriber, redis_sub.go)
// in the order asked, so that a Leave never waits for Redis and an
// UNSUBSCRIBE can never overtake the SUBSCRIBE of a later Join. A Join
// that needs a subscription waits until Redis has answered a PING sent
// after it: Redis runs one connection's commands in order, so by then the
// SUBSCRIBE is in force and every message published afterwards, by any
// process, comes here (groups.deliver).
type Redis struct {
	local  *Local
	client *redis.Client
	ps     *redis.PubSub
	addr   string

	mu sync.Mutex
	// want holds the groups with members here, each with the epoch its
	// subscription was asked in; the subscriber makes Redis match it.
	want map[string]uint64
	// asked is the latest epoch, confirmed the latest Redis answered the
	// PING of, failed the latest whose commands could not be sent (and
	// failErr why): a Join of epoch e waits until confirmed or failed
	// reaches e. changed is closed and replaced when either moves.
	asked, confirmed, failed uint64
	failErr                  error
	changed                  chan struct{}
	// stale is set when the subscription's connection broke: until Redis
	// answers on the next one, which go-redis begins by subscribing again,
	// a Join cannot count on an old confirmation.
	stale bool
	// rejected counts the messages from Redis that were not data.
	rejected atomic.Int64
	// downs makes Publish fail at once after one failed (redis_down.go).
	downs downState

	kick    chan struct{} // wakes the subscriber; one pending kick is enough
	stop    chan struct{} // closed by Close
	closed  atomic.Bool
	wg      sync.WaitGroup
	closeMu sync.Mutex
}

var _ Hub = (*Redis)(nil)

// NewRedis connects to the Redis server at url (redis://HOST:PORT[/DB], as
// go-redis's ParseURL reads it) and returns a hub on it. It fails unless
// the server answers PING within a few seconds.
func NewRedis(url string) (*Redis, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("groups: %q is not a Redis address of the form redis://HOST:PORT[/DB]: %v", url, err)
	}
	// RESP2: the pub/sub replies as Redis has always sent them, and no
	// push notifications for go-redis to take aside.
	opt.Protocol = 2
	opt.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	opt.DisableIdentity = true
	// No retries: a PUBLISH tried again after its reply was lost would be
	// delivered twice (groups.once). A dial that fails is not tried again
	// either, so that an absent Redis is an error at once.
	opt.MaxRetries = -1
	opt.DialerRetries = 1
	opt.DialTimeout = dialTimeout
	opt.ReadTimeout = ioTimeout
	opt.WriteTimeout = ioTimeout
	opt.ContextTimeoutEnabled = true
	opt.PoolSize = poolSize
	opt.PoolTimeout = poolTimeout
	opt.MinIdleConns = 0
	opt.MaxIdleConns = 8

	client := redis.NewClient(opt)
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		client.Close()
		return nil, fmt.Errorf("groups: Redis at %s does not answer PING (%v): is redis-server running there?", opt.Addr, err)
	}
	h := &Redis{
		local:   NewLocal(),
		client:  client,
		ps:      client.Subscribe(ctx), // no channels yet: the reader connects it
		addr:    opt.Addr,
		want:    make(map[string]uint64),
		changed: make(chan struct{}),
		kick:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
		downs:   downState{kick: make(chan struct{}, 1)},
	}
	h.wg.Add(3)
	go h.subscriber()
	go h.reader()
	go h.checker()
	return h, nil
}

// Addr is the address of the Redis server.
func (h *Redis) Addr() string { return h.addr }

// Members reports how many members group has in this process.
func (h *Redis) Members(group string) int { return h.local.Members(group) }

// unavailable is the error a Join or Publish returns when Redis cannot
// be reached: the app sees it raised (groups.send.unavailable).
func (h *Redis) unavailable(err error) error {
	return event.Violationf(event.RuleGroupsUnavailable,
		"Redis at %s is unreachable, so messages cannot be passed to other processes (%v)", h.addr, err)
}

var errClosed = errors.New("the hub is closed")

// Join makes m a member of group. The first member here has the
// subscriber subscribe to the group's channel, and this and every Join
// meanwhile wait (joinTimeout at most) for Redis to confirm it; a Join
// that fails leaves m no member. One that needs Redis while it is taken as
// down (redis_down.go) fails at once, and one that gets no answer takes it
// as down.
func (h *Redis) Join(group string, m Member) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed.Load() {
		return h.unavailable(errClosed)
	}
	h.local.Join(group, m)
	e, ok := h.want[group]
	if !ok || h.stale {
		h.asked++
		e = h.asked
		if !ok {
			h.want[group] = e
		}
		h.wake()
	}
	if h.confirmed < e {
		if err := h.isDown(); err != nil {
			return h.refuse(group, m, err) // at once: Redis did not answer the last time (redis_down.go)
		}
	}
	var timeout <-chan time.Time
	for h.confirmed < e {
		if h.failed >= e {
			return h.refuse(group, m, h.failErr)
		}
		if timeout == nil {
			t := time.NewTimer(joinTimeout)
			defer t.Stop()
			timeout = t.C
		}
		changed := h.changed
		h.mu.Unlock()
		var err error
		select {
		case <-changed:
		case <-timeout:
			err = fmt.Errorf("no answer to a SUBSCRIBE within %v", joinTimeout)
			h.markDown(err)
		case <-h.stop:
			err = errClosed
		}
		h.mu.Lock()
		if err != nil && h.confirmed < e {
			return h.refuse(group, m, err)
		}
	}
	return nil
}

// refuse undoes a Join that failed for err. h.mu is held.
func (h *Redis) refuse(group string, m Member, err error) error {
	h.local.Leave(group, m)
	h.forget(group)
	return h.unavailable(err)
}

// Leave ends m's membership of group. The last member here has the
// subscriber unsubscribe, later: Leave never waits for Redis.
func (h *Redis) Leave(group string, m Member) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.local.Leave(group, m)
	h.forget(group)
}

// forget drops group from what is subscribed to once no member here is
// left. h.mu is held.
func (h *Redis) forget(group string) {
	if _, ok := h.want[group]; ok && h.local.Members(group) == 0 {
		delete(h.want, group)
		h.wake()
	}
}

// wake has the subscriber look at want again.
func (h *Redis) wake() {
	select {
	case h.kick <- struct{}{}:
	default:
	}
}

// settle records the outcome of epoch e: confirmed by Redis (e is 0 for
// a PONG no join asked for, which still says the connection works), or
// failed with err. It wakes the joiners.
func (h *Redis) settle(e uint64, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err != nil {
		if e <= h.failed {
			return
		}
		h.failed, h.failErr = e, err
	} else {
		if e <= h.confirmed && !h.stale {
			return
		}
		h.confirmed, h.stale = max(h.confirmed, e), false
	}
	close(h.changed)
	h.changed = make(chan struct{})
}

// broken records that the subscription's connection broke, and has the
// subscriber ping again for the joins waiting.
func (h *Redis) broken() {
	h.mu.Lock()
	h.stale = true
	h.mu.Unlock()
	h.wake()
}

// Rejected reports how many messages from Redis were dropped for not
// being data as data.go encodes it (sent to a lasgi.group channel by
// something other than a Redis hub).
func (h *Redis) Rejected() int64 { return h.rejected.Load() }

// Publish sends data to group's members in every process, through one
// PUBLISH that waits for Redis's reply, so one sender's messages reach
// Redis, and so every member, in the order they were sent. After one
// failed, the next fail at once until Redis answers again (redis_down.go).
func (h *Redis) Publish(group, data string) error {
	if h.closed.Load() {
		return h.unavailable(errClosed)
	}
	if err := h.isDown(); err != nil {
		return h.unavailable(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), publishTimeout)
	defer cancel()
	if err := h.client.Publish(ctx, ChannelPrefix+group, data).Err(); err != nil {
		h.markDown(err)
		return h.unavailable(err)
	}
	return nil
}

// Close stops the goroutines and closes the connections. Joins still
// waiting fail; later calls fail.
func (h *Redis) Close() error {
	h.closeMu.Lock()
	defer h.closeMu.Unlock()
	if h.closed.Swap(true) {
		return nil
	}
	close(h.stop)
	err := h.ps.Close() // ends the reader's read
	h.wg.Wait()
	return errors.Join(err, h.client.Close())
}
