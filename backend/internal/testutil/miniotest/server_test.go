package miniotest

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

func ready(endpoint string) error {
	resp, err := http.Get("http://" + endpoint + "/minio/health/ready")
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

func TestStartStopRestart(t *testing.T) {
	s := Start(t)
	if err := ready(s.Endpoint); err != nil {
		t.Fatalf("not ready after Start: %v", err)
	}
	if !strings.HasPrefix(s.Endpoint, "127.0.0.1:") {
		t.Fatalf("Endpoint = %q, want a loopback address", s.Endpoint)
	}
	client, err := minio.New(s.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(s.AccessKey, s.SecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := client.MakeBucket(ctx, "kept", minio.MakeBucketOptions{}); err != nil {
		t.Fatalf("MakeBucket with the server's credentials: %v", err)
	}

	s.Stop()
	if err := ready(s.Endpoint); err == nil {
		t.Fatal("server still answers after Stop")
	}
	s.Stop() // stopping a stopped server does nothing

	endpoint := s.Endpoint
	s.Restart()
	if s.Endpoint != endpoint {
		t.Fatalf("Restart moved the server from %s to %s", endpoint, s.Endpoint)
	}
	if err := ready(s.Endpoint); err != nil {
		t.Fatalf("not ready after Restart: %v", err)
	}
	ok, err := client.BucketExists(ctx, "kept")
	if err != nil || !ok {
		t.Fatalf("bucket created before Restart: exists = %v, %v", ok, err)
	}
	s.Restart() // restarting a running server restarts it
	if err := ready(s.Endpoint); err != nil {
		t.Fatalf("not ready after a second Restart: %v", err)
	}
}

func TestTwoServersAreIndependent(t *testing.T) {
	a, b := Start(t), Start(t)
	if a.Endpoint == b.Endpoint || a.AccessKey == b.AccessKey || a.Dir == b.Dir {
		t.Fatalf("servers share endpoint, credentials or directory: %s %s", a.Endpoint, b.Endpoint)
	}
	a.Stop()
	if err := ready(b.Endpoint); err != nil {
		t.Fatalf("stopping one server affected the other: %v", err)
	}
}

// recordingTB captures Skip and Fatal instead of ending the test.
type recordingTB struct {
	testing.TB
	skipped, fatal string
}

type stopped struct{}

func (r *recordingTB) Helper() {}
func (r *recordingTB) Skip(args ...any) {
	r.skipped = fmt.Sprint(args...)
	panic(stopped{})
}
func (r *recordingTB) Fatalf(format string, args ...any) {
	r.fatal = fmt.Sprintf(format, args...)
	panic(stopped{})
}

func runStart(t *testing.T) (r *recordingTB) {
	r = &recordingTB{TB: t}
	defer func() {
		if p := recover(); p != nil {
			if _, ok := p.(stopped); !ok {
				panic(p)
			}
		}
	}()
	Start(r)
	return r
}

func TestMissingBinary(t *testing.T) {
	cases := []struct {
		name        string
		require     string
		wantSkipped bool
	}{
		{"skips by default", "", true},
		{"fails when required", "1", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv(EnvBinary, "/nonexistent/minio")
			t.Setenv(EnvRequire, c.require)
			r := runStart(t)
			msg := r.skipped + r.fatal
			if (r.skipped != "") != c.wantSkipped || (r.fatal != "") == c.wantSkipped {
				t.Fatalf("skipped = %q, fatal = %q; want skipped: %v", r.skipped, r.fatal, c.wantSkipped)
			}
			if !strings.Contains(msg, "/nonexistent/minio") || !strings.Contains(msg, EnvBinary) {
				t.Fatalf("message %q does not say what was tried and how to fix it", msg)
			}
		})
	}
}
