package miniotest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Environment variables read by Start.
const (
	// EnvBinary names the minio binary to run.
	EnvBinary = "LODE_MINIO_BIN"
	// EnvRequire, set to 1, turns a missing binary into a test failure.
	EnvRequire = "LODE_REQUIRE_MINIO"
)

const (
	readyTimeout = 60 * time.Second
	pollInterval = 50 * time.Millisecond
	startTries   = 3 // fresh ports are tried when a port was taken meanwhile
	logTailBytes = 4096
)

// Server is a MinIO server process serving a temporary directory on
// loopback ports. Its methods must be called from the test's goroutine.
type Server struct {
	// Endpoint is host:port of the S3 API (plain HTTP).
	Endpoint string
	// AccessKey and SecretKey are the root credentials.
	AccessKey string
	SecretKey string
	// Dir is the data directory, kept across Stop and Restart.
	Dir string

	t        testing.TB
	bin      string
	console  string // host:port of the console listener
	certsDir string
	log      *syncBuffer

	mu     sync.Mutex    // guards cmd and exited
	cmd    *exec.Cmd     // nil while stopped
	exited chan struct{} // closed when cmd has exited
}

// Start starts a MinIO server for the test and stops it in t.Cleanup. It
// skips the test when no minio binary is found, or fails it if
// LODE_REQUIRE_MINIO=1. The binary is $LODE_MINIO_BIN, else minio in
// `go env GOBIN`, else in `go env GOPATH`/bin, else on $PATH.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, tried := findBinary()
	if bin == "" {
		msg := fmt.Sprintf("minio binary not found (tried %s); install it with "+
			"`go install github.com/minio/minio@<version>` or set %s", strings.Join(tried, ", "), EnvBinary)
		if os.Getenv(EnvRequire) == "1" {
			t.Fatalf("%s=1: %s", EnvRequire, msg)
		}
		t.Skip(msg)
	}
	root := t.TempDir()
	s := &Server{
		AccessKey: "lode-" + randomHex(8),
		SecretKey: randomHex(20),
		Dir:       filepath.Join(root, "data"),
		t:         t,
		bin:       bin,
		certsDir:  filepath.Join(root, "certs"),
		log:       &syncBuffer{},
	}
	t.Cleanup(func() {
		if err := s.kill(); err != nil {
			t.Errorf("stop minio: %v", err)
		}
		if t.Failed() {
			t.Logf("minio output (tail):\n%s", s.log.tail(logTailBytes))
		}
	})
	var err error
	for try := 0; try < startTries; try++ {
		if s.Endpoint, s.console, err = freeAddrs(); err != nil {
			t.Fatalf("minio: %v", err)
		}
		if err = s.start(); err == nil {
			return s
		}
	}
	t.Fatalf("start minio: %v\n%s", err, s.log.tail(logTailBytes))
	return nil
}

// Stop kills the server (SIGKILL, like a crash) and waits for it to exit.
// Stopping a stopped server does nothing.
func (s *Server) Stop() {
	s.t.Helper()
	if err := s.kill(); err != nil {
		s.t.Fatalf("stop minio: %v", err)
	}
}

// Restart starts the server again on the same data directory, address and
// credentials (stopping it first if it runs) and waits until it is ready.
func (s *Server) Restart() {
	s.t.Helper()
	if err := s.kill(); err != nil {
		s.t.Fatalf("stop minio: %v", err)
	}
	if err := s.start(); err != nil {
		s.t.Fatalf("restart minio: %v\n%s", err, s.log.tail(logTailBytes))
	}
}

// start runs the process and waits until it reports ready.
func (s *Server) start() error {
	cmd := exec.Command(s.bin, "server", s.Dir,
		"--address", s.Endpoint,
		"--console-address", s.console,
		"--certs-dir", s.certsDir)
	cmd.Env = append(withoutMinioEnv(os.Environ()),
		"MINIO_ROOT_USER="+s.AccessKey,
		"MINIO_ROOT_PASSWORD="+s.SecretKey,
		"MINIO_BROWSER=off",
		"MINIO_UPDATE=off",
		"MINIO_CI_CD=on",
	)
	cmd.Stdout, cmd.Stderr = s.log, s.log
	setDeathSignal(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("run %s: %w", s.bin, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	s.mu.Lock()
	s.cmd, s.exited = cmd, exited
	s.mu.Unlock()
	if err := s.waitReady(exited); err != nil {
		_ = s.kill()
		return err
	}
	return nil
}

func (s *Server) waitReady(exited <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	url := "http://" + s.Endpoint + "/minio/health/ready"
	httpClient := &http.Client{Timeout: time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return fmt.Errorf("health check request: %w", err)
		}
		if resp, err := httpClient.Do(req); err == nil {
			resp.Body.Close()
			// The endpoint answers 200 while the object layer is still
			// starting, flagged by this header; S3 calls would fail then.
			if resp.StatusCode == http.StatusOK && resp.Header.Get("X-Minio-Server-Status") != "offline" {
				return nil
			}
		}
		select {
		case <-exited:
			return errors.New("minio exited before becoming ready")
		case <-ctx.Done():
			return fmt.Errorf("minio not ready at %s after %s", url, readyTimeout)
		case <-time.After(pollInterval):
		}
	}
}

// kill stops the process if it runs and waits for it to exit.
func (s *Server) kill() error {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.cmd, s.exited = nil, nil
	s.mu.Unlock()
	if cmd == nil {
		return nil
	}
	if err := cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill pid %d: %w", cmd.Process.Pid, err)
	}
	<-exited
	return nil
}

// findBinary returns the minio binary to use, or "" and the places tried.
func findBinary() (bin string, tried []string) {
	if p := os.Getenv(EnvBinary); p != "" {
		if isExecutable(p) {
			return p, nil
		}
		return "", []string{EnvBinary + "=" + p}
	}
	gobin, gopath := goEnv()
	var candidates []string
	if gobin != "" {
		candidates = append(candidates, filepath.Join(gobin, "minio"))
	}
	for _, dir := range filepath.SplitList(gopath) {
		candidates = append(candidates, filepath.Join(dir, "bin", "minio"))
	}
	for _, c := range candidates {
		if isExecutable(c) {
			return c, nil
		}
	}
	if p, err := exec.LookPath("minio"); err == nil {
		return p, nil
	}
	return "", append(candidates, "$PATH")
}

// goEnv returns GOBIN and GOPATH as the go command sees them (including
// values set with `go env -w`), falling back to the environment.
func goEnv() (gobin, gopath string) {
	out, err := exec.Command("go", "env", "GOBIN", "GOPATH").Output()
	if err != nil {
		return os.Getenv("GOBIN"), os.Getenv("GOPATH")
	}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(lines) != 2 {
		return os.Getenv("GOBIN"), os.Getenv("GOPATH")
	}
	return strings.TrimSpace(lines[0]), strings.TrimSpace(lines[1])
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o111 != 0
}

// freeAddrs returns two distinct free loopback addresses.
func freeAddrs() (api, console string, err error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range 2 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", "", fmt.Errorf("find a free port: %w", err)
		}
		ls = append(ls, l)
	}
	return ls[0].Addr().String(), ls[1].Addr().String(), nil
}

// withoutMinioEnv drops inherited MINIO_* variables so that the caller's
// environment cannot change how the test server runs.
func withoutMinioEnv(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, "MINIO_") {
			out = append(out, kv)
		}
	}
	return out
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

// syncBuffer collects the process output; the process writes it from
// os/exec's copying goroutines.
type syncBuffer struct {
	mu  sync.Mutex // guards buf
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) tail(n int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	p := b.buf.Bytes()
	if len(p) > n {
		p = p[len(p)-n:]
	}
	return string(p)
}
