package index

import (
	"context"
	"fmt"
	"syscall"
	"testing"
)

// cpuTime returns the CPU time used by the process so far, in ns. On a
// shared machine it is steadier than wall time.
func cpuTime() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkStreams queries an index of 100k streams in one period:
// namespace (10 values), app (100), container (3), pod (one per stream).
func BenchmarkStreams(b *testing.B) {
	db := openTestDB(b)
	const n = 100_000
	entries := make([]ChunkEntry, 0, n)
	for i := range n {
		entries = append(entries, entry("t1", fmt.Sprintf("t1/chunks/%016x/%d", i, i), 10*day+int64(i), 10*day+int64(i)+1000,
			"app", fmt.Sprintf("app-%d", i%100),
			"container", []string{"main", "sidecar", "init"}[i%3],
			"namespace", fmt.Sprintf("ns-%d", i%10),
			"pod", fmt.Sprintf("app-%d-%d", i%100, i)))
	}
	addChunks(b, db, entries...)
	// Measure a settled LSM tree, not one still compacting the bulk load.
	if err := db.Flatten(2); err != nil {
		b.Fatal(err)
	}
	s := NewStore(db)
	for _, tc := range []struct {
		sel  string
		want int
	}{
		{`{app="app-42"}`, 1000},
		{`{namespace="ns-3"}`, 10_000},
		{`{app=~"app-4.*"}`, 11_000},
		{`{app="app-42", container!="sidecar"}`, 667},
		{`{namespace="ns-3", pod=~"app-4.*"}`, 1000},
		{`{pod=~".+"}`, n},
	} {
		b.Run(tc.sel, func(b *testing.B) {
			ms := selector(b, tc.sel)
			b.ReportAllocs()
			c0 := cpuTime()
			for b.Loop() {
				got, err := s.Streams(context.Background(), "t1", 10*day, 11*day-1, ms)
				if err != nil {
					b.Fatal(err)
				}
				if len(got) != tc.want {
					b.Fatalf("%d streams, want %d", len(got), tc.want)
				}
			}
			b.ReportMetric(float64(tc.want), "streams/op")
			b.ReportMetric(float64(cpuTime()-c0)/float64(b.N), "cpu-ns/op")
		})
	}
}

// BenchmarkAddChunks measures the index write path for new streams (one
// chunk each) and for chunks of known streams.
func BenchmarkAddChunks(b *testing.B) {
	for _, known := range []bool{false, true} {
		b.Run(fmt.Sprintf("known-streams=%v", known), func(b *testing.B) {
			db := openTestDB(b)
			const batch = 1000
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				entries := make([]ChunkEntry, batch)
				for j := range entries {
					stream := i
					if known {
						stream = i % 1000
					}
					entries[j] = entry("t1", fmt.Sprintf("t1/chunks/%d", i), 10*day+int64(i), 10*day+int64(i)+1000,
						"app", fmt.Sprintf("app-%d", stream%100), "namespace", fmt.Sprintf("ns-%d", stream%10),
						"pod", fmt.Sprintf("pod-%d", stream))
					i++
				}
				addChunks(b, db, entries...)
			}
			b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "refs/s")
		})
	}
}
