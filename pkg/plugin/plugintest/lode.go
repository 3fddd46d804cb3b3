package plugintest

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// Lode is a real lode process started by a test: built from ./backend/cmd/lode, listening on
// free loopback ports with a temporary data directory, killed when the test ends.
type Lode struct {
	URL     string
	t       testing.TB
	bin     string
	cmd     *exec.Cmd
	done    chan struct{}
	logPath string
	args    []string
}

// StartLode builds and starts lode and waits until /ready answers 200. extra flags are
// appended to the defaults (e.g. "-auth.enabled=true").
func StartLode(t testing.TB, extra ...string) *Lode {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "lode")
	build := exec.Command("go", "build", "-o", bin, "./backend/cmd/lode")
	build.Dir = ModuleRoot()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build lode: %v\n%s", err, out)
	}
	httpPort, grpcPort, raftPort := freePort(t), freePort(t), freePort(t)
	l := &Lode{
		URL: "http://127.0.0.1:" + strconv.Itoa(httpPort), t: t, bin: bin, logPath: filepath.Join(t.TempDir(), "lode.log"),
		args: append([]string{
			"-server.http-listen-address=127.0.0.1",
			"-server.http-listen-port=" + strconv.Itoa(httpPort),
			"-server.grpc-listen-address=127.0.0.1",
			"-server.grpc-listen-port=" + strconv.Itoa(grpcPort),
			"-cluster.raft-address=127.0.0.1:" + strconv.Itoa(raftPort),
			"-data.dir=" + t.TempDir(),
			"-log.level=warn",
		}, extra...),
	}
	t.Cleanup(l.kill)
	l.start()
	return l
}

// start runs the process and waits until it is ready.
func (l *Lode) start() {
	l.t.Helper()
	l.cmd = exec.Command(l.bin, l.args...)
	logf, err := os.OpenFile(l.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		l.t.Fatal(err)
	}
	l.cmd.Stdout, l.cmd.Stderr = logf, logf
	if err := l.cmd.Start(); err != nil {
		l.t.Fatalf("start lode: %v", err)
	}
	done := make(chan struct{})
	l.done = done
	go func(cmd *exec.Cmd) {
		_ = cmd.Wait()
		_ = logf.Close()
		close(done)
	}(l.cmd)
	l.waitReady(60 * time.Second)
}

// Restart kills lode (SIGKILL) and starts it again on the same ports and data directory.
func (l *Lode) Restart() {
	l.t.Helper()
	l.kill()
	l.start()
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func (l *Lode) waitReady(timeout time.Duration) {
	l.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-l.done:
			l.t.Fatalf("lode exited before it was ready; log:\n%s", l.Log())
		default:
		}
		if resp, err := http.Get(l.URL + "/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	l.t.Fatalf("lode not ready after %v; log:\n%s", timeout, l.Log())
}

func (l *Lode) kill() {
	if l.cmd.Process == nil {
		return
	}
	select {
	case <-l.done:
		return
	default:
	}
	_ = l.cmd.Process.Signal(syscall.SIGKILL)
	<-l.done
}

// Log returns what lode wrote so far.
func (l *Lode) Log() string {
	b, _ := os.ReadFile(l.logPath)
	return string(b)
}

// PushJSON pushes a Loki JSON push body ({"streams":[...]}) for tenant ("" for none).
func (l *Lode) PushJSON(tenant, body string) error {
	req, err := http.NewRequest(http.MethodPost, l.URL+"/loki/api/v1/push", bytes.NewReader([]byte(body)))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if tenant != "" {
		req.Header.Set("X-Scope-OrgID", tenant)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("push: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("push: %d %s", resp.StatusCode, b)
	}
	return nil
}
