package objstore

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lode-logs/lode/backend/internal/testutil/miniotest"
)

// fastRetries keeps retry tests quick: 3 attempts, millisecond backoff.
var fastRetries = retryPolicy{attempts: 3, base: time.Millisecond, max: 5 * time.Millisecond}

// throttlingS3 is a minimal S3 endpoint that answers the first failPuts
// object PUTs with a given error response, then accepts them.
type throttlingS3 struct {
	failPuts int
	status   int
	code     string

	mu   sync.Mutex // guards puts
	puts int
}

func (s *throttlingS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 2)
	if len(parts) < 2 || parts[1] == "" { // bucket-level request (HEAD bucket)
		w.WriteHeader(http.StatusOK)
		return
	}
	if r.Method != http.MethodPut {
		w.WriteHeader(http.StatusNotImplemented)
		return
	}
	s.mu.Lock()
	s.puts++
	fail := s.puts <= s.failPuts
	s.mu.Unlock()
	if fail {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(s.status)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>try later</Message><Key>%s</Key></Error>`, s.code, parts[1])
		return
	}
	w.Header().Set("ETag", `"0123456789abcdef0123456789abcdef"`)
	w.WriteHeader(http.StatusOK)
}

func (s *throttlingS3) putCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.puts
}

func TestS3RetriesThrottlingAndServerErrors(t *testing.T) {
	cases := []struct {
		name      string
		failPuts  int
		status    int
		code      string
		wantPuts  int
		wantErr   bool
		wantRetry float64
	}{
		{"SlowDown then success", 2, http.StatusServiceUnavailable, "SlowDown", 3, false, 2},
		{"500 then success", 1, http.StatusInternalServerError, "InternalError", 2, false, 1},
		{"429 then success", 1, http.StatusTooManyRequests, "TooManyRequests", 2, false, 1},
		{"SlowDown beyond the attempts", 10, http.StatusServiceUnavailable, "SlowDown", 3, true, 2},
		{"AccessDenied is not retried", 10, http.StatusForbidden, "AccessDenied", 1, true, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fake := &throttlingS3{failPuts: c.failPuts, status: c.status, code: c.code}
			srv := httptest.NewServer(fake)
			defer srv.Close()
			reg := prometheus.NewRegistry()
			cfg := S3Config{
				Endpoint: strings.TrimPrefix(srv.URL, "http://"), Bucket: "lode", Region: "us-east-1",
				AccessKeyID: "id", SecretAccessKey: "secret", Insecure: true,
			}
			b, err := newS3(context.Background(), cfg, fastRetries, reg)
			if err != nil {
				t.Fatalf("newS3: %v", err)
			}
			err = b.Put(context.Background(), "k", []byte("data"))
			if (err != nil) != c.wantErr {
				t.Fatalf("Put error = %v, want error: %v", err, c.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), "put k") {
				t.Fatalf("Put error %q does not name the operation and key", err)
			}
			if got := fake.putCount(); got != c.wantPuts {
				t.Fatalf("server saw %d PUTs, want %d", got, c.wantPuts)
			}
			if got := metricValue(b.retries.WithLabelValues("put")); got != c.wantRetry {
				t.Fatalf("lode_objstore_s3_retries_total{op=put} = %v, want %v", got, c.wantRetry)
			}
		})
	}
}

func newTestS3(t *testing.T, srv *miniotest.Server, bucket string, policy retryPolicy) *S3Bucket {
	t.Helper()
	cfg := S3Config{
		Endpoint: srv.Endpoint, Bucket: bucket, Insecure: true,
		AccessKeyID: srv.AccessKey, SecretAccessKey: Secret(srv.SecretKey),
	}
	b, err := newS3(context.Background(), cfg, policy, prometheus.NewRegistry())
	if err != nil {
		t.Fatalf("newS3: %v", err)
	}
	return b
}

// TestS3Lifecycle shares one MinIO server; the outage runs last.
func TestS3Lifecycle(t *testing.T) {
	srv := miniotest.Start(t)
	t.Run("bucket created or found", func(t *testing.T) { testS3BucketCreatedOrFound(t, srv) })
	t.Run("bad credentials fail at start", func(t *testing.T) { testS3BadCredentials(t, srv) })
	t.Run("outage", func(t *testing.T) { testS3Outage(t, srv) })
}

func testS3Outage(t *testing.T, srv *miniotest.Server) {
	b := newTestS3(t, srv, "lode-down", fastRetries)
	// Same bucket, with a backoff far longer than any test timeout.
	slow := newTestS3(t, srv, "lode-down", retryPolicy{attempts: 1000, base: time.Hour, max: time.Hour})
	ctx := context.Background()
	if err := b.Put(ctx, "before", []byte("written before the outage")); err != nil {
		t.Fatalf("Put: %v", err)
	}

	srv.Stop()
	err := b.Put(ctx, "during", []byte("x"))
	if err == nil {
		t.Fatal("Put succeeded while MinIO was down")
	}
	if !strings.Contains(err.Error(), "giving up after 3 attempts") || !strings.HasPrefix(err.Error(), "put during: ") {
		t.Fatalf("Put error = %q, want a wrapped error after 3 attempts", err)
	}
	if errors.Is(err, ErrNotFound) {
		t.Fatalf("an unreachable store must not look like a missing object: %v", err)
	}
	if got := metricValue(b.retries.WithLabelValues("put")); got != 2 {
		t.Fatalf("retries = %v, want 2", got)
	}
	if _, err := b.Get(ctx, "before"); err == nil || errors.Is(err, ErrNotFound) {
		t.Fatalf("Get while down: error = %v, want a non-NotFound error", err)
	}
	if _, err := b.Exists(ctx, "before"); err == nil {
		t.Fatal("Exists while down returned no error")
	}

	// Cancellation ends the backoff at once, whatever its length.
	cctx, cancel := context.WithCancel(ctx)
	go func() {
		for metricValue(slow.retries.WithLabelValues("put")) == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	if err := slow.Put(cctx, "during", []byte("x")); !errors.Is(err, context.Canceled) {
		t.Fatalf("Put with canceled context while down: error = %v, want context.Canceled", err)
	}

	srv.Restart()
	if err := b.Put(ctx, "after", []byte("written after")); err != nil {
		t.Fatalf("Put after restart: %v", err)
	}
	for key, want := range map[string]string{"before": "written before the outage", "after": "written after"} {
		if got, err := b.Get(ctx, key); err != nil || string(got) != want {
			t.Fatalf("Get(%s) after restart = %q, %v; want %q", key, got, err, want)
		}
	}
}

func testS3BucketCreatedOrFound(t *testing.T, srv *miniotest.Server) {
	ctx := context.Background()
	first := newTestS3(t, srv, "lode-shared", fastRetries) // creates it
	if err := first.Put(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	second := newTestS3(t, srv, "lode-shared", fastRetries) // finds it
	if got, err := second.Get(ctx, "k"); err != nil || string(got) != "v" {
		t.Fatalf("Get through a second bucket handle = %q, %v", got, err)
	}
}

func testS3BadCredentials(t *testing.T, srv *miniotest.Server) {
	cfg := S3Config{
		Endpoint: srv.Endpoint, Bucket: "lode", Insecure: true,
		AccessKeyID: srv.AccessKey, SecretAccessKey: "wrong-secret-key",
	}
	_, err := newS3(context.Background(), cfg, fastRetries, nil)
	if err == nil {
		t.Fatal("newS3 with a wrong secret key succeeded")
	}
	if strings.Contains(err.Error(), "giving up") {
		t.Fatalf("an authentication failure was retried: %v", err)
	}
}
