package ingester

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/chunk"
	"github.com/lode-logs/lode/backend/index"
	"github.com/lode-logs/lode/backend/iter"
	"github.com/lode-logs/lode/backend/model"
	"github.com/lode-logs/lode/backend/objstore"
)

const testTenant = "team-a"

// t0 is a timestamp aligned to hours, used as the start of test data.
var t0 = time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC).UnixNano()

// defaultConfig returns the flag defaults.
func defaultConfig() Config {
	var cfg Config
	cfg.RegisterFlags(flag.NewFlagSet("test", flag.PanicOnError))
	return cfg
}

// flagConfig returns the defaults overridden by the flags in
// LODE_INGESTER_FLAGS, for benchmarks comparing settings.
func flagConfig(t testing.TB) Config {
	var cfg Config
	f := flag.NewFlagSet("bench", flag.ContinueOnError)
	cfg.RegisterFlags(f)
	if err := f.Parse(strings.Fields(os.Getenv("LODE_INGESTER_FLAGS"))); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// testConfig returns defaults with a flush loop that stays out of the way,
// no free-space guard and flushed chunks dropped at once.
func testConfig() Config {
	cfg := defaultConfig()
	cfg.FlushCheckPeriod = time.Hour
	cfg.MinFreeDiskSpace = 0
	cfg.ChunkRetainPeriod = 0
	return cfg
}

// fakeClock is a settable wall clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Unix(0, t0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fakeIndex records AddChunks calls and fails while failing is set.
type fakeIndex struct {
	mu      sync.Mutex
	entries []index.ChunkEntry
	calls   int
	failing atomic.Bool
}

func (f *fakeIndex) AddChunks(_ context.Context, es []index.ChunkEntry) error {
	if f.failing.Load() {
		return errors.New("index unavailable")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	for _, e := range es {
		if !slices.ContainsFunc(f.entries, func(x index.ChunkEntry) bool { return x.Ref == e.Ref }) {
			f.entries = append(f.entries, e)
		}
	}
	return nil
}

func (f *fakeIndex) refs() []index.ChunkRef {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]index.ChunkRef, len(f.entries))
	for k, e := range f.entries {
		out[k] = e.Ref
	}
	return out
}

// flakyBucket fails every Put while failing is set.
type flakyBucket struct {
	objstore.Bucket
	failing atomic.Bool
	puts    atomic.Int64
}

func (b *flakyBucket) Put(ctx context.Context, key string, data []byte) error {
	b.puts.Add(1)
	if b.failing.Load() {
		return errors.New("object store unavailable")
	}
	return b.Bucket.Put(ctx, key, data)
}

// env is one test ingester with its collaborators.
type env struct {
	t      testing.TB
	cfg    Config
	dir    string
	bucket *flakyBucket
	index  *fakeIndex
	clock  *fakeClock
	reg    *prometheus.Registry
	ing    *Ingester
}

func newEnv(t testing.TB, cfg Config) *env {
	t.Helper()
	fs, err := objstore.NewFilesystem(filepath.Join(t.TempDir(), "bucket"))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, cfg: cfg, dir: filepath.Join(t.TempDir(), "badger"),
		bucket: &flakyBucket{Bucket: fs}, index: &fakeIndex{}, clock: newFakeClock()}
	e.open()
	t.Cleanup(func() { _ = e.ing.Close() })
	return e
}

// open (re)opens the ingester on the env's directory.
func (e *env) open() {
	e.t.Helper()
	e.reg = prometheus.NewRegistry()
	ing, err := New(e.cfg, Deps{
		Dir: e.dir, Bucket: e.bucket, Index: e.index, Registerer: e.reg,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: e.clock.Now,
	})
	if err != nil {
		e.t.Fatalf("New: %v", err)
	}
	e.ing = ing
	// Tests drive sweeps and flushes themselves, on the fake clock.
	ing.cancel()
	ing.wg.Wait()
}

func (e *env) reopen() {
	e.t.Helper()
	if err := e.ing.Close(); err != nil {
		e.t.Fatalf("Close: %v", err)
	}
	e.open()
}

func (e *env) push(streams ...model.Stream) {
	e.t.Helper()
	if err := e.ing.Push(context.Background(), testTenant, streams); err != nil {
		e.t.Fatalf("Push: %v", err)
	}
}

// query runs Query and returns its entries, lines copied.
func (e *env) query(sel model.LogSelect) []model.StreamEntry {
	e.t.Helper()
	if sel.Tenant == "" {
		sel.Tenant = testTenant
	}
	if sel.End == 0 {
		sel.End = 1<<63 - 1
	}
	it, err := e.ing.Query(context.Background(), sel)
	if err != nil {
		e.t.Fatalf("Query: %v", err)
	}
	got, err := iter.Collect(it, func(se model.StreamEntry) model.StreamEntry {
		se.Entry = se.Entry.Clone()
		return se
	})
	if err != nil {
		e.t.Fatalf("Query iteration: %v", err)
	}
	return got
}

// metric returns the value of a counter or gauge (summed over labels).
func (e *env) metric(name string) float64 {
	e.t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		e.t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if c := m.GetCounter(); c != nil {
				sum += c.GetValue()
			}
			if g := m.GetGauge(); g != nil {
				sum += g.GetValue()
			}
		}
	}
	return sum
}

// countKeys counts Badger keys under prefix.
func (e *env) countKeys(prefix byte) int {
	e.t.Helper()
	n := 0
	err := e.ing.scan(prefix, false, func([]byte, []byte) error { n++; return nil })
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// bucketEntries decodes every chunk object in the bucket and returns their
// entries with the stream labels from the chunk headers.
func (e *env) bucketEntries() []model.StreamEntry {
	e.t.Helper()
	ctx := context.Background()
	var out []model.StreamEntry
	err := e.bucket.Iter(ctx, "", func(key string) error {
		data, err := e.bucket.Get(ctx, key)
		if err != nil {
			return err
		}
		c, err := chunk.Decode(data)
		if err != nil {
			return fmt.Errorf("decode %s: %w", key, err)
		}
		if want := chunk.ObjectKey(c.Header().Tenant, c.Header().Fingerprint, data); want != key {
			return fmt.Errorf("object %s should be named %s", key, want)
		}
		h := c.Header()
		it := c.Entries(h.From, h.Through+1, model.Forward, chunk.ReadOptions{})
		for it.Next() {
			out = append(out, model.StreamEntry{Labels: h.Labels, Fingerprint: h.Fingerprint, Entry: it.At().Clone()})
		}
		if err := it.Err(); err != nil {
			return err
		}
		return it.Close()
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

// stream builds a model.Stream of tenant testTenant from a label selector
// body like `app="api", env="prod"` and (ts, line) pairs.
func mkStream(lbls string, entries ...model.Entry) model.Stream {
	ls := labelsFromPairs(lbls)
	return model.Stream{Labels: ls, Fingerprint: model.StreamFingerprint(testTenant, ls), Entries: entries}
}

func labelsFromPairs(s string) labels.Labels {
	var pairs []string
	for _, kv := range splitNonEmpty(s, ',') {
		k, v, _ := cut(kv, '=')
		pairs = append(pairs, k, v)
	}
	return labels.FromStrings(pairs...)
}

func splitNonEmpty(s string, sep byte) []string {
	var out []string
	start := 0
	for k := 0; k <= len(s); k++ {
		if k == len(s) || s[k] == sep {
			if k > start {
				out = append(out, s[start:k])
			}
			start = k + 1
		}
	}
	return out
}

func cut(s string, sep byte) (string, string, bool) {
	for k := 0; k < len(s); k++ {
		if s[k] == sep {
			return s[:k], s[k+1:], true
		}
	}
	return s, "", false
}

func ent(ts int64, line string) model.Entry {
	return model.Entry{Timestamp: ts, Line: []byte(line), Metadata: labels.EmptyLabels()}
}

// sortEntries orders entries like a query in direction d.
func sortEntries(es []model.StreamEntry, d model.Direction) []model.StreamEntry {
	es = slices.Clone(es)
	slices.SortFunc(es, func(a, b model.StreamEntry) int {
		if iter.EntryLess(d, &a, &b) {
			return -1
		}
		if iter.EntryLess(d, &b, &a) {
			return 1
		}
		return 0
	})
	return es
}

// flatten turns pushed streams into the stream entries a query returns.
func flatten(streams []model.Stream) []model.StreamEntry {
	var out []model.StreamEntry
	for _, s := range streams {
		for _, e := range s.Entries {
			out = append(out, model.StreamEntry{Labels: s.Labels, Fingerprint: s.Fingerprint, Entry: e})
		}
	}
	return out
}

// sameEntries compares stream, timestamp, line and metadata, in order.
func sameEntries(t testing.TB, got, want []model.StreamEntry) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d entries, want %d", len(got), len(want))
	}
	for k := range got {
		g, w := &got[k], &want[k]
		if g.Fingerprint != w.Fingerprint || g.Timestamp != w.Timestamp || string(g.Line) != string(w.Line) ||
			!labels.Equal(g.Labels, w.Labels) || !labels.Equal(g.Metadata, w.Metadata) {
			t.Fatalf("entry %d: got %v %d %q %v, want %v %d %q %v", k,
				g.Labels, g.Timestamp, g.Line, g.Metadata, w.Labels, w.Timestamp, w.Line, w.Metadata)
		}
	}
}

// copyDir copies a directory tree (a crash image of a running Badger: the
// files as the page cache holds them).
func copyDir(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}
