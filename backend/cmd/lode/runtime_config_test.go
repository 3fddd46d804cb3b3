package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lode-logs/lode/backend/internal/testutil/lodetest"
)

// TestRuntimeConfigReload changes a tenant's limit while lode runs: a line
// the runtime file's max_line_size refuses is accepted once the file
// allows it; a broken file leaves the limits in force and says so.
func TestRuntimeConfigReload(t *testing.T) {
	file := filepath.Join(t.TempDir(), "runtime.yaml")
	write := func(doc string) {
		t.Helper()
		if err := os.WriteFile(file, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("overrides:\n  fake:\n    max_line_size: 10\n")
	p := lodetest.Start(t, lodetest.Options{Args: []string{"-runtime-config.file=" + file, "-runtime-config.reload-period=50ms"}})
	push := func() lodetest.Response {
		t.Helper()
		r, err := p.PushJSON(fmt.Sprintf(`{"streams":[{"stream":{"app":"a"},"values":[["%d","twenty bytes of line"]]}]}`, time.Now().UnixNano()))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := push(); r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), "Max entry size '10' bytes exceeded") {
		t.Fatalf("line over the runtime limit: %d %s", r.Status, r.Body)
	}
	write("overrides:\n  fake:\n    max_line_size: 1KiB\n")
	deadline := time.Now().Add(20 * time.Second)
	for push().Status != http.StatusNoContent {
		if time.Now().After(deadline) {
			t.Fatalf("the raised limit was not applied; log:\n%s", p.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
	write("overrides:\n  fake:\n    max_line_size: -1\n")
	deadline = time.Now().Add(20 * time.Second)
	for {
		m, err := p.Metrics()
		if err != nil {
			t.Fatal(err)
		}
		if m["lode_runtime_config_last_reload_successful"] == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the broken file was not reported")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if r := push(); r.Status != http.StatusNoContent {
		t.Fatalf("with a broken file, the limits in force changed: %d %s", r.Status, r.Body)
	}
}
