package discovery

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	pmodel "github.com/prometheus/common/model"

	"github.com/lode-logs/lode/backend/agent/config"
)

func TestFileSD(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.yaml"), []byte("- targets: [localhost]\n  labels: {__path__: /x/*.log, app: a}\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "b.json"), []byte(`[{"labels": {"__path__": "/y.log"}}]`), 0o644)
	var mu sync.Mutex
	var last []Group
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go FileSD(config.FileSDConfig{Files: []string{filepath.Join(dir, "*.yaml"), filepath.Join(dir, "*.json")}}, nil).Run(ctx, func(gs []Group) {
		mu.Lock()
		last = gs
		mu.Unlock()
	})
	check := func(want int, cond func([]Group) bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			mu.Lock()
			ok := len(last) == want && cond(last)
			mu.Unlock()
			if ok {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("groups %+v", last)
	}
	check(2, func(gs []Group) bool {
		return gs[0].Labels["app"] == "a" && gs[0].Labels["__meta_filepath"] == mlv(filepath.Join(dir, "a.yaml"))
	})
	// A change is picked up; a broken file keeps its previous groups.
	os.WriteFile(filepath.Join(dir, "a.yaml"), []byte("- labels: {__path__: /x/*.log, app: changed}\n"), 0o644)
	check(2, func(gs []Group) bool { return gs[0].Labels["app"] == "changed" })
	os.WriteFile(filepath.Join(dir, "a.yaml"), []byte("- labels: [broken"), 0o644)
	time.Sleep(300 * time.Millisecond)
	check(2, func(gs []Group) bool { return gs[0].Labels["app"] == "changed" })
	os.Remove(filepath.Join(dir, "b.json"))
	check(1, func(gs []Group) bool { return true })
}

func mlv(s string) pmodel.LabelValue { return pmodel.LabelValue(s) }
