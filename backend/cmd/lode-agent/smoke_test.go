package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lode-logs/lode/backend/internal/testutil/lodetest"
)

func TestSmoke(t *testing.T) {
	p := lodetest.Start(t, lodetest.Options{})
	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	os.MkdirAll(logs, 0o755)
	start := time.Now()
	f, _ := os.Create(filepath.Join(logs, "app.log"))
	for i := 0; i < 100; i++ {
		fmt.Fprintf(f, "%d hello\n", i)
	}
	f.Close()
	port := lodetest.FreePort(t)
	a := startAgent(t, dir, agentConfig(port, p.URL+"/loki/api/v1/push", filepath.Join(dir, "positions.yaml"), logs+"/*.log", ""))
	ok := waitFor(20*time.Second, func() bool { return len(countIDs(t, p, `{job="test"}`, start.Add(-time.Minute))) == 100 })
	if !ok {
		t.Fatalf("lines missing: %d\n%s", len(countIDs(t, p, `{job="test"}`, start.Add(-time.Minute))), a.log())
	}
}
