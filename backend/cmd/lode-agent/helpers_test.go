package main

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lode-logs/lode/backend/internal/testutil/lodetest"
)

var (
	agentOnce sync.Once
	agentPath string
	agentErr  error
)

// agentBinary builds lode-agent once per test binary.
func agentBinary(t testing.TB) string {
	t.Helper()
	agentOnce.Do(func() {
		dir, err := os.MkdirTemp("", "lode-agent-bin-")
		if err != nil {
			agentErr = err
			return
		}
		agentPath = filepath.Join(dir, "lode-agent")
		_, file, _, _ := runtime.Caller(0)
		args := []string{"build", "-o", agentPath}
		if os.Getenv("LODE_AGENT_RACE") == "1" {
			args = append(args, "-race") // the agent binary itself runs with the race detector
		}
		cmd := exec.Command("go", append(args, ".")...)
		cmd.Dir = filepath.Dir(file)
		if out, err := cmd.CombinedOutput(); err != nil {
			agentErr = fmt.Errorf("go build lode-agent: %v\n%s", err, out)
		}
	})
	if agentErr != nil {
		t.Fatal(agentErr)
	}
	return agentPath
}

// agent is a running lode-agent process.
type agent struct {
	t       testing.TB
	cfgPath string
	port    int
	logPath string
	cmd     *exec.Cmd
	done    chan struct{}
}

// agentConfig is the YAML of a test agent: pushURL, positions file, log
// glob, and extra top-level YAML.
func agentConfig(port int, pushURL, positions, glob, extra string) string {
	return fmt.Sprintf(`server:
  http_listen_address: 127.0.0.1
  http_listen_port: %d
positions:
  filename: %s
  sync_period: 200ms
clients:
  - url: %s
    batchwait: 100ms
    backoff_config:
      min_period: 100ms
      max_period: 1s
global:
  file_watch_config:
    min_poll_frequency: 50ms
    max_poll_frequency: 250ms
target_config:
  sync_period: 500ms
  rotated_grace: 1s
scrape_configs:
  - job_name: test
    static_configs:
      - labels:
          job: test
          __path__: %s
%s`, port, positions, pushURL, glob, extra)
}

func startAgent(t testing.TB, dir, config string, args ...string) *agent {
	t.Helper()
	a := &agent{t: t, cfgPath: filepath.Join(dir, "agent.yaml"), logPath: filepath.Join(dir, "agent.log")}
	if err := os.WriteFile(a.cfgPath, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	a.start(args...)
	t.Cleanup(func() {
		a.signal(syscall.SIGKILL)
		if l := a.log(); strings.Contains(l, "DATA RACE") {
			t.Errorf("race detected in lode-agent:\n%s", l)
		}
	})
	return a
}

func (a *agent) start(args ...string) {
	a.t.Helper()
	logf, err := os.OpenFile(a.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		a.t.Fatal(err)
	}
	a.cmd = exec.Command(agentBinary(a.t), append([]string{"-config.file=" + a.cfgPath}, args...)...)
	a.cmd.Stdout, a.cmd.Stderr = logf, logf
	if err := a.cmd.Start(); err != nil {
		a.t.Fatal(err)
	}
	a.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) {
		_ = cmd.Wait()
		logf.Close()
		close(done)
	}(a.cmd, a.done)
}

func (a *agent) signal(sig syscall.Signal) {
	if a.cmd == nil || a.cmd.Process == nil {
		return
	}
	select {
	case <-a.done:
		return
	default:
	}
	_ = a.cmd.Process.Signal(sig)
	select {
	case <-a.done:
	case <-time.After(30 * time.Second):
		_ = a.cmd.Process.Kill()
		<-a.done
	}
}

func (a *agent) log() string {
	b, _ := os.ReadFile(a.logPath)
	return string(b)
}

// metric returns the sum of the samples of a metric on the agent's
// /metrics whose line contains all of the given substrings.
func (a *agent) metric(port int, name string, contains ...string) float64 {
	resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(port) + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sum := 0.0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name) || (len(line) > len(name) && line[len(name)] != '{' && line[len(name)] != ' ') {
			continue
		}
		ok := true
		for _, c := range contains {
			ok = ok && strings.Contains(line, c)
		}
		if !ok {
			continue
		}
		f := strings.Fields(line)
		v, _ := strconv.ParseFloat(f[len(f)-1], 64)
		sum += v
	}
	return sum
}

// countIDs queries lode for the lines of selector and counts each id (the
// first field of a line).
func countIDs(t testing.TB, p *lodetest.Process, selector string, since time.Time) map[string]int {
	t.Helper()
	lines, err := p.Lines(selector, since, time.Now().Add(time.Minute), 5000)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]int{}
	for _, l := range lines {
		id, _, _ := strings.Cut(l, " ")
		ids[id]++
	}
	return ids
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return cond()
}

// lossDup compares what was written (ids 0..n-1) with what arrived.
func lossDup(ids map[string]int, n int) (lost, dup int) {
	for i := 0; i < n; i++ {
		c := ids[strconv.Itoa(i)]
		if c == 0 {
			lost++
		} else if c > 1 {
			dup += c - 1
		}
	}
	return lost, dup
}
