package cluster

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/index"
	"github.com/lode-logs/lode/backend/ring"
)

func TestBootstrapAddChunksAndRead(t *testing.T) {
	dir := t.TempDir()
	n := startNode(t, dir, testConfig(t))
	ctx := context.Background()
	entries := testEntries(40)
	if err := n.AddChunks(ctx, entries); err != nil {
		t.Fatal(err)
	}
	got := readAll(t, n)
	refs := 0
	for _, l := range got {
		if strings.HasPrefix(l, "  ") {
			refs++
		}
	}
	if refs != len(entries) {
		t.Fatalf("read back %d refs, want %d:\n%q", refs, len(entries), got)
	}
	e := entries[5] // spans periods 20 and 21
	for _, r := range [][2]int64{{20 * day, 21*day - 1}, {21 * day, 22 * day}} {
		refs, err := n.Chunks(ctx, e.Ref.Tenant, e.Ref.Fingerprint, r[0], r[1])
		if err != nil || len(refs) != 1 || refs[0] != e.Ref {
			t.Fatalf("Chunks in [%d, %d] = %+v, %v; want %+v", r[0], r[1], refs, err, e.Ref)
		}
	}

	t.Run("invalid entry is not proposed", func(t *testing.T) {
		before := value(t, n.metrics.applies)
		bad := entry("t1", "t1/chunks/bad", 10, 20, "app", "x")
		bad.Ref.Fingerprint++
		if err := n.AddChunks(ctx, []index.ChunkEntry{bad}); !errors.Is(err, index.ErrInvalidEntry) {
			t.Fatalf("AddChunks = %v, want ErrInvalidEntry", err)
		}
		if value(t, n.metrics.applies) != before {
			t.Fatal("an invalid entry was proposed")
		}
	})
	t.Run("adding again stores nothing new", func(t *testing.T) {
		before := dumpIndex(t, n)
		if err := n.AddChunks(ctx, entries[:10]); err != nil {
			t.Fatal(err)
		}
		requireEqual(t, "index after re-adding", dumpIndex(t, n), before)
	})
	t.Run("node id persisted", func(t *testing.T) {
		b, err := os.ReadFile(filepath.Join(dir, "raft", "node-id"))
		if err != nil || strings.TrimSpace(string(b)) != n.ID() || n.ID() == "" {
			t.Fatalf("node-id file = %q, %v; node id %q", b, err, n.ID())
		}
		if id, _ := n.Leader(); id != n.ID() {
			t.Fatalf("leader %q, want this node %q", id, n.ID())
		}
	})
}

func TestRestartKeepsStateWithoutReapplying(t *testing.T) {
	for _, withSnapshot := range []bool{false, true} {
		name := "log only"
		if withSnapshot {
			name = "snapshot and log"
		}
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := testConfig(t)
			n := startNode(t, dir, cfg)
			ctx := context.Background()
			entries := testEntries(60)
			for i := 0; i < len(entries); i += 10 {
				if err := n.AddChunks(ctx, entries[i:i+10]); err != nil {
					t.Fatal(err)
				}
				if withSnapshot && i == 20 {
					if err := n.raft.Snapshot().Error(); err != nil {
						t.Fatal(err)
					}
				}
			}
			want, wantIndex := readAll(t, n), dumpIndex(t, n)
			applied := n.fsm.lastApplied()
			if err := n.Close(); err != nil {
				t.Fatal(err)
			}

			n2 := startNode(t, dir, cfg)
			if n2.ID() != n.ID() {
				t.Fatalf("node id changed across restart: %q → %q", n.ID(), n2.ID())
			}
			requireEqual(t, "reads after restart", readAll(t, n2), want)
			requireEqual(t, "index after restart", dumpIndex(t, n2), wantIndex)
			if c := fsmCount(t, n2, "applied"); c != 0 {
				t.Fatalf("restart applied %v commands again", c)
			}
			if r := value(t, n2.metrics.fsmRestores); r != 0 {
				t.Fatalf("restart restored %v snapshots into a complete database", r)
			}
			if n2.fsm.lastApplied() != applied {
				t.Fatalf("state machine applied index %d after restart, want %d", n2.fsm.lastApplied(), applied)
			}
			if s := value(t, n2.metrics.fsmSkipped); s == 0 {
				t.Fatal("no replayed entry was skipped")
			}
			more := entry("t1", "t1/chunks/after-restart", 30*day, 30*day+5, "app", "new")
			if err := n2.AddChunks(ctx, []index.ChunkEntry{more}); err != nil {
				t.Fatal(err)
			}
			if c := fsmCount(t, n2, "applied"); c != 1 {
				t.Fatalf("%v commands applied after one AddChunks", c)
			}
		})
	}
}

// A state machine database that lost its recent writes (or was removed)
// is rebuilt from the latest snapshot and the log.
func TestRestartRebuildsLostStateMachine(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t)
	n := startNode(t, dir, cfg)
	ctx := context.Background()
	entries := testEntries(40)
	if err := n.AddChunks(ctx, entries[:20]); err != nil {
		t.Fatal(err)
	}
	if err := n.raft.Snapshot().Error(); err != nil {
		t.Fatal(err)
	}
	if err := n.AddChunks(ctx, entries[20:]); err != nil {
		t.Fatal(err)
	}
	want := dumpIndex(t, n)
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "raft", "fsm")); err != nil {
		t.Fatal(err)
	}
	n2 := startNode(t, dir, cfg)
	if r := value(t, n2.metrics.fsmRestores); r != 1 {
		t.Fatalf("%v snapshot restores, want 1", r)
	}
	requireEqual(t, "index rebuilt from snapshot and log", dumpIndex(t, n2), want)
}

func TestInterruptedRestoreIsRedone(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t)
	n := startNode(t, dir, cfg)
	if err := n.AddChunks(context.Background(), testEntries(20)); err != nil {
		t.Fatal(err)
	}
	if err := n.raft.Snapshot().Error(); err != nil {
		t.Fatal(err)
	}
	want := dumpIndex(t, n)
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if err := writeMarker(filepath.Join(dir, "raft", restoreMarker)); err != nil {
		t.Fatal(err)
	}
	n2 := startNode(t, dir, cfg)
	if r := value(t, n2.metrics.fsmRestores); r != 1 {
		t.Fatalf("%v snapshot restores, want 1", r)
	}
	requireEqual(t, "index after redone restore", dumpIndex(t, n2), want)
	if _, err := os.Stat(filepath.Join(dir, "raft", restoreMarker)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("restore marker left behind: %v", err)
	}
}

func TestSnapshotRestoreOnFreshNode(t *testing.T) {
	a := startNode(t, t.TempDir(), testConfig(t))
	ctx := context.Background()
	if err := a.AddChunks(ctx, testEntries(80)); err != nil {
		t.Fatal(err)
	}
	if err := a.SetState(ctx, ring.Active); err != nil {
		t.Fatal(err)
	}
	fut := a.raft.Snapshot()
	if err := fut.Error(); err != nil {
		t.Fatal(err)
	}
	meta, rc, err := fut.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()

	b := startNode(t, t.TempDir(), testConfig(t))
	if err := b.AddChunks(ctx, []index.ChunkEntry{entry("t9", "t9/chunks/gone", 5, 6, "app", "gone")}); err != nil {
		t.Fatal(err)
	}
	if err := b.raft.Restore(meta, rc, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	requireEqual(t, "index of the restored node", dumpIndex(t, b), dumpIndex(t, a))
	requireEqual(t, "reads of the restored node", readAll(t, b), readAll(t, a))
	if in, ok := b.Ring().Instance(a.ID()); !ok || in.State != ring.Active {
		t.Fatalf("ring of the restored node lacks %s: %+v", a.ID(), b.Ring().Instances())
	}
	more := entry("t1", "t1/chunks/after-restore", 30*day, 30*day+5, "app", "new")
	if err := b.AddChunks(ctx, []index.ChunkEntry{more}); err != nil {
		t.Fatalf("AddChunks after restore: %v", err)
	}
	if refs, err := b.Chunks(ctx, "t1", more.Ref.Fingerprint, 0, 100*day); err != nil || len(refs) != 1 {
		t.Fatalf("Chunks after restore = %v, %v", refs, err)
	}
}

func TestConcurrentAddChunksAreBatched(t *testing.T) {
	n := startNode(t, t.TempDir(), testConfig(t, "-cluster.apply-linger=5ms"))
	const workers, calls = 32, 20
	var wg sync.WaitGroup
	errs := make(chan error, workers*calls)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range calls {
				i := w*calls + c
				e := entry("t1", "t1/chunks/"+itoa(i), 40*day+int64(i), 40*day+int64(i)+10, "app", "batch", "worker", itoa(w))
				errs <- n.AddChunks(context.Background(), []index.ChunkEntry{e})
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	applies := value(t, n.metrics.applies)
	if applies >= workers*calls {
		t.Fatalf("%v raft applies for %d AddChunks calls: not batched", applies, workers*calls)
	}
	if got := value(t, n.metrics.refsCommitted); got != workers*calls {
		t.Fatalf("%v refs committed, want %d", got, workers*calls)
	}
	streams, err := n.Streams(context.Background(), "t1", 40*day, 41*day, []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, "app", "batch")})
	if err != nil || len(streams) != workers {
		t.Fatalf("Streams = %d streams, %v; want %d", len(streams), err, workers)
	}
	t.Logf("%d calls in %v raft applies", workers*calls, applies)
}
