package groups

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// A Redis that stops answering (paused, its host gone) holds each PUBLISH
// for publishTimeout, and each first Join of a group for joinTimeout, and
// with them the caller's worker: every app on that worker waits too, one
// call after another. So once a PUBLISH has failed or a SUBSCRIBE got no
// answer, the hub takes Redis as down: Publish, and a Join that needs
// Redis, fail at once with the same groups.send.unavailable error, until
// Redis answers a PING, which one goroutine sends every recheck meanwhile.
// At most one call per failure pays the whole timeout.
const recheck = 250 * time.Millisecond

// downState is the Redis hub's record of a PUBLISH that failed or a
// SUBSCRIBE that got no answer.
type downState struct {
	down atomic.Bool
	kick chan struct{} // wakes the checker when down is set
	mu   sync.Mutex
	why  error // the failure that set down
}

// markDown takes Redis as down after a PUBLISH or a SUBSCRIBE failed
// with err.
func (h *Redis) markDown(err error) {
	h.downs.mu.Lock()
	h.downs.why = err
	h.downs.mu.Unlock()
	if h.downs.down.CompareAndSwap(false, true) {
		select {
		case h.downs.kick <- struct{}{}:
		default:
		}
	}
}

// isDown returns, while Redis is taken as down, why.
func (h *Redis) isDown() error {
	if !h.downs.down.Load() {
		return nil
	}
	h.downs.mu.Lock()
	defer h.downs.mu.Unlock()
	return fmt.Errorf("it failed to answer (%v), and has not answered a PING since", h.downs.why)
}

// checker clears down once Redis answers a PING again. One goroutine,
// ended by Close.
func (h *Redis) checker() {
	defer h.wg.Done()
	t := time.NewTimer(recheck)
	t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-h.downs.kick:
		}
		for h.downs.down.Load() {
			t.Reset(recheck)
			select {
			case <-h.stop:
				t.Stop()
				return
			case <-t.C:
			}
			ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
			err := h.client.Ping(ctx).Err()
			cancel()
			if err == nil {
				h.downs.down.Store(false)
			}
		}
	}
}
