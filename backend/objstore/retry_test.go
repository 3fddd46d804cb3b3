package objstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
)

func TestIsTransient(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"connection refused", &url.Error{Op: "Put", URL: "http://x", Err: &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}}, true},
		{"truncated body", fmt.Errorf("read body: %w", io.ErrUnexpectedEOF), true},
		{"slow down", minio.ErrorResponse{Code: "SlowDown", StatusCode: http.StatusServiceUnavailable}, true},
		{"slow down without status", minio.ErrorResponse{Code: "SlowDown"}, true},
		{"internal error", minio.ErrorResponse{Code: "InternalError", StatusCode: 500}, true},
		{"bad gateway without code", minio.ErrorResponse{StatusCode: http.StatusBadGateway}, true},
		{"too many requests", minio.ErrorResponse{Code: "TooManyRequests", StatusCode: 429}, true},
		{"minio not initialized", minio.ErrorResponse{Code: "XMinioServerNotInitialized", StatusCode: 503}, true},
		{"wrapped 5xx", fmt.Errorf("put: %w", minio.ErrorResponse{Code: "ServiceUnavailable", StatusCode: 503}), true},
		{"no such key", minio.ErrorResponse{Code: "NoSuchKey", StatusCode: 404}, false},
		{"access denied", minio.ErrorResponse{Code: "AccessDenied", StatusCode: 403}, false},
		{"no such bucket", minio.ErrorResponse{Code: "NoSuchBucket", StatusCode: 404}, false},
		{"invalid range", minio.ErrorResponse{Code: "InvalidRange", StatusCode: 416}, false},
		{"client-side invalid argument", minio.ErrorResponse{Code: "InvalidArgument"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := isTransient(c.err); got != c.want {
				t.Fatalf("isTransient(%v) = %v, want %v", c.err, got, c.want)
			}
		})
	}
}

func TestRetryPolicyBackoffBounds(t *testing.T) {
	p := retryPolicy{attempts: 10, base: 100 * time.Millisecond, max: time.Second}
	caps := []time.Duration{100, 200, 400, 800, 1000, 1000, 1000}
	for i, c := range caps {
		failures := i + 1
		for range 200 {
			if d := p.backoff(failures); d < 0 || d > c*time.Millisecond {
				t.Fatalf("backoff(%d) = %v, want within [0, %v]", failures, d, c*time.Millisecond)
			}
		}
	}
	if d := p.backoff(1000); d < 0 || d > time.Second {
		t.Fatalf("backoff(1000) = %v, want within [0, 1s]", d)
	}
}

func TestRetryPolicyDo(t *testing.T) {
	transient := errors.New("connection reset")
	permanent := minio.ErrorResponse{Code: "AccessDenied", StatusCode: 403}
	callbackErr := errors.New("stop listing")
	cases := []struct {
		name      string
		failures  []error // results of successive calls; nil after the list
		wantCalls int
		wantErr   error  // errors.Is target; nil means success
		wantMsg   string // substring of the error
	}{
		{"success at once", nil, 1, nil, ""},
		{"success after transient failures", []error{transient, transient}, 3, nil, ""},
		{"gives up after max attempts", []error{transient, transient, transient, transient}, 3, transient, "giving up after 3 attempts"},
		{"permanent error is not retried", []error{permanent}, 1, permanent, ""},
		{"stop error is returned unwrapped", []error{stopError{callbackErr}}, 1, callbackErr, ""},
	}
	p := retryPolicy{attempts: 3, base: time.Microsecond, max: time.Microsecond}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			calls, retries := 0, 0
			err := p.do(context.Background(), func() { retries++ }, func(context.Context) error {
				calls++
				if calls <= len(c.failures) {
					return c.failures[calls-1]
				}
				return nil
			})
			if calls != c.wantCalls {
				t.Errorf("calls = %d, want %d", calls, c.wantCalls)
			}
			if retries != calls-1 {
				t.Errorf("onRetry called %d times for %d calls", retries, calls)
			}
			if c.wantErr == nil {
				if err != nil {
					t.Fatalf("error = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, c.wantErr) {
				t.Fatalf("error = %v, want %v", err, c.wantErr)
			}
			if c.wantMsg != "" && !strings.Contains(err.Error(), c.wantMsg) {
				t.Fatalf("error %q does not mention %q", err, c.wantMsg)
			}
		})
	}
}

func TestRetryPolicyDoStopsWhenContextIsDone(t *testing.T) {
	// A backoff far longer than any test timeout: only cancellation can end
	// the wait.
	p := retryPolicy{attempts: 100, base: time.Hour, max: time.Hour}
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	err := p.do(ctx, cancel, func(context.Context) error {
		calls++
		return errors.New("connection refused")
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
	if calls != 1 {
		t.Fatalf("calls = %d, want 1", calls)
	}
}
