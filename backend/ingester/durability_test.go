package ingester

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lode-logs/lode/backend/model"
)

// mixedPushes pushes n batches over streams, returning what was pushed.
func mixedPushes(e *env, batches, streams, perStream int, startBatch int) []model.Stream {
	var all []model.Stream
	for b := startBatch; b < startBatch+batches; b++ {
		var req []model.Stream
		for s := 0; s < streams; s++ {
			var es []model.Entry
			for n := 0; n < perStream; n++ {
				ts := t0 + int64(b*perStream+n)*int64(time.Millisecond)
				es = append(es, ent(ts, fmt.Sprintf("level=info stream=%d batch=%d n=%d msg=\"request served\" took=%dms", s, b, n, (b*7+n)%97)))
			}
			req = append(req, mkStream(fmt.Sprintf("app=svc%d,env=prod", s), es...))
		}
		e.push(req...)
		all = append(all, req...)
	}
	return all
}

func TestDurabilityAcrossRestart(t *testing.T) {
	cases := []struct {
		name       string
		blockSize  int
		chunkSize  int
		wantBlocks bool
	}{
		{"heads only", 1 << 20, 1 << 20, false},
		{"heads blocks and cut chunks", 2 << 10, 8 << 10, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.BlockSize, cfg.ChunkTargetSize = c.blockSize, c.chunkSize
			e := newEnv(t, cfg)
			pushed := mixedPushes(e, 30, 5, 20, 0)
			if got := e.countKeys(prefixBlockMeta) > 0; got != c.wantBlocks {
				t.Fatalf("blocks in Badger: %v, want %v", got, c.wantBlocks)
			}
			backlog := e.ing.queue.len()
			e.reopen() // Close without flushing, then replay.
			if got := e.ing.queue.len(); got != backlog {
				t.Fatalf("flush queue after replay: %d chunks, want %d", got, backlog)
			}
			if n := e.ing.streams.len(); n != 5 {
				t.Fatalf("streams after replay: %d, want 5", n)
			}
			sameEntries(t, e.query(model.LogSelect{Direction: model.Forward}), sortEntries(flatten(pushed), model.Forward))

			// The replayed ingester keeps working: push more, restart, flush.
			pushed = append(pushed, mixedPushes(e, 10, 5, 20, 30)...)
			e.reopen()
			sameEntries(t, e.query(model.LogSelect{Direction: model.Backward}), sortEntries(flatten(pushed), model.Backward))
			if err := e.ing.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			sameEntries(t, sortEntries(e.bucketEntries(), model.Forward), sortEntries(flatten(pushed), model.Forward))
		})
	}
}

// TestCrashImageReplays copies the Badger directory of a running ingester,
// which is what a machine finds on disk after the process is killed (the
// page cache holds every write Badger made through its mapped files), and
// replays the copy.
func TestCrashImageReplays(t *testing.T) {
	cfg := testConfig()
	cfg.BlockSize, cfg.ChunkTargetSize = 2<<10, 8<<10
	e := newEnv(t, cfg)
	pushed := mixedPushes(e, 40, 4, 25, 0)

	crash := filepath.Join(t.TempDir(), "crash")
	copyDir(t, e.dir, crash)
	e2 := &env{t: t, cfg: cfg, dir: crash, bucket: e.bucket, index: &fakeIndex{}, clock: e.clock}
	e2.open()
	defer e2.ing.Close()
	sameEntries(t, e2.query(model.LogSelect{Direction: model.Forward}), sortEntries(flatten(pushed), model.Forward))
}

func TestPushRefusedWhenDiskFull(t *testing.T) {
	cfg := testConfig()
	cfg.MinFreeDiskSpace = 1 << 62 // more than any disk has
	e := newEnv(t, cfg)
	err := e.ing.Push(context.Background(), testTenant, []model.Stream{mkStream("app=a", ent(t0, "x"))})
	if !errors.Is(err, ErrDiskFull) || !errors.Is(err, ErrStorage) {
		t.Fatalf("Push: %v, want ErrDiskFull and ErrStorage", err)
	}
	if got := e.query(model.LogSelect{Direction: model.Forward}); len(got) != 0 {
		t.Fatalf("refused push left %d entries", len(got))
	}
	if e.metric("lode_ingester_push_failures_total") != 1 {
		t.Fatal("push failure not counted")
	}
}

func TestPushFailsWhenBadgerFails(t *testing.T) {
	e := newEnv(t, testConfig())
	e.push(mkStream("app=a", ent(t0, "before")))
	// Close Badger under the ingester: every write now fails.
	if err := e.ing.db.Close(); err != nil {
		t.Fatal(err)
	}
	err := e.ing.Push(context.Background(), testTenant, []model.Stream{mkStream("app=a", ent(t0+1, "after"))})
	if !errors.Is(err, ErrStorage) {
		t.Fatalf("Push on a failed buffer: %v, want ErrStorage", err)
	}
	// Nothing of the failed push reached the head.
	s := e.ing.streams.all(testTenant)[0]
	s.mu.Lock()
	n := s.head.entries
	s.mu.Unlock()
	if n != 1 {
		t.Fatalf("head holds %d entries, want 1", n)
	}
}

func TestClosedIngester(t *testing.T) {
	e := newEnv(t, testConfig())
	if err := e.ing.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := e.ing.Push(ctx, testTenant, []model.Stream{mkStream("app=a", ent(t0, "x"))}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Push after Close: %v", err)
	}
	if _, err := e.ing.Query(ctx, model.LogSelect{Tenant: testTenant}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Query after Close: %v", err)
	}
	if err := e.ing.Flush(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("Flush after Close: %v", err)
	}
}

func TestNewValidates(t *testing.T) {
	cfg := testConfig()
	cfg.BlockSize = 0
	_, err := New(cfg, Deps{Dir: t.TempDir(), Bucket: &flakyBucket{}, Index: &fakeIndex{},
		Registerer: prometheus.NewRegistry(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err == nil {
		t.Fatal("New accepted an invalid config")
	}
	if _, err := New(testConfig(), Deps{Dir: t.TempDir()}); err == nil {
		t.Fatal("New accepted missing Bucket and Index")
	}
}

// TestLargePushSplitsRecords pushes one stream's 3 MiB in one call: it is
// written as several WAL records (a Badger value must fit a value log
// file) and all of it is served and replayed.
func TestLargePushSplitsRecords(t *testing.T) {
	cfg := testConfig()
	cfg.BlockSize = 8 << 20 // keep everything in the head
	e := newEnv(t, cfg)
	var es []model.Entry
	for k := 0; k < 3000; k++ {
		es = append(es, ent(t0+int64(k), fmt.Sprintf("%04d %s", k, strings.Repeat("x", 1000))))
	}
	s := mkStream("app=big", es...)
	e.push(s)
	if n := e.countKeys(prefixWAL); n < 3 {
		t.Fatalf("%d WAL records for 3 MiB, want at least 3", n)
	}
	want := sortEntries(flatten([]model.Stream{s}), model.Forward)
	sameEntries(t, e.query(model.LogSelect{Direction: model.Forward}), want)
	e.reopen()
	sameEntries(t, e.query(model.LogSelect{Direction: model.Forward}), want)
}

// TestReplayAfterInterruptedDrop replays a buffer in which a flushed
// chunk's blocks were deleted but not its cut record (a crash during the
// drop): the stale record goes, nothing else changes.
func TestReplayAfterInterruptedDrop(t *testing.T) {
	cfg := testConfig()
	e := newEnv(t, cfg)
	e.push(mkStream("app=a", ent(t0, "flushed")))
	e.bucket.failing.Store(true)
	if err := e.ing.Flush(context.Background()); !errors.Is(err, ErrFlushIncomplete) {
		t.Fatalf("Flush: %v", err)
	}
	c := e.ing.queue.items[0]
	var keys [][]byte
	for _, b := range c.blocks {
		keys = append(keys, blockMetaKey(c.s.sid, c.cseq, b.bseq), blockDataKey(c.s.sid, c.cseq, b.bseq))
	}
	if err := e.ing.deleteKeys(keys); err != nil {
		t.Fatal(err)
	}
	e.push(mkStream("app=a", ent(t0+1, "buffered")))
	e.reopen()
	if n := e.countKeys(prefixCut); n != 0 {
		t.Fatalf("%d cut records after replay, want 0", n)
	}
	if n := e.ing.queue.len(); n != 0 {
		t.Fatalf("%d chunks queued after replay, want 0", n)
	}
	got := e.query(model.LogSelect{Direction: model.Forward})
	if len(got) != 1 || string(got[0].Line) != "buffered" {
		t.Fatalf("after replay: %v", got)
	}
}
