package conformance

import (
	"context"
	"errors"
	"sync"
)

// runCases plays n cases, par at a time (1 or less: one after another),
// play(i) giving case i's result, and reports them in order: judge(i, r)
// sees each result in the cases' order and may give a reason to stop there,
// then progress (if not nil) is called with it. Once ctx is done, or judge
// gave a reason, a case not started yet is not played: skip(i, why) gives
// its result, why being the reason or ctx's cause (context.Cause: a run
// budget, an interrupt); cases already under way are reported as they end.
// It returns the results and judge's reason, "" when it gave none. Server
// and app checks share it.
func runCases(ctx context.Context, n, par int, play func(i int) Result, judge func(i int, r Result) string,
	skip func(i int, why string) Result, progress func(int, Result)) ([]Result, string) {
	if par < 1 {
		par = 1
	}
	if par > n {
		par = max(n, 1)
	}
	runCtx, stopRun := context.WithCancelCause(ctx)
	defer stopRun(nil)
	var (
		mu      sync.Mutex
		results = make([]Result, n)
		done    = make([]bool, n)
		next    int // the next case to start
		cursor  int // the next case to report
		stop    string
	)
	// finish records case i's result and reports every result now in order.
	finish := func(i int, r Result) {
		mu.Lock()
		defer mu.Unlock()
		results[i], done[i] = r, true
		for cursor < n && done[cursor] {
			if stop == "" {
				if why := judge(cursor, results[cursor]); why != "" {
					stop = why
					stopRun(errors.New(why))
				}
			}
			if progress != nil {
				progress(cursor, results[cursor])
			}
			cursor++
		}
	}
	var wg sync.WaitGroup
	for range par {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= n {
					return
				}
				if runCtx.Err() != nil {
					finish(i, skip(i, context.Cause(runCtx).Error()))
					continue
				}
				finish(i, play(i))
			}
		}()
	}
	wg.Wait()
	return results, stop
}
