package groups

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/lasgi/lasgi/spec/event"
)

// The payloads of the PINGs on the subscription: a join's carries its
// epoch, so that its PONG says which joins Redis has seen.
const (
	joinPing   = "lasgi.join."
	healthPing = "lasgi.health"
)

// subscriber makes the channels subscribed to match h.want, one change
// after another in the order they were asked, then PINGs with the latest
// epoch while a join waits. It alone calls Subscribe and Unsubscribe, so
// has is its own. go-redis keeps the channels of every Subscribe, even
// one that failed, and subscribes to them again on each new connection,
// so what has says is what the next connection will have.
func (h *Redis) subscriber() {
	defer h.wg.Done()
	has := make(map[string]bool)
	var add, drop []string
	for {
		select {
		case <-h.stop:
			return
		case <-h.kick:
		}
		add, drop = add[:0], drop[:0]
		h.mu.Lock()
		for g := range has {
			if _, ok := h.want[g]; !ok {
				drop = append(drop, ChannelPrefix+g)
				delete(has, g)
			}
		}
		for g := range h.want {
			if !has[g] {
				add = append(add, ChannelPrefix+g)
				has[g] = true
			}
		}
		epoch, waiting := h.asked, h.asked > h.confirmed
		h.mu.Unlock()

		ctx, cancel := context.WithTimeout(context.Background(), joinTimeout)
		// An UNSUBSCRIBE that cannot be sent needs nothing more: the
		// channel is out of go-redis's list, and the connection it failed
		// on is made again without it.
		if len(drop) > 0 {
			h.ps.Unsubscribe(ctx, drop...)
		}
		var err error
		if len(add) > 0 {
			err = h.ps.Subscribe(ctx, add...)
		}
		if err == nil && waiting {
			err = h.ps.Ping(ctx, joinPing+strconv.FormatUint(epoch, 10))
		}
		cancel()
		if err != nil {
			h.settle(epoch, err)
		}
	}
}

// reader takes what Redis sends on the subscription: messages go to the
// members here (Local never blocks, so the reader keeps up with Redis and
// nothing gathers in this process; a reader far behind is cut off by
// Redis's own output buffer limit for pub/sub clients), the PONGs of
// joins confirm them. A subscription quiet for idleCheck is pinged, and a
// read that fails waits a moment (maxPause at most) before go-redis
// connects again; after a failure the subscriber pings again for any
// join still waiting, whose PING may have been lost with the connection.
func (h *Redis) reader() {
	defer h.wg.Done()
	var pause time.Duration
	probing := false
	for {
		var msg any
		var err error
		if probing {
			// A read past a context's deadline is a broken connection to
			// go-redis, which connects again; a timeout is not.
			ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
			msg, err = h.ps.ReceiveTimeout(ctx, 0)
			cancel()
		} else {
			msg, err = h.ps.ReceiveTimeout(context.Background(), idleCheck)
		}
		if h.closed.Load() || errors.Is(err, redis.ErrClosed) {
			return
		}
		if err != nil {
			var ne net.Error
			if !probing && errors.As(err, &ne) && ne.Timeout() {
				ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
				probing = h.ps.Ping(ctx, healthPing) == nil
				cancel()
				if probing {
					continue
				}
			}
			probing = false
			h.broken()
			pause = min(max(2*pause, 50*time.Millisecond), maxPause)
			t := time.NewTimer(pause)
			select {
			case <-h.stop:
				t.Stop()
				return
			case <-t.C:
			}
			continue
		}
		pause, probing = 0, false
		switch m := msg.(type) {
		case *redis.Message:
			group, ok := strings.CutPrefix(m.Channel, ChannelPrefix)
			if !ok {
				break
			}
			if !wellFormed(m.Payload) {
				h.rejected.Add(1)
				break
			}
			h.local.Publish(group, m.Payload)
		case *redis.Pong:
			// Any answer on this connection means its subscriptions are
			// in force; a join's also says which joins it answers.
			var n uint64
			if e, ok := strings.CutPrefix(m.Payload, joinPing); ok {
				n, _ = strconv.ParseUint(e, 10, 64)
			}
			h.settle(n, nil)
		}
	}
}

// wellFormed reports whether data is one table in the encoding of data.go
// within the bounds every sender is held to (groups.data,
// groups.data.size). Anything that can publish on the Redis server can
// put bytes on a lasgi.group channel, and a member's engine builds tables
// as the bytes say (a table's pair count is its size hint), so what is
// not data never reaches a member. One pass, no allocation per value.
func wellFormed(data string) bool {
	if len(data) > event.GroupsMaxMessageBytes {
		return false
	}
	r := NewReader(data)
	v, ok := r.Next()
	if !ok || v.Tag != TagTable {
		return false
	}
	var open [event.MaxGroupDepth]int // values still to come in each open table
	open[0] = 2 * v.Pairs
	depth := 1
	for depth > 0 {
		if open[depth-1] == 0 {
			depth--
			continue
		}
		key := open[depth-1]%2 == 0
		open[depth-1]--
		v, ok := r.Next()
		if !ok {
			return false
		}
		switch {
		case key && v.Tag != TagString && v.Tag != TagInt && (v.Tag != TagFloat || v.Float != v.Float):
			return false // a key must be a string or a number other than NaN
		case v.Tag == TagTable:
			if depth == event.MaxGroupDepth {
				return false
			}
			open[depth] = 2 * v.Pairs
			depth++
		}
	}
	_, more := r.Next()
	return !more && r.Err() == nil
}
