package frontend

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/lode-logs/lode/backend/internal/loggen"
	"github.com/lode-logs/lode/backend/model"
)

// benchDownstream holds 24 hours of loggen logs (20 streams, one line per
// 600ms on average, 144k lines), flushed to the bucket and index in chunks
// of the default age (2h).
func benchDownstream(b *testing.B) *downstream {
	b.Helper()
	d := newDownstream(b, b.TempDir(), 0)
	g := loggen.NewWithOptions(loggen.Options{Seed: 3, Streams: 20, Start: t0.UnixNano(), MeanInterval: 600 * time.Millisecond})
	end := t0.Add(24 * time.Hour).UnixNano()
	var buf []byte
	batch := map[int]*model.Stream{}
	flush := func() {
		streams := make([]model.Stream, 0, len(batch))
		for _, s := range batch {
			streams = append(streams, *s)
		}
		if err := d.ing.Push(context.Background(), testTenant, streams); err != nil {
			b.Fatal(err)
		}
		clear(batch)
	}
	for n := 0; ; n++ {
		si, ts, line := g.Next(buf[:0])
		buf = line
		if ts >= end {
			break
		}
		s, ok := batch[si]
		if !ok {
			ls := g.Labels(si)
			s = &model.Stream{Labels: ls, Fingerprint: model.StreamFingerprint(testTenant, ls)}
			batch[si] = s
		}
		s.Entries = append(s.Entries, model.Entry{Timestamp: ts, Line: append([]byte(nil), line...)})
		if n%5000 == 4999 {
			flush()
		}
	}
	flush()
	if err := d.ing.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	return d
}

// BenchmarkQuery24h runs 24-hour count_over_time queries (1441 steps)
// unsplit, split into 1h parts (8 in flight), and split with every part
// cached.
func BenchmarkQuery24h(b *testing.B) {
	d := benchDownstream(b)
	queries := map[string]string{
		"count_over_time": `count_over_time({cluster="prod-eu-1"}[5m])`,
		"sum_by_app":      `sum by (app) (count_over_time({cluster="prod-eu-1"} |= "GET" [5m]))`,
	}
	modes := []struct {
		name    string
		split   time.Duration
		cacheMB int64
	}{
		{"unsplit", 0, 0},
		{"split-1h", time.Hour, 0},
		{"split-1h-cached", time.Hour, 64},
	}
	for qname, query := range queries {
		p := url.Values{"query": {query}, "start": {ns(t0)}, "end": {ns(t0.Add(24 * time.Hour))}, "step": {"60"}}
		for _, m := range modes {
			b.Run(qname+"/"+m.name, func(b *testing.B) {
				f := testFrontend(b, d.api, m.split, m.cacheMB)
				if r := serve(f, rangeRequest(p)); r.status != http.StatusOK {
					b.Fatalf("status %d %s", r.status, r.body)
				}
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					if r := serve(f, rangeRequest(p)); r.status != http.StatusOK {
						b.Fatalf("status %d", r.status)
					}
				}
			})
		}
	}
}
