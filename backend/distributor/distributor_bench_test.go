package distributor

import (
	"context"
	"testing"
	"time"

	"github.com/lode-logs/lode/backend/internal/loggen"
	"github.com/lode-logs/lode/backend/limits"
	"github.com/lode-logs/lode/backend/model"
	"github.com/lode-logs/lode/backend/push"
)

// fixedLimits gives every tenant the same limits.
type fixedLimits limits.Tenant

func (f fixedLimits) Tenant(string) limits.Tenant { return limits.Tenant(f) }

// discardPusher accepts everything and keeps nothing.
type discardPusher struct{}

func (discardPusher) Push(context.Context, string, []model.Stream) error { return nil }

// benchRequest is about size bytes of loggen lines over streams streams,
// timestamped in the hour before testNow.
func benchRequest(streams, size int) *push.Request {
	g := loggen.NewWithOptions(loggen.Options{Seed: 1, Streams: streams, Start: nowNS - hour, MeanInterval: time.Microsecond})
	idx := map[int]int{}
	r := &push.Request{}
	for total := 0; total < size; {
		si, ts, line := g.Next(nil)
		i, ok := idx[si]
		if !ok {
			i = len(r.Streams)
			idx[si] = i
			r.Streams = append(r.Streams, push.Stream{Labels: g.Labels(si).String()})
		}
		e := push.Entry{Timestamp: ts, Line: line}
		if len(line)%4 == 0 {
			e.Metadata = []push.LabelPair{{Name: "trace_id", Value: "4bf92f3577b34da6a3ce929d0e0e4736"}}
		}
		r.Streams[i].Entries = append(r.Streams[i].Entries, e)
		total += len(line)
	}
	return r
}

// BenchmarkPush measures validation (labels, fingerprints, entries,
// metadata) of a 1 MiB push; the Pusher discards.
func BenchmarkPush(b *testing.B) {
	for _, streams := range []int{10, 100, 1000} {
		b.Run(map[int]string{10: "streams=10", 100: "streams=100", 1000: "streams=1000"}[streams], func(b *testing.B) {
			req := benchRequest(streams, 1<<20)
			d := newTestDistributor(b, discardPusher{}, nil)
			lim := testLimits(b, nil).Tenant("x")
			lim.IngestionRateMB = 0
			d.limits = fixedLimits(lim)
			size := 0
			for _, s := range req.Streams {
				for _, e := range s.Entries {
					size += len(e.Line)
				}
			}
			b.ReportAllocs()
			b.SetBytes(int64(size))
			for b.Loop() {
				if err := d.Push(context.Background(), "bench", req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
