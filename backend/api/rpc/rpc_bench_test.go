package rpc

import (
	"context"
	"fmt"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"google.golang.org/grpc/mem"

	"github.com/lode-logs/lode/backend/index"
	"github.com/lode-logs/lode/backend/internal/loggen"
	"github.com/lode-logs/lode/backend/iter"
	"github.com/lode-logs/lode/backend/model"
)

// benchPush is a push of about 1 MiB: 1000 entries of about 1 KiB of
// realistic log text over 10 streams, a quarter with structured metadata.
func benchPush(b *testing.B) ([]model.Stream, int64) {
	b.Helper()
	const tenant, nStreams, nEntries, lineSize = "bench", 10, 1000, 1024
	g := loggen.New(1, nStreams)
	streams := make([]model.Stream, nStreams)
	for k := range streams {
		ls := g.Labels(k)
		streams[k] = model.Stream{Labels: ls, Fingerprint: model.StreamFingerprint(tenant, ls)}
	}
	var raw int64
	var buf []byte
	for i := range nEntries {
		var line []byte
		var ts int64
		for len(line) < lineSize {
			_, t, l := g.Next(buf[:0])
			buf = l
			line = append(append(line, l...), '\n')
			ts = t
		}
		line = line[:lineSize]
		e := model.Entry{Timestamp: ts, Line: line}
		if i%4 == 0 {
			e.Metadata = labels.FromStrings("trace_id", fmt.Sprintf("%032x", i), "span_id", fmt.Sprintf("%016x", i))
		}
		st := &streams[i%nStreams]
		st.Entries = append(st.Entries, e)
		raw += int64(len(line))
	}
	return streams, raw
}

func BenchmarkPushCodec(b *testing.B) {
	streams, raw := benchPush(b)
	pool := new(bufPool)
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(raw)
		req := &pushRequest{Tenant: "bench", Streams: streams, pool: pool}
		for b.Loop() {
			bs, _ := req.marshal()
			bs.Free()
		}
	})
	enc := appendPushRequest(nil, "bench", streams)
	b.Logf("encoded size %d bytes for %d bytes of lines", len(enc), raw)
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(raw)
		r := &pushRequest{pool: pool}
		for b.Loop() {
			if err := r.decode(enc); err != nil {
				b.Fatal(err)
			}
			r.reset()
		}
	})
	// As gRPC does it: encode into a pooled buffer, receive in 16 KiB
	// frames, copy into one pooled buffer, decode.
	b.Run("encode+decode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(raw)
		req := &pushRequest{Tenant: "bench", Streams: streams, pool: pool}
		r := &pushRequest{pool: pool}
		frames := split(enc, 16<<10)
		for b.Loop() {
			bs, _ := req.marshal()
			copyFrames(frames, bs)
			bs.Free()
			_ = r.unmarshal(frames)
			if r.decodeErr != nil {
				b.Fatal(r.decodeErr)
			}
			r.reset()
		}
	})
}

// copyFrames copies the bytes of bs over frames (same total length), so
// that decoding reads what was just encoded.
func copyFrames(frames, bs mem.BufferSlice) {
	var src []byte
	k := 0
	for _, f := range frames {
		dst := []byte(f.(mem.SliceBuffer))
		for len(dst) > 0 {
			if len(src) == 0 {
				src = bs[k].ReadOnlyData()
				k++
			}
			n := copy(dst, src)
			dst, src = dst[n:], src[n:]
		}
	}
}

// nopIngester accepts pushes without doing anything, and serves queries
// from items.
type nopIngester struct {
	items []model.StreamEntry
}

func (nopIngester) Push(context.Context, string, []model.Stream) error { return nil }
func (n nopIngester) Query(context.Context, model.LogSelect) (iter.EntryIterator, error) {
	return iter.Slice(n.items), nil
}
func (nopIngester) Series(context.Context, string, int64, int64, []*labels.Matcher) ([]index.Stream, error) {
	return nil, nil
}

func BenchmarkPushRoundTrip(b *testing.B) {
	streams, raw := benchPush(b)
	srv := startServer(b, nopIngester{}, nil)
	p := newTestPool(b, nil)
	ctx := context.Background()
	b.ReportAllocs()
	b.SetBytes(raw)
	for b.Loop() {
		if err := p.Push(ctx, srv.addr, "bench", streams); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkQueryStream streams 100k entries of realistic lines (about 200
// bytes on average) from a loopback server through the client iterator.
func BenchmarkQueryStream(b *testing.B) {
	const n = 100_000
	g := loggen.New(2, 50)
	items := make([]model.StreamEntry, n)
	var raw int64
	for i := range items {
		k, ts, line := g.Next(nil)
		ls := g.Labels(k)
		items[i] = model.StreamEntry{Labels: ls, Fingerprint: model.StreamFingerprint("bench", ls), Entry: model.Entry{Timestamp: ts, Line: line}}
		raw += int64(len(line))
	}
	srv := startServer(b, nopIngester{items: items}, nil)
	p := newTestPool(b, nil)
	ctx := context.Background()
	b.ReportAllocs()
	b.SetBytes(raw)
	for b.Loop() {
		it, err := p.Query(ctx, srv.addr, model.LogSelect{Tenant: "bench", Direction: model.Forward})
		if err != nil {
			b.Fatal(err)
		}
		got := 0
		for it.Next() {
			got++
		}
		if err := it.Err(); err != nil || got != n {
			b.Fatalf("got %d entries, err %v", got, err)
		}
		_ = it.Close()
		<-srv.queryDone
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}
