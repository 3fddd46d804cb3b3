package ingester

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/lode-logs/lode/backend/model"
)

func TestFlushWritesObjectsThenIndexThenDrops(t *testing.T) {
	cfg := testConfig()
	cfg.BlockSize, cfg.ChunkTargetSize = 1<<10, 1<<10
	cfg.FlushBatchSize = 3 // several AddChunks calls
	e := newEnv(t, cfg)
	pushed := mixedPushes(e, 20, 3, 20, 0)
	if err := e.ing.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	sameEntries(t, sortEntries(e.bucketEntries(), model.Forward), sortEntries(flatten(pushed), model.Forward))

	refs := e.index.refs()
	var objects int
	_ = e.bucket.Iter(context.Background(), "", func(string) error { objects++; return nil })
	if len(refs) != objects || objects < 3 {
		t.Fatalf("%d refs for %d objects", len(refs), objects)
	}
	var entries uint32
	for _, r := range refs {
		data, err := e.bucket.Get(context.Background(), r.Key)
		if err != nil {
			t.Fatalf("ref %s: %v", r.Key, err)
		}
		if int(r.Size) != len(data) || r.Tenant != testTenant || r.From > r.Through {
			t.Fatalf("ref %+v does not describe its %d-byte object", r, len(data))
		}
		entries += r.Entries
	}
	if int(entries) != len(flatten(pushed)) {
		t.Fatalf("refs count %d entries, pushed %d", entries, len(flatten(pushed)))
	}
	if e.index.calls < 2 {
		t.Fatalf("AddChunks called %d times for %d refs, want batches of 3", e.index.calls, len(refs))
	}
	for _, p := range []byte{prefixWAL, prefixBlockMeta, prefixBlockData, prefixCut} {
		if n := e.countKeys(p); n != 0 {
			t.Errorf("%d keys with prefix %#x left in Badger after flush", n, p)
		}
	}
	if got := e.query(model.LogSelect{Direction: model.Forward}); len(got) != 0 {
		t.Fatalf("%d entries still in the ingester after flush", len(got))
	}
	if e.metric("lode_ingester_flush_backlog_chunks") != 0 || e.metric("lode_ingester_chunks_flushed_total") != float64(len(refs)) {
		t.Fatal("flush metrics disagree with the refs")
	}
}

func TestFlushFailuresRetryAndLoseNothing(t *testing.T) {
	cases := []struct {
		name  string
		fail  func(e *env, on bool)
		stage string
	}{
		{"object store down", func(e *env, on bool) { e.bucket.failing.Store(on) }, "put"},
		{"index down", func(e *env, on bool) { e.index.failing.Store(on) }, "index"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.BlockSize, cfg.ChunkTargetSize = 2<<10, 6<<10
			cfg.FlushMinBackoff, cfg.FlushMaxBackoff = time.Second, 8*time.Second
			e := newEnv(t, cfg)
			ctx := context.Background()
			pushed := mixedPushes(e, 10, 3, 20, 0)
			c.fail(e, true)
			if err := e.ing.Flush(ctx); !errors.Is(err, ErrFlushIncomplete) {
				t.Fatalf("Flush with a failing %s: %v", c.stage, err)
			}
			backlog := e.metric("lode_ingester_flush_backlog_chunks")
			if backlog == 0 || e.metric("lode_ingester_flush_failures_total") == 0 {
				t.Fatal("failures and backlog not reported")
			}
			// Everything is still served from the ingester and survives a restart.
			e.reopen()
			c.fail(e, true)
			sameEntries(t, e.query(model.LogSelect{Direction: model.Forward}), sortEntries(flatten(pushed), model.Forward))

			// Retries back off: before the delay nothing is attempted.
			if err := e.ing.flushDue(ctx, false); !errors.Is(err, ErrFlushIncomplete) {
				t.Fatalf("first retry: %v", err)
			}
			puts := e.bucket.puts.Load()
			if err := e.ing.flushDue(ctx, false); err != nil {
				t.Fatalf("retry within the backoff: %v", err)
			}
			if e.bucket.puts.Load() != puts {
				t.Fatal("a chunk was retried before its backoff elapsed")
			}
			c.fail(e, false)
			e.clock.Advance(cfg.FlushMaxBackoff)
			if err := e.ing.flushDue(ctx, false); err != nil {
				t.Fatal(err)
			}
			if e.metric("lode_ingester_flush_backlog_chunks") != 0 {
				t.Fatal("backlog left after recovery")
			}
			sameEntries(t, sortEntries(e.bucketEntries(), model.Forward), sortEntries(flatten(pushed), model.Forward))
			if got := len(e.index.refs()); float64(got) != backlog {
				t.Fatalf("index holds %d refs, want %v", got, backlog)
			}
		})
	}
}

func TestFlushBackoff(t *testing.T) {
	q := flushQueue{}
	c := &cutChunk{}
	q.items = []*cutChunk{c}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second}
	for k, d := range want {
		q.failed([]*cutChunk{c}, 0, time.Second, 10*time.Second)
		if got := time.Duration(c.nextTry); got != d {
			t.Fatalf("failure %d: retry after %v, want %v", k+1, got, d)
		}
	}
	for k := 0; k < 100; k++ {
		q.failed([]*cutChunk{c}, 0, time.Second, 10*time.Second)
	}
	if got := time.Duration(c.nextTry); got != 10*time.Second {
		t.Fatalf("after many failures: retry after %v", got)
	}
}

// A flushed chunk stays readable in the ingester, and its records in
// Badger, for the retain period; a restart meanwhile flushes it again
// without a second object or ref; once the period is over a flush round
// drops it.
func TestFlushRetainsChunksForTheRetainPeriod(t *testing.T) {
	cfg := testConfig()
	cfg.BlockSize, cfg.ChunkTargetSize = 1<<10, 1<<10
	cfg.ChunkRetainPeriod = time.Minute
	e := newEnv(t, cfg)
	pushed := sortEntries(flatten(mixedPushes(e, 10, 2, 20, 0)), model.Forward)
	ctx := context.Background()
	if err := e.ing.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	refs, puts := len(e.index.refs()), e.bucket.puts.Load()
	sameEntries(t, sortEntries(e.bucketEntries(), model.Forward), pushed)
	retained := func(when string) {
		t.Helper()
		sameEntries(t, e.query(model.LogSelect{Direction: model.Forward}), pushed)
		if e.countKeys(prefixBlockData) == 0 || e.countKeys(prefixCut) == 0 {
			t.Fatalf("%s: retained chunks' records gone from Badger", when)
		}
		if e.metric("lode_ingester_flush_backlog_chunks") != 0 {
			t.Fatalf("%s: retained chunks counted as flush backlog", when)
		}
	}
	retained("just flushed")

	e.clock.Advance(cfg.ChunkRetainPeriod - time.Second)
	if err := e.ing.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	retained("before the period is over")

	e.reopen()
	if err := e.ing.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if len(e.index.refs()) != refs || e.bucket.puts.Load() != puts {
		t.Fatalf("flushed again after a restart: %d refs, %d puts; want %d, %d", len(e.index.refs()), e.bucket.puts.Load(), refs, puts)
	}
	retained("after a restart")

	e.clock.Advance(cfg.ChunkRetainPeriod)
	if err := e.ing.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := e.query(model.LogSelect{Direction: model.Forward}); len(got) != 0 {
		t.Fatalf("%d entries still in the ingester after the retain period", len(got))
	}
	for _, p := range []byte{prefixWAL, prefixBlockMeta, prefixBlockData, prefixCut} {
		if n := e.countKeys(p); n != 0 {
			t.Errorf("%d keys with prefix %#x left in Badger after the retain period", n, p)
		}
	}
	sameEntries(t, sortEntries(e.bucketEntries(), model.Forward), pushed)
}

// A drop of flushed chunks that fails part way (some deletion batches
// committed, one failed) is finished by the next flush round: the chunks
// dropped already are skipped, the rest dropped, nothing flushed twice.
func TestFlushDropFailingPartWayIsFinishedLater(t *testing.T) {
	cfg := testConfig()
	cfg.BlockSize, cfg.ChunkTargetSize = 1<<10, 1<<10
	e := newEnv(t, cfg)
	pushed := sortEntries(flatten(mixedPushes(e, 200, 5, 20, 0)), model.Forward)
	if limit, _ := txnLimits(e.ing.db.Opts()); 2*e.countKeys(prefixBlockData) <= limit {
		t.Fatalf("%d blocks: too few for several deletion batches of %d keys", e.countKeys(prefixBlockData), limit)
	}
	var calls int
	e.ing.dropFault = func() error {
		if calls++; calls == 2 {
			return errors.New("disk gone")
		}
		return nil
	}
	ctx := context.Background()
	if err := e.ing.Flush(ctx); !errors.Is(err, ErrFlushIncomplete) {
		t.Fatalf("flush with a failing drop: %v, want ErrFlushIncomplete", err)
	}
	if n := e.countKeys(prefixCut); n == 0 {
		t.Fatal("no chunk left to drop after the failed batch")
	}
	refs, puts := len(e.index.refs()), e.bucket.puts.Load()
	if err := e.ing.Flush(ctx); err != nil {
		t.Fatalf("second flush: %v", err)
	}
	for _, p := range []byte{prefixWAL, prefixBlockMeta, prefixBlockData, prefixCut} {
		if n := e.countKeys(p); n != 0 {
			t.Errorf("%d keys with prefix %#x left in Badger", n, p)
		}
	}
	if got := e.query(model.LogSelect{Direction: model.Forward}); len(got) != 0 {
		t.Fatalf("%d entries still in the ingester", len(got))
	}
	if len(e.index.refs()) != refs || e.bucket.puts.Load() != puts {
		t.Fatalf("chunks stored again: %d refs, %d puts; want %d, %d", len(e.index.refs()), e.bucket.puts.Load(), refs, puts)
	}
	sameEntries(t, sortEntries(e.bucketEntries(), model.Forward), pushed)
}
