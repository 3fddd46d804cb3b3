package ingester

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/lode-logs/lode/backend/model"
)

// TestConcurrentPushQueryFlush runs pushers (overlapping streams, retried
// batches), queriers, sweeps and flushes at once, then checks that every
// entry is in exactly one of the ingester or the bucket, once.
func TestConcurrentPushQueryFlush(t *testing.T) {
	cfg := testConfig()
	cfg.BlockSize, cfg.ChunkTargetSize = 1<<10, 2<<10
	cfg.FlushMinBackoff, cfg.FlushMaxBackoff = time.Millisecond, time.Millisecond
	e := newEnv(t, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	const pushers, batches, streams = 4, 60, 6
	var mu sync.Mutex
	var pushed []model.Stream
	for p := 0; p < pushers; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := 0; b < batches; b++ {
				var req []model.Stream
				for s := 0; s < streams; s++ {
					var es []model.Entry
					for n := 0; n < 5; n++ {
						ts := t0 + int64((b*5+n)*pushers+p)*int64(time.Millisecond)
						es = append(es, ent(ts, fmt.Sprintf("pusher=%d batch=%d n=%d stream=%d", p, b, n, s)))
					}
					req = append(req, mkStream(fmt.Sprintf("app=s%d", s), es...))
				}
				for try := 0; try < 1+b%2; try++ { // every other batch is retried
					if err := e.ing.Push(context.Background(), testTenant, req); err != nil {
						t.Error(err)
						return
					}
				}
				mu.Lock()
				pushed = append(pushed, req...)
				mu.Unlock()
			}
		}()
	}
	var bg sync.WaitGroup
	bg.Add(2)
	go func() { // queries
		defer bg.Done()
		for ctx.Err() == nil {
			got := e.query(model.LogSelect{Direction: model.Backward, Limit: 50})
			if !slices.IsSortedFunc(got, func(a, b model.StreamEntry) int { return -cmpTs(a.Timestamp, b.Timestamp) }) {
				t.Error("query result out of order")
				return
			}
		}
	}()
	go func() { // sweeps and flushes, with the clock running
		defer bg.Done()
		for ctx.Err() == nil {
			e.clock.Advance(time.Second)
			e.ing.sweep(ctx)
			_ = e.ing.flushDue(ctx, false)
		}
	}()
	wg.Wait()
	cancel()
	bg.Wait()
	if err := e.ing.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := sortEntries(e.bucketEntries(), model.Forward)
	got = slices.CompactFunc(got, func(a, b model.StreamEntry) bool {
		return a.Fingerprint == b.Fingerprint && a.Timestamp == b.Timestamp && string(a.Line) == string(b.Line)
	})
	sameEntries(t, got, sortEntries(flatten(pushed), model.Forward))
}

func cmpTs(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
