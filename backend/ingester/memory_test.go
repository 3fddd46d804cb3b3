package ingester

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/lode-logs/lode/backend/model"
)

// heapInUse returns the live heap after a full collection.
func heapInUse() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestMemoryPerIdleStream measures the heap held per stream once its head
// has become a block in Badger (10k streams with one entry each), and once
// its chunk is cut and waiting for the flush. The contract is at most 4 KB.
func TestMemoryPerIdleStream(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates 10k streams")
	}
	const streams = 10000
	cfg := testConfig()
	e := newEnv(t, cfg)
	ctx := context.Background()
	// Warm up what is allocated once (the shared zstd encoder, pools).
	e.push(mkStream("app=warmup", ent(t0, "warm up")))
	e.ing.cutBlocks(e.ing.streams.all(""), true)
	before := heapInUse()
	for b := 0; b < streams/1000; b++ {
		req := make([]model.Stream, 0, 1000)
		for k := 0; k < 1000; k++ {
			n := b*1000 + k
			req = append(req, mkStream(
				fmt.Sprintf("namespace=prod,app=app-%d,pod=app-%d-7f9c6d5b8-x2k4q,container=main,job=prod/app-%d", n%50, n, n%50),
				ent(t0+int64(n), fmt.Sprintf(`level=info msg="started" pod=%d duration=%dms`, n, n%1000))))
		}
		e.push(req...)
	}
	all := e.ing.streams.all("")
	e.ing.cutBlocks(all, true)
	for _, s := range all {
		s.mu.Lock()
		if !s.head.empty() {
			t.Fatal("head not cut")
		}
		s.head.release(&e.ing.pages)
		s.dedup.release()
		s.mu.Unlock()
	}
	withBlocks := float64(heapInUse()-before) / streams
	e.clock.Advance(2 * cfg.ChunkIdlePeriod)
	e.ing.sweep(ctx) // every chunk cut, waiting for the flush
	withCutChunks := float64(heapInUse()-before) / streams
	t.Logf("heap per idle stream: %.0f B with its head cut into a block, %.0f B with its chunk cut and queued",
		withBlocks, withCutChunks)
	if n := e.ing.queue.len(); n != streams+1 {
		t.Fatalf("%d chunks queued, want %d", n, streams+1)
	}
	for _, v := range []float64{withBlocks, withCutChunks} {
		if v > 4096 {
			t.Fatalf("%.0f bytes per idle stream, want at most 4096", v)
		}
	}
}
