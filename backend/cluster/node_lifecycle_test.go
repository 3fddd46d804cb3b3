package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lode-logs/lode/backend/index"
)

// freeAddr returns a loopback address nobody listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

func TestJoiningNodeIsNotLeader(t *testing.T) {
	cfg := testConfig(t, "-cluster.join="+freeAddr(t))
	n, err := New(cfg, Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	time.Sleep(200 * time.Millisecond) // several election timeouts
	if n.IsLeader() {
		t.Fatal("a node waiting to join bootstrapped itself")
	}
	err = n.AddChunks(context.Background(), []index.ChunkEntry{entry("t1", "t1/chunks/a", 1, 2, "app", "a")})
	if !errors.Is(err, ErrNotLeader) {
		t.Fatalf("AddChunks = %v, want ErrNotLeader", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := n.WaitReady(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitReady = %v, want a deadline error", err)
	}
}

func TestCloseFailsWritesAndIsIdempotent(t *testing.T) {
	n := startNode(t, t.TempDir(), testConfig(t))
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 25 {
				e := entry("t1", fmt.Sprintf("t1/chunks/%d-%d", w, i), 1, 2, "app", "a")
				errs <- n.AddChunks(context.Background(), []index.ChunkEntry{e})
			}
		}()
	}
	time.Sleep(5 * time.Millisecond)
	if err := n.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	wg.Wait() // no writer may hang
	close(errs)
	for err := range errs {
		if err != nil && !errors.Is(err, ErrClosed) && !errors.Is(err, ErrNotLeader) {
			t.Fatalf("write during Close: %v", err)
		}
	}
	if err := n.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	err := n.AddChunks(context.Background(), []index.ChunkEntry{entry("t1", "t1/chunks/x", 1, 2, "app", "a")})
	if !errors.Is(err, ErrClosed) && !errors.Is(err, ErrNotLeader) {
		t.Fatalf("AddChunks after Close = %v", err)
	}
}

func TestLargeCallIsSplitIntoCommands(t *testing.T) {
	n := startNode(t, t.TempDir(), testConfig(t, "-cluster.apply-batch-size=100"))
	entries := testEntries(250)
	if err := n.AddChunks(context.Background(), entries); err != nil {
		t.Fatal(err)
	}
	if v := value(t, n.metrics.applies); v != 3 {
		t.Fatalf("%v commands for 250 refs with batches of 100, want 3", v)
	}
	if v := value(t, n.metrics.refsCommitted); v != 250 {
		t.Fatalf("%v refs committed, want 250", v)
	}
}

func TestCanceledAddChunks(t *testing.T) {
	n := startNode(t, t.TempDir(), testConfig(t))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := n.AddChunks(ctx, testEntries(4))
	if err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("AddChunks with a canceled context = %v", err)
	}
}

func TestNodeIDMismatch(t *testing.T) {
	dir := t.TempDir()
	n := startNode(t, dir, testConfig(t, "-cluster.node-id=alpha"))
	if n.ID() != "alpha" {
		t.Fatalf("id %q", n.ID())
	}
	_ = n.Close()
	if _, err := New(testConfig(t, "-cluster.node-id=beta"), Options{DataDir: dir}); !errors.Is(err, ErrNodeIDMismatch) {
		t.Fatalf("New with another id = %v, want ErrNodeIDMismatch", err)
	}
	n2 := startNode(t, dir, testConfig(t))
	if n2.ID() != "alpha" {
		t.Fatalf("persisted id not used: %q", n2.ID())
	}
}

func TestStateMachineWithoutItsLog(t *testing.T) {
	dir := t.TempDir()
	n := startNode(t, dir, testConfig(t))
	if err := n.AddChunks(context.Background(), testEntries(8)); err != nil {
		t.Fatal(err)
	}
	_ = n.Close()
	for _, d := range []string{"wal", "snapshots"} {
		if err := os.RemoveAll(filepath.Join(dir, "raft", d)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := New(testConfig(t), Options{DataDir: dir}); !errors.Is(err, ErrStateMismatch) {
		t.Fatalf("New = %v, want ErrStateMismatch", err)
	}
}

func TestMetricsRegisteredAndReleased(t *testing.T) {
	reg := prometheus.NewRegistry()
	dir := t.TempDir()
	for range 2 { // the second start registers the same names again
		n, err := New(testConfig(t), Options{DataDir: dir, Registerer: reg})
		if err != nil {
			t.Fatal(err)
		}
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		names := map[string]bool{}
		for _, mf := range mfs {
			names[mf.GetName()] = true
		}
		for _, want := range []string{"lode_cluster_raft_state", "lode_cluster_raft_term", "lode_cluster_raft_last_applied_index",
			"lode_cluster_apply_duration_seconds", "lode_cluster_apply_batch_refs", "lode_cluster_fsm_commands_total"} {
			if !names[want] {
				t.Errorf("metric %s not registered", want)
			}
		}
		if err := n.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
