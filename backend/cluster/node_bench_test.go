package cluster

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/lode-logs/lode/backend/index"
)

// BenchmarkAddChunks commits chunk refs through a single-voter node: many
// concurrent callers with a few refs each (what flushing ingesters do), or
// one caller with large batches. Streams repeat, as chunks of a stream do.
func BenchmarkAddChunks(b *testing.B) {
	for _, tc := range []struct {
		callers, perCall int
	}{
		{64, 1},
		{64, 10},
		{1, 1000},
	} {
		b.Run(fmt.Sprintf("callers=%d/refs-per-call=%d", tc.callers, tc.perCall), func(b *testing.B) {
			n := startNode(b, b.TempDir(), testConfig(b))
			var seq atomic.Int64
			next := func() []index.ChunkEntry {
				out := make([]index.ChunkEntry, tc.perCall)
				for i := range out {
					k := seq.Add(1)
					stream := k % 5000
					out[i] = entry("t1", fmt.Sprintf("t1/chunks/%016x/%d", stream, k), 60*day+k*1e6, 60*day+k*1e6+3600e9,
						"app", fmt.Sprintf("app-%d", stream%50), "namespace", fmt.Sprintf("ns-%d", stream%5),
						"pod", fmt.Sprintf("pod-%d", stream), "container", "main")
				}
				return out
			}
			b.ReportAllocs()
			b.ResetTimer()
			calls := b.N
			var wg sync.WaitGroup
			var left atomic.Int64
			left.Store(int64(calls))
			for range tc.callers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for left.Add(-1) >= 0 {
						if err := n.AddChunks(context.Background(), next()); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			refs := float64(calls * tc.perCall)
			b.ReportMetric(refs/b.Elapsed().Seconds(), "refs/s")
			b.ReportMetric(refs/value(b, n.metrics.applies), "refs/apply")
		})
	}
}
