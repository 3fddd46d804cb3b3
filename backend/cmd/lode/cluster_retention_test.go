package main

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"
)

// TestClusterRetention runs three nodes on MinIO with two days of
// retention: the leader drops the old day, through Raft, and deletes
// its one chunk object; every replica's index loses the day, as nodes
// restarted without retention show. (The leader may drop the day more
// than once: a replica that flushes the same chunk after a drop adds its
// ref again, and the next pass drops it again.)
func TestClusterRetention(t *testing.T) {
	c, m := startTestCluster(t, 3, 0, "-validation.reject-old-samples.max-age=240h", "-ingester.chunk-retain-period=0s",
		"-store.retention=48h", "-retention.interval=200ms", "-retention.delete-delay=0s")
	nodes := c.Nodes()
	now := time.Now()
	old := now.Add(-5 * 24 * time.Hour)
	body := fmt.Sprintf(`{"streams":[{"stream":{"app":"svc"},"values":[["%d","old 1"],["%d","old 2"],["%d","new"]]}]}`,
		old.UnixNano(), old.Add(time.Second).UnixNano(), now.Add(-time.Minute).UnixNano())
	if r, err := nodes[1].PushJSON(body); err != nil || r.Status != http.StatusNoContent {
		t.Fatalf("push: %v %d %s", err, r.Status, r.Body)
	}
	// A push is acknowledged by two replicas; the flush waits for the third.
	c.WaitFor(30*time.Second, "all three replicas hold the push", func() error {
		for _, n := range nodes {
			ms, err := n.Metrics()
			if err != nil {
				return err
			}
			if got := ms["lode_ingester_entries_appended_total"]; got != 3 {
				return fmt.Errorf("%s appended %v entries, want 3", n.ID, got)
			}
		}
		return nil
	})
	for n, err := range flushAll(nodes, 30*time.Second) {
		if err != nil {
			t.Fatalf("flush %s: %v", n, err)
		}
	}
	// Three replicas cut identical chunks: one object per chunk, and the
	// old one goes.
	c.WaitFor(30*time.Second, "old day's chunk deleted", func() error {
		if objects := bucketObjects(t, m); objects != 1 {
			return fmt.Errorf("%d chunk objects, want the recent one", objects)
		}
		return nil
	})
	// Only a leader runs the pass (leadership may move under load, so the
	// count is checked over the whole cluster).
	var drops float64
	for _, n := range nodes {
		ms, err := n.Metrics()
		if err != nil {
			t.Fatal(err)
		}
		drops += ms["lode_retention_periods_dropped_total"]
	}
	if drops == 0 {
		t.Fatal("no node counted a dropped day")
	}

	for _, n := range nodes {
		n.Stop()
		n.Args = append(n.Args, "-store.retention=0")
	}
	c.RestartAll()
	for _, n := range nodes {
		got, err := n.Lines(`{app="svc"}`, old.Add(-time.Hour), now, 100)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, []string{"new"}) {
			t.Fatalf("%s without retention: lines %q, want the old day gone from its replica", n.ID, got)
		}
	}
}
