package lodetest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
)

// Binary builds backend/cmd/lode once per test binary and returns its path.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "lode-bin-")
		if err != nil {
			buildErr = err
			return
		}
		buildPath = filepath.Join(dir, "lode")
		cmd := exec.Command("go", "build", "-o", buildPath, "github.com/lode-logs/lode/backend/cmd/lode")
		cmd.Dir = moduleRoot()
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build lode: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildPath
}

func moduleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "..")
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Process is one lode process and what it needs to be restarted.
type Process struct {
	t        testing.TB
	DataDir  string
	HTTPPort int
	GRPCPort int
	RaftPort int
	Args     []string // extra flags
	URL      string
	cmd      *exec.Cmd
	done     chan struct{}
	logPath  string
}

// Options configure Start.
type Options struct {
	DataDir string   // default: a new temporary directory
	Args    []string // extra flags, e.g. -storage.backend=s3
}

// Start runs lode and waits until it is ready. The process is killed when
// the test ends.
func Start(t testing.TB, o Options) *Process {
	t.Helper()
	p := &Process{t: t, DataDir: o.DataDir, Args: o.Args,
		HTTPPort: FreePort(t), GRPCPort: FreePort(t), RaftPort: FreePort(t)}
	if p.DataDir == "" {
		p.DataDir = t.TempDir()
	}
	p.URL = "http://127.0.0.1:" + strconv.Itoa(p.HTTPPort)
	p.logPath = filepath.Join(t.TempDir(), "lode.log")
	t.Cleanup(func() { p.Kill() })
	p.Restart()
	return p
}

// Restart starts the process again on the same ports and data directory
// and waits until it is ready.
func (p *Process) Restart() {
	p.t.Helper()
	p.Launch()
	p.WaitReady(60 * time.Second)
}

// WaitReady polls /ready until it answers 200.
func (p *Process) WaitReady(timeout time.Duration) {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			p.t.Fatalf("lode exited before it was ready; log:\n%s", p.Log())
		default:
		}
		resp, err := http.Get(p.URL + "/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.t.Fatalf("lode not ready after %v; log:\n%s", timeout, p.Log())
}

// Log returns what the process wrote to stdout and stderr.
func (p *Process) Log() string {
	b, _ := os.ReadFile(p.logPath)
	return string(b)
}

// Kill sends SIGKILL and waits for the process to exit.
func (p *Process) Kill() { p.signal(syscall.SIGKILL) }

// Stop sends SIGTERM and waits for a clean exit.
func (p *Process) Stop() {
	p.t.Helper()
	p.signal(syscall.SIGTERM)
	if p.cmd.ProcessState != nil && !p.cmd.ProcessState.Success() {
		p.t.Fatalf("lode did not exit cleanly on SIGTERM: %v; log:\n%s", p.cmd.ProcessState, p.Log())
	}
}

func (p *Process) signal(sig syscall.Signal) {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(60 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// Context returns a context bounded by d and the test's lifetime.
func Context(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// PID returns the process id of the running lode.
func (p *Process) PID() int { return p.cmd.Process.Pid }
