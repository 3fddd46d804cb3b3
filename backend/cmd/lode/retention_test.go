package main

import (
	"fmt"
	"io/fs"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lode-logs/lode/backend/internal/testutil/lodetest"
)

// TestRetentionDeletesOldDays stores a day of logs older than two days,
// then runs lode with two days of retention: that day disappears from
// queries, labels and the bucket, recent data stays, and the deletion
// holds across a restart.
func TestRetentionDeletesOldDays(t *testing.T) {
	keep := []string{"-validation.reject-old-samples.max-age=240h", "-ingester.chunk-retain-period=0s"}
	p := lodetest.Start(t, lodetest.Options{Args: keep})
	now := time.Now()
	old := now.Add(-5 * 24 * time.Hour)
	body := fmt.Sprintf(`{"streams":[
		{"stream":{"app":"svc"},"values":[["%d","old svc 1"],["%d","old svc 2"],["%d","new svc"]]},
		{"stream":{"app":"gone"},"values":[["%d","old gone"]]}]}`,
		old.UnixNano(), old.Add(time.Second).UnixNano(), now.Add(-time.Minute).UnixNano(), old.UnixNano())
	if r, err := p.PushJSON(body); err != nil || r.Status != http.StatusNoContent {
		t.Fatalf("push: %v %d %s", err, r.Status, r.Body)
	}
	lines := func(from, to time.Time) []string {
		t.Helper()
		got, err := p.Lines(`{app=~".+"}`, from, to, 100)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if r, err := p.Do("POST", "/flush", nil, nil); err != nil || r.Status != http.StatusNoContent {
		t.Fatalf("flush: %v %d %s", err, r.Status, r.Body)
	}
	// Without retention everything is kept (and the frontend caches the
	// old day's answer).
	if got := lines(old.Add(-time.Hour), now); len(got) != 4 || len(chunkObjects(t, p.DataDir)) != 3 {
		t.Fatalf("before retention: lines %q, objects %v", got, chunkObjects(t, p.DataDir))
	}

	p.Stop()
	p.Args = slices.Concat(keep, []string{"-store.retention=48h", "-retention.interval=100ms", "-retention.delete-delay=0s"})
	p.Restart()
	check := func(when string) {
		t.Helper()
		if got := lines(old.Add(-time.Hour), now); !slices.Equal(got, []string{"new svc"}) {
			t.Fatalf("%s: lines %q, want only the recent one", when, got)
		}
		r, err := p.Do("GET", "/loki/api/v1/label/app/values?start="+ns(old.Add(-time.Hour))+"&end="+ns(now), nil, nil)
		if err != nil || r.Status != 200 || strings.Contains(string(r.Body), "gone") || !strings.Contains(string(r.Body), "svc") {
			t.Fatalf("%s: label values: %v %d %s", when, err, r.Status, r.Body)
		}
	}
	// Past retention is out of answers at once.
	check("with retention")
	deadline := time.Now().Add(30 * time.Second)
	for len(chunkObjects(t, p.DataDir)) != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("old day's objects not deleted: %v; log:\n%s", chunkObjects(t, p.DataDir), p.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
	m, err := p.Metrics()
	if err != nil {
		t.Fatal(err)
	}
	if m["lode_retention_periods_dropped_total"] != 1 || m["lode_retention_objects_deleted_total"] != 2 {
		t.Fatalf("retention metrics: %v days dropped, %v objects deleted; want 1 and 2",
			m["lode_retention_periods_dropped_total"], m["lode_retention_objects_deleted_total"])
	}
	check("after the old day was deleted")

	// The index no longer holds the old day, even for a lode that keeps
	// everything.
	p.Stop()
	p.Args = keep
	p.Restart()
	if got := lines(old.Add(-time.Hour), old.Add(time.Hour)); len(got) != 0 {
		t.Fatalf("the old day is back after a restart: %q", got)
	}
	if got := lines(now.Add(-time.Hour), now); !slices.Equal(got, []string{"new svc"}) {
		t.Fatalf("after a restart: recent lines %q", got)
	}
}

// chunkObjects lists the files of the filesystem bucket.
func chunkObjects(t *testing.T, dataDir string) []string {
	t.Helper()
	var out []string
	root := filepath.Join(dataDir, "chunks")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		out = append(out, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
