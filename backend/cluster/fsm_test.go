package cluster

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/lode-logs/lode/backend/index"
)

// propose applies a raw command through raft and returns the FSM's answer.
func propose(t *testing.T, n *Node, cmd []byte) any {
	t.Helper()
	fut := n.raft.Apply(cmd, 5*time.Second)
	if err := fut.Error(); err != nil {
		t.Fatalf("raft apply: %v", err)
	}
	return fut.Response()
}

func addChunksCommand(id RequestID, unixMs int64, entries ...index.ChunkEntry) []byte {
	var body []byte
	for i := range entries {
		body = appendChunkEntry(body, &entries[i])
	}
	return encodeAddChunks(id, unixMs, len(entries), [][]byte{body})
}

func hasKey(t *testing.T, n *Node, key []byte) bool {
	t.Helper()
	err := n.db.View(func(txn *badger.Txn) error {
		_, err := txn.Get(key)
		return err
	})
	if err != nil && !errors.Is(err, badger.ErrKeyNotFound) {
		t.Fatal(err)
	}
	return err == nil
}

func TestDuplicateRequestIDAppliedOnce(t *testing.T) {
	n := startNode(t, t.TempDir(), testConfig(t))
	t0 := time.Now().UnixMilli()
	ttl := requestIDTTL.Milliseconds()
	idA, idB, idC := RequestID{1}, RequestID{2}, RequestID{3}
	eA := entry("t1", "t1/chunks/a", 10, 20, "app", "a")
	eB := entry("t1", "t1/chunks/b", 10, 20, "app", "b")

	steps := []struct {
		name      string
		cmd       []byte
		duplicate bool
	}{
		{"first proposal", addChunksCommand(idA, t0, eA), false},
		{"same id again", addChunksCommand(idA, t0, eA), true},
		{"same id, other payload, later", addChunksCommand(idA, t0+ttl-1, eB), true},
		{"other id", addChunksCommand(idB, t0+1, eB), false},
		// FSM time moves past A's window: A is forgotten (and pruned).
		{"time passes", addChunksCommand(idC, t0+ttl+1, eB), false},
		{"same id after its window", addChunksCommand(idA, t0+ttl+2, eA), false},
		// A proposer with a late clock does not move FSM time back.
		{"late clock, remembered id", addChunksCommand(idA, t0, eA), true},
	}
	applied, dups := 0., 0.
	for _, s := range steps {
		resp, ok := propose(t, n, s.cmd).(*applyResponse)
		if !ok || resp.duplicate != s.duplicate {
			t.Fatalf("%s: response %#v, want duplicate=%v", s.name, resp, s.duplicate)
		}
		if s.duplicate {
			dups++
		} else {
			applied++
		}
		if a, d := fsmCount(t, n, "applied"), fsmCount(t, n, "duplicate"); a != applied || d != dups {
			t.Fatalf("%s: applied %v duplicate %v, want %v %v", s.name, a, d, applied, dups)
		}
		if s.name == "time passes" && hasKey(t, n, expiryKey(t0, idA)) {
			t.Fatal("expired request id not pruned")
		}
	}
}

func TestDuplicateIgnoresPayload(t *testing.T) {
	n := startNode(t, t.TempDir(), testConfig(t))
	id := RequestID{9}
	now := time.Now().UnixMilli()
	first := entry("t1", "t1/chunks/first", 10, 20, "app", "first")
	second := entry("t1", "t1/chunks/second", 10, 20, "app", "second")
	propose(t, n, addChunksCommand(id, now, first))
	propose(t, n, addChunksCommand(id, now, second))
	refs, err := n.Chunks(context.Background(), "t1", second.Ref.Fingerprint, 0, 100)
	if err != nil || len(refs) != 0 {
		t.Fatalf("the duplicate command was applied: %v, %v", refs, err)
	}
}

func TestFSMRejectsBadCommands(t *testing.T) {
	n := startNode(t, t.TempDir(), testConfig(t))
	now := time.Now().UnixMilli()
	bad := entry("t1", "t1/chunks/bad", 30, 20, "app", "a")
	good := addChunksCommand(RequestID{7}, now, entry("t1", "t1/chunks/ok", 10, 20, "app", "ok"))
	for _, tc := range []struct {
		name string
		cmd  []byte
	}{
		{"empty", nil},
		{"short header", []byte{cmdAddChunks, 1, 2}},
		{"unknown type", append([]byte{0x7f}, good[1:]...)},
		{"truncated body", good[:len(good)-3]},
		{"trailing bytes", append(append([]byte(nil), good...), 0)},
		{"invalid entry", addChunksCommand(RequestID{8}, now, bad)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := dumpIndex(t, n)
			err, ok := propose(t, n, tc.cmd).(error)
			if !ok || !errors.Is(err, ErrRejected) {
				t.Fatalf("response %v, want ErrRejected", err)
			}
			requireEqual(t, "index after a rejected command", dumpIndex(t, n), before)
		})
	}
	if resp, ok := propose(t, n, good).(*applyResponse); !ok || resp.duplicate {
		t.Fatalf("valid command after rejections: %#v", resp)
	}
	if r := fsmCount(t, n, "rejected"); r != 6 {
		t.Fatalf("%v rejected commands counted, want 6", r)
	}
}

// One command larger than a Badger transaction is applied through several.
func TestLargeCommandSplitsTransaction(t *testing.T) {
	n := startNode(t, t.TempDir(), testConfig(t, "-cluster.apply-batch-size=16384"))
	var entries []index.ChunkEntry
	for i := range 12000 {
		lbls := []string{"app", "big", "pod", fmt.Sprint("pod-", i)}
		for j := range 10 {
			lbls = append(lbls, fmt.Sprint("label_", j), fmt.Sprint("value-", i%(j+3)))
		}
		entries = append(entries, entry("t1", fmt.Sprint("t1/chunks/", i), 50*day, 51*day+5, lbls...))
	}
	if err := n.AddChunks(context.Background(), entries); err != nil {
		t.Fatal(err)
	}
	if v := value(t, n.metrics.applies); v != 1 {
		t.Fatalf("%v raft commands, want 1", v)
	}
	if v := value(t, n.metrics.fsmEarlyCommit); v == 0 {
		t.Fatal("the command fit one transaction; the test does not exercise splitting")
	}
	for _, p := range []int64{50 * day, 51 * day} {
		vals, err := n.LabelValues(context.Background(), "t1", "pod", p, p+day-1, nil)
		if err != nil || len(vals) != len(entries) {
			t.Fatalf("pods in period %d = %d, %v; want %d", p/day, len(vals), err, len(entries))
		}
	}
}
