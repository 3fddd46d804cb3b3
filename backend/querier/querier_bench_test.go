package querier

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/chunk"
	"github.com/lode-logs/lode/backend/engine"
	"github.com/lode-logs/lode/backend/index"
	"github.com/lode-logs/lode/backend/internal/loggen"
	"github.com/lode-logs/lode/backend/model"
	"github.com/lode-logs/lode/backend/objstore"
)

// Benchmark corpus: loggen lines of benchStreams streams over one hour, cut
// per stream into blocks of 256 KiB of lines and chunks of 1.5 MiB
// compressed (the ingester's defaults), stored in a filesystem bucket.
// LODE_BENCH_BYTES sets the bytes of lines (default 128 MiB; the figures
// of README.md use 1 GiB); with LODE_BENCH_DIR the corpus is kept there
// and reused by later runs.
const (
	benchStreams    = 200
	benchBlockRaw   = 256 << 10
	benchChunkBytes = 1536 << 10
	benchSpan       = time.Hour
	benchNeedleK    = 1
)

type benchStore struct {
	bucket  objstore.Bucket
	idx     *fakeIndex
	start   time.Time
	lines   int64
	raw     int64
	needles int
}

func benchBytes() int64 {
	if s := os.Getenv("LODE_BENCH_BYTES"); s != "" {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 {
			return n
		}
	}
	return 128 << 20
}

// benchLineSize is the mean loggen line, for spreading the corpus over
// benchSpan.
const benchLineSize = 330

// benchDir is where the corpus is written: LODE_BENCH_DIR, where a corpus
// of the same size is reused across runs, or a temporary directory.
func benchDir(b *testing.B) string {
	if d := os.Getenv("LODE_BENCH_DIR"); d != "" {
		return filepath.Join(d, fmt.Sprintf("corpus-%d", benchBytes()))
	}
	return b.TempDir()
}

// openBenchStore returns the corpus under dir, written by an earlier run
// or now.
func openBenchStore(b *testing.B, dir string) *benchStore {
	done := filepath.Join(dir, "complete")
	if _, err := os.Stat(done); err != nil {
		st := newBenchStore(b, dir)
		if err := os.WriteFile(done, fmt.Appendf(nil, "%d %d\n", st.lines, st.raw), 0o644); err != nil {
			b.Fatal(err)
		}
		return st
	}
	bucket, err := objstore.NewFilesystem(dir)
	if err != nil {
		b.Fatal(err)
	}
	st := &benchStore{bucket: bucket, idx: &fakeIndex{refs: map[model.Fingerprint][]index.ChunkRef{}},
		start: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
	if f, err := os.ReadFile(done); err == nil {
		_, _ = fmt.Sscan(string(f), &st.lines, &st.raw)
	}
	ctx := context.Background()
	seen := map[model.Fingerprint]bool{}
	err = bucket.Iter(ctx, tenant+"/", func(key string) error {
		obj, err := bucket.Get(ctx, key)
		if err != nil {
			return err
		}
		c, err := chunk.Decode(obj)
		if err != nil {
			return err
		}
		h := c.Header()
		if !seen[h.Fingerprint] {
			seen[h.Fingerprint] = true
			st.idx.streams = append(st.idx.streams, index.Stream{Fingerprint: h.Fingerprint, Labels: h.Labels})
		}
		st.idx.refs[h.Fingerprint] = append(st.idx.refs[h.Fingerprint], index.ChunkRef{Tenant: tenant, Fingerprint: h.Fingerprint,
			Key: key, From: h.From, Through: h.Through, Size: uint32(len(obj)), Entries: h.Entries})
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return st
}

// newBenchStore writes the corpus into a filesystem bucket under dir.
func newBenchStore(b *testing.B, dir string) *benchStore {
	total := benchBytes()
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	g := loggen.NewWithOptions(loggen.Options{Seed: 1, Streams: benchStreams, Start: start.UnixNano(),
		MeanInterval: benchSpan / time.Duration(total/benchLineSize), NeedleEvery: int(total / benchLineSize / 4)})
	bucket, err := objstore.NewFilesystem(dir)
	if err != nil {
		b.Fatal(err)
	}
	st := &benchStore{bucket: bucket, idx: &fakeIndex{refs: map[model.Fingerprint][]index.ChunkRef{}}, start: start}
	type pending struct {
		bb     *chunk.BlockBuilder
		blocks []chunk.EncodedBlock
		size   int
	}
	streams := make([]pending, benchStreams)
	for i := range streams {
		streams[i].bb = chunk.NewBlockBuilder(chunk.DefaultCodec)
		ls := g.Labels(i)
		st.idx.streams = append(st.idx.streams, index.Stream{Fingerprint: model.StreamFingerprint(tenant, ls), Labels: ls})
	}
	var mu sync.Mutex // guards st.idx and the first error
	var firstErr error
	var wg sync.WaitGroup
	work := make(chan func(), 4)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range work {
				f()
			}
		}()
	}
	flushChunk := func(si int, blocks []chunk.EncodedBlock) {
		ls := g.Labels(si)
		fp := model.StreamFingerprint(tenant, ls)
		h := chunk.Header{Tenant: tenant, Labels: ls, Fingerprint: fp, Codec: chunk.DefaultCodec,
			From: blocks[0].Meta.MinTime, Through: blocks[0].Meta.MaxTime}
		for _, bl := range blocks {
			h.From, h.Through = min(h.From, bl.Meta.MinTime), max(h.Through, bl.Meta.MaxTime)
			h.Entries += bl.Meta.Entries
		}
		obj, err := chunk.Encode(nil, h, blocks)
		if err == nil {
			key := chunk.ObjectKey(tenant, fp, obj)
			if err = bucket.Put(context.Background(), key, obj); err == nil {
				mu.Lock()
				st.idx.refs[fp] = append(st.idx.refs[fp], index.ChunkRef{Tenant: tenant, Fingerprint: fp, Key: key,
					From: h.From, Through: h.Through, Size: uint32(len(obj)), Entries: h.Entries})
				mu.Unlock()
			}
		}
		if err != nil {
			mu.Lock()
			firstErr = err
			mu.Unlock()
		}
	}
	// cutBlock encodes the head of stream si on a worker; the chunk is
	// assembled by the worker once it is complete.
	cut := func(si int, final bool) {
		p := &streams[si]
		bb := p.bb
		p.bb = chunk.NewBlockBuilder(chunk.DefaultCodec)
		done := make(chan chunk.EncodedBlock, 1)
		work <- func() {
			data, meta := bb.Encode(nil)
			done <- chunk.EncodedBlock{Meta: meta, Data: data}
		}
		bl := <-done
		p.blocks = append(p.blocks, bl)
		p.size += len(bl.Data)
		if p.size >= benchChunkBytes || final {
			blocks := p.blocks
			p.blocks, p.size = nil, 0
			work <- func() { flushChunk(si, blocks) }
		}
	}
	var buf []byte
	for st.raw < total {
		si, ts, line := g.Next(buf[:0])
		buf = line
		streams[si].bb.Append(ts, line, labels.EmptyLabels())
		st.raw += int64(len(line))
		st.lines++
		if g.LastNeedle() != nil {
			st.needles++
		}
		if streams[si].bb.RawSize() >= benchBlockRaw {
			cut(si, false)
		}
	}
	for si := range streams {
		if streams[si].bb.Len() > 0 || len(streams[si].blocks) > 0 {
			if streams[si].bb.Len() == 0 {
				blocks := streams[si].blocks
				work <- func() { flushChunk(si, blocks) }
				continue
			}
			cut(si, true)
		}
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		b.Fatal(firstErr)
	}
	return st
}

// BenchmarkQuery runs the queries of the figures over the corpus through
// the engine and a querier reading a filesystem bucket, with the chunks'
// block indexes cached after the first run (as a running querier has).
func BenchmarkQuery(b *testing.B) {
	st := openBenchStore(b, benchDir(b))
	b.Logf("corpus: %d lines, %.1f MiB of lines, %d streams", st.lines, float64(st.raw)/(1<<20), benchStreams)
	q := New(Config{FetchConcurrency: 16, ChunkMetaCacheMB: 32, TimestampsCacheMB: 64}, st.idx, st.bucket, nil)
	eng := engine.New(q, engine.Options{})
	end := st.start.Add(benchSpan + time.Minute)
	needle := string(loggen.NeedleToken(1, benchNeedleK))
	cases := []struct {
		name   string
		query  string
		step   time.Duration
		limit  int
		absent bool // the result is empty
	}{
		{"count-by-level", `sum by (level) (count_over_time({job=~".+"}[1m]))`, time.Minute, 0, false},
		{"count-by-level-5m", `sum by (level) (count_over_time({job=~".+"}[5m]))`, time.Minute, 0, false},
		{"bytes-rate", `sum(bytes_rate({job=~".+"}[1m]))`, time.Minute, 0, false},
		{"count-filtered", `sum by (app) (count_over_time({job=~".+"} |= "error" [1m]))`, time.Minute, 0, false},
		{"rate-negated", `sum by (level) (rate({job=~".+"} != "GET" [1m]))`, time.Minute, 0, false},
		{"needle", `{job=~".+"} |= "` + needle + `"`, 0, 100, false},
		// A needle of under 4 bytes passes every token filter: every
		// block is decompressed and searched (for a needle whose first
		// byte is common in logs and that no line holds).
		{"absent-scan", `{job=~".+"} |= "e~Q"`, 0, 100, true},
		{"count-absent-scan", `sum(count_over_time({job=~".+"} |= "e~Q" [1m]))`, time.Minute, 0, true},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			p := engine.Params{Tenant: tenant, Query: c.query, Start: st.start, End: end, Step: c.step, Limit: c.limit}
			run := func() *engine.Result {
				res, err := eng.Query(context.Background(), p)
				if err != nil {
					b.Fatal(err)
				}
				return res
			}
			res := run() // fills the block index cache
			if found := len(res.Streams) > 0 || len(res.Matrix) > 0; found == c.absent {
				b.Fatalf("%d streams, %d series", len(res.Streams), len(res.Matrix))
			}
			b.ReportAllocs()
			b.SetBytes(st.raw)
			cpu := cpuTime()
			for b.Loop() {
				run()
			}
			if d := cpuTime() - cpu; d > 0 {
				b.ReportMetric(float64(st.raw)*float64(b.N)/d.Seconds()/1e6, "cpu-MB/s")
			}
			b.ReportMetric(float64(st.lines)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mentries/s")
		})
	}
	// The first read of the data: no block index or timestamps cached.
	b.Run("count-by-level-cold", func(b *testing.B) {
		p := engine.Params{Tenant: tenant, Query: cases[0].query, Start: st.start, End: end, Step: time.Minute}
		b.ReportAllocs()
		b.SetBytes(st.raw)
		for b.Loop() {
			q := New(Config{FetchConcurrency: 16, ChunkMetaCacheMB: 32, TimestampsCacheMB: 64}, st.idx, st.bucket, nil)
			if _, err := engine.New(q, engine.Options{}).Query(context.Background(), p); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// cpuTime returns the CPU time (user + system) the process has used: the
// machine running benchmarks is often shared, so besides wall-clock MB/s
// the query benchmarks report cpu-MB/s, bytes of lines per CPU-second.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
