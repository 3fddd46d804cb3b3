package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// procCPU returns the user+system CPU time of pid.
func procCPU(t *testing.T, pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b)[strings.LastIndexByte(string(b), ')')+2:])
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond // USER_HZ = 100
}

func procRSS(t *testing.T, pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			return strings.TrimSpace(strings.TrimPrefix(l, "VmRSS:"))
		}
	}
	return "?"
}

// TestMeasure reports throughput, CPU per 10k lines/s and RSS with 1,000
// files. Run with LODE_MEASURE=1.
func TestMeasure(t *testing.T) {
	if os.Getenv("LODE_MEASURE") != "1" {
		t.Skip("set LODE_MEASURE=1")
	}
	t.Run("throughput", func(t *testing.T) {
		s := newSink(t)
		dir, logs, port := setup(t)
		const n = 1000000
		f, _ := os.Create(filepath.Join(logs, "app.log"))
		var b strings.Builder
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "%d %s\n", i, payload)
			if b.Len() > 1<<20 {
				f.WriteString(b.String())
				b.Reset()
			}
		}
		f.WriteString(b.String())
		f.Close()
		start := time.Now()
		a := startAgent(t, dir, agentConfig(port, s.url(), filepath.Join(dir, "positions.yaml"), logs+"/*.log", ""))
		waitFor(120*time.Second, func() bool { return a.metric(port, "lode_agent_sent_entries_total") >= n })
		el := time.Since(start)
		cpu := procCPU(t, a.cmd.Process.Pid)
		t.Logf("throughput: %d lines (%d MB) in %v = %.0f lines/s; agent CPU %v (%.2f CPU-s per million lines); RSS %s",
			n, n*88>>20, el.Round(time.Millisecond), float64(n)/el.Seconds(), cpu, cpu.Seconds()*1e6/n, procRSS(t, a.cmd.Process.Pid))
	})
	t.Run("cpu at 10k lines/s", func(t *testing.T) {
		s := newSink(t)
		dir, logs, port := setup(t)
		w := newWriter(filepath.Join(logs, "app.log"), 10000)
		a := startAgent(t, dir, agentConfig(port, s.url(), filepath.Join(dir, "positions.yaml"), logs+"/*.log", ""))
		time.Sleep(time.Second)
		c0 := procCPU(t, a.cmd.Process.Pid)
		w.run(20 * time.Second)
		c1 := procCPU(t, a.cmd.Process.Pid)
		w.close()
		t.Logf("10k lines/s for 20s: agent CPU %v = %.1f%% of one core; RSS %s", c1-c0, (c1-c0).Seconds()/20*100, procRSS(t, a.cmd.Process.Pid))
	})
	t.Run("rss with 1000 files", func(t *testing.T) {
		s := newSink(t)
		dir, logs, port := setup(t)
		for i := 0; i < 1000; i++ {
			os.WriteFile(filepath.Join(logs, fmt.Sprintf("f%04d.log", i)), []byte(fmt.Sprintf("%d line\n", i)), 0o644)
		}
		cfg := agentConfig(port, s.url(), filepath.Join(dir, "positions.yaml"), logs+"/*.log", "")
		cfg = strings.NewReplacer("sync_period: 200ms", "sync_period: 10s", "min_poll_frequency: 50ms", "min_poll_frequency: 250ms",
			"max_poll_frequency: 250ms", "max_poll_frequency: 1s").Replace(cfg) // the defaults' order of magnitude
		a := startAgent(t, dir, cfg, "-target.idle-close=5s")
		waitFor(30*time.Second, func() bool { return len(s.ids(".log")) == 1000 })
		time.Sleep(5 * time.Second)
		c0 := procCPU(t, a.cmd.Process.Pid)
		time.Sleep(10 * time.Second)
		c1 := procCPU(t, a.cmd.Process.Pid)
		fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", a.cmd.Process.Pid))
		t.Logf("1000 tailed files: RSS %s, %d open fds, idle CPU %.1f%% of one core", procRSS(t, a.cmd.Process.Pid), len(fds), (c1-c0).Seconds()/10*100)
	})
}
