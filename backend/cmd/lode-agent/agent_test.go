package main

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/lode-logs/lode/backend/internal/testutil/lodetest"
)

// soak scales a test duration up when LODE_SOAK=1.
func soak(short, long time.Duration) time.Duration {
	if os.Getenv("LODE_SOAK") == "1" {
		return long
	}
	return short
}

func setup(t *testing.T) (dir, logs string, port int) {
	dir = t.TempDir()
	logs = filepath.Join(dir, "logs")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir, logs, lodetest.FreePort(t)
}

// TestRotationRenameNoLossNoDup writes 10,000 lines/s into a file rotated
// by rename+create every 2 s; every line must arrive exactly once.
func TestRotationRenameNoLossNoDup(t *testing.T) {
	p := lodetest.Start(t, lodetest.Options{})
	dir, logs, port := setup(t)
	start := time.Now()
	w := newWriter(filepath.Join(logs, "app.log"), 10000)
	a := startAgent(t, dir, agentConfig(port, p.URL+"/loki/api/v1/push", filepath.Join(dir, "positions.yaml"), logs+"/*.log", ""))
	d := soak(10*time.Second, 60*time.Second)
	go w.run(d)
	for i := 1; ; i++ {
		select {
		case <-w.done:
		case <-time.After(2 * time.Second):
			w.rotate("." + strconv.Itoa(i))
			continue
		}
		break
	}
	w.close()
	n := w.written()
	var lost, dup int
	waitFor(60*time.Second, func() bool {
		lost, dup = lossDup(countIDs(t, p, `{job="test"}`, start.Add(-time.Minute)), n)
		return lost == 0
	})
	t.Logf("written %d lines in %v: lost %d, duplicated %d", n, d, lost, dup)
	if lost != 0 || dup != 0 {
		t.Fatalf("lost %d, duplicated %d of %d\n%s", lost, dup, n, a.log())
	}
}

// TestCopyTruncate rotates by copy and truncate every 2 s (the writer
// pauses during the copy): loss is limited to lines written after the
// agent's last read before the truncation.
func TestCopyTruncate(t *testing.T) {
	s := newSink(t)
	dir, logs, port := setup(t)
	w := newWriter(filepath.Join(logs, "app.log"), 2000)
	a := startAgent(t, dir, agentConfig(port, s.url(), filepath.Join(dir, "positions.yaml"), logs+"/*.log", ""))
	go w.run(soak(8*time.Second, 60*time.Second))
	rotations := 0
	for i := 1; ; i++ {
		select {
		case <-w.done:
		case <-time.After(2 * time.Second):
			w.copyTruncate("." + strconv.Itoa(i))
			rotations++
			continue
		}
		break
	}
	w.close()
	n := w.written()
	var lost, dup int
	waitFor(8*time.Second, func() bool {
		lost, dup = lossDup(s.ids("app.log"), n)
		return lost == 0
	})
	t.Logf("copytruncate: written %d, %d rotations: lost %d, duplicated %d", n, rotations, lost, dup)
	// The window: what was written after the last poll before a truncation
	// (poll 50 ms at 2,000 lines/s is ~100 lines per rotation).
	if lost > rotations*200 || dup != 0 {
		t.Fatalf("lost %d, duplicated %d of %d\n%s", lost, dup, n, a.log())
	}
}

// TestKill9 kills the agent with SIGKILL every 2 s while lines are
// written; nothing is lost and duplicates stay within the re-sent window.
func TestKill9(t *testing.T) {
	p := lodetest.Start(t, lodetest.Options{})
	dir, logs, port := setup(t)
	start := time.Now()
	w := newWriter(filepath.Join(logs, "app.log"), 2000)
	a := startAgent(t, dir, agentConfig(port, p.URL+"/loki/api/v1/push", filepath.Join(dir, "positions.yaml"), logs+"/*.log", ""))
	go w.run(soak(10*time.Second, 60*time.Second))
	kills := 0
	for {
		select {
		case <-w.done:
		case <-time.After(2 * time.Second):
			a.signal(syscall.SIGKILL)
			kills++
			a.start()
			continue
		}
		break
	}
	w.close()
	n := w.written()
	var lost, dup int
	waitFor(60*time.Second, func() bool {
		lost, dup = lossDup(countIDs(t, p, `{job="test"}`, start.Add(-time.Minute)), n)
		return lost == 0
	})
	t.Logf("kill -9 x%d: written %d, lost %d, duplicated %d", kills, n, lost, dup)
	// Re-sent per kill: at most what was acknowledged in one positions sync
	// period (200 ms) plus a batch in flight: well under one second of lines.
	if lost != 0 || dup > kills*2000 {
		t.Fatalf("lost %d, duplicated %d of %d after %d kills\n%s", lost, dup, n, kills, a.log())
	}
}

// TestServerDown stops lode while lines are written and starts it again:
// nothing is lost.
func TestServerDown(t *testing.T) {
	p := lodetest.Start(t, lodetest.Options{})
	dir, logs, port := setup(t)
	start := time.Now()
	w := newWriter(filepath.Join(logs, "app.log"), 1000)
	a := startAgent(t, dir, agentConfig(port, p.URL+"/loki/api/v1/push", filepath.Join(dir, "positions.yaml"), logs+"/*.log", ""))
	down := soak(15*time.Second, 60*time.Second)
	go w.run(down + 6*time.Second)
	time.Sleep(3 * time.Second)
	p.Kill()
	time.Sleep(down)
	p.Restart()
	<-w.done
	w.close()
	n := w.written()
	var lost, dup int
	waitFor(60*time.Second, func() bool {
		lost, dup = lossDup(countIDs(t, p, `{job="test"}`, start.Add(-time.Minute)), n)
		return lost == 0
	})
	t.Logf("server down %v: written %d, lost %d, duplicated %d", down, n, lost, dup)
	if lost != 0 {
		t.Fatalf("lost %d of %d\n%s", lost, n, a.log())
	}
}

// TestBackpressure makes the server answer 503 with a tiny buffer: the
// agent stops reading instead of dropping, then delivers everything.
func TestBackpressure(t *testing.T) {
	s := newSink(t)
	s.setStatus(http.StatusServiceUnavailable)
	dir, logs, port := setup(t)
	const n = 50000 // ~4.5 MB of random text, far above the 64 KiB + 256 KiB buffer
	rnd := rand.New(rand.NewPCG(1, 2))
	f, _ := os.Create(filepath.Join(logs, "app.log"))
	size := 0
	for i := 0; i < n; i++ {
		var b [40]byte
		for j := range b {
			b[j] = byte(rnd.Uint32())
		}
		k, _ := fmt.Fprintf(f, "%d %x\n", i, b)
		size += k
	}
	f.Close()
	extra := "buffer:\n  memory_size: 64KiB\n  max_size: 256KiB\n  directory: " + filepath.Join(dir, "buf") + "\n"
	a := startAgent(t, dir, agentConfig(port, s.url(), filepath.Join(dir, "positions.yaml"), logs+"/*.log", extra),
		"-client.batch-size-bytes=64KiB")
	time.Sleep(3 * time.Second)
	read := a.metric(port, "lode_agent_read_bytes_total")
	if read <= 0 || read > float64(size)/2 {
		t.Fatalf("read %v bytes of %d while the server refused everything: no backpressure\n%s", read, size, a.log())
	}
	if d := a.metric(port, "lode_agent_dropped_entries_total"); d != 0 {
		t.Fatalf("dropped %v entries", d)
	}
	s.setStatus(0)
	var lost, dup int
	waitFor(30*time.Second, func() bool {
		lost, dup = lossDup(s.ids("app.log"), n)
		return lost == 0
	})
	t.Logf("backpressure: read %v of %d bytes while refused; then lost %d, duplicated %d", read, size, lost, dup)
	if lost != 0 || dup != 0 {
		t.Fatalf("lost %d, duplicated %d\n%s", lost, dup, a.log())
	}
}

// TestRejectedStream answers 400 for one stream of each batch: only that
// stream's lines are dropped, and they are counted.
func TestRejectedStream(t *testing.T) {
	s := newSink(t)
	s.reject = "bad.log"
	dir, logs, port := setup(t)
	const n = 3000
	for _, name := range []string{"good.log", "bad.log"} {
		f, _ := os.Create(filepath.Join(logs, name))
		for i := 0; i < n; i++ {
			fmt.Fprintf(f, "%d %s\n", i, name)
		}
		f.Close()
	}
	a := startAgent(t, dir, agentConfig(port, s.url(), filepath.Join(dir, "positions.yaml"), logs+"/*.log", ""))
	ok := waitFor(20*time.Second, func() bool {
		return a.metric(port, "lode_agent_dropped_entries_total", `reason="invalid"`) == n && len(s.ids("good.log")) == n
	})
	lost, dup := lossDup(s.ids("good.log"), n)
	if !ok || lost != 0 || dup != 0 || len(s.all("bad.log")) != 0 {
		t.Fatalf("good lost %d dup %d, bad received %d, dropped metric %v\n%s", lost, dup, len(s.all("bad.log")),
			a.metric(port, "lode_agent_dropped_entries_total", `reason="invalid"`), a.log())
	}
}
