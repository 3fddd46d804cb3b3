package objstore

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/minio/minio-go/v7"
)

// retryPolicy bounds the retries of one S3 operation: at most attempts
// calls, separated by full-jitter exponential backoff (a random wait in
// [0, min(max, base*2^(n-1))] after the n-th failure).
type retryPolicy struct {
	attempts int
	base     time.Duration
	max      time.Duration
}

// defaultRetryPolicy makes 5 attempts and waits at most 0.2+0.4+0.8+1.6 =
// 3s in total before an operation gives up.
func defaultRetryPolicy() retryPolicy {
	return retryPolicy{attempts: 5, base: 200 * time.Millisecond, max: 2 * time.Second}
}

func (p retryPolicy) backoff(failures int) time.Duration {
	d := p.max
	if shift := failures - 1; shift < 30 {
		d = min(p.max, p.base<<shift)
	}
	if d <= 0 {
		return 0
	}
	return rand.N(d + 1)
}

// stopError carries an error that must end the retry loop as is (a
// callback's error, or a translated permanent condition).
type stopError struct{ err error }

func (e stopError) Error() string { return e.err.Error() }
func (e stopError) Unwrap() error { return e.err }

// do runs fn until it succeeds, fails permanently, the attempts are used
// up or ctx is done. onRetry is called before each wait.
func (p retryPolicy) do(ctx context.Context, onRetry func(), fn func(ctx context.Context) error) error {
	for attempt := 1; ; attempt++ {
		err := fn(ctx)
		if err == nil {
			return nil
		}
		if se, ok := errors.AsType[stopError](err); ok {
			return se.err
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("%w (last error: %v)", ctxErr, err)
		}
		if !isTransient(err) {
			return err
		}
		if attempt >= p.attempts {
			return fmt.Errorf("giving up after %d attempts: %w", attempt, err)
		}
		onRetry()
		t := time.NewTimer(p.backoff(attempt))
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (after %d attempts, last error: %v)", ctx.Err(), attempt, err)
		case <-t.C:
		}
	}
}

// isTransient reports whether an S3 operation that failed with err may
// succeed when repeated: network errors, 5xx and 429 responses, and
// throttling codes. Other S3 error responses (4xx such as AccessDenied,
// NoSuchBucket, InvalidArgument) are permanent.
func isTransient(err error) bool {
	er, ok := errors.AsType[minio.ErrorResponse](err)
	if !ok || (er.Code == "" && er.StatusCode == 0) {
		// Not an S3 response: a connection, TLS or body read error.
		return true
	}
	switch er.Code {
	case "SlowDown", "SlowDownRead", "SlowDownWrite", "InternalError", "ServiceUnavailable",
		"RequestTimeout", "OperationTimedOut", "XMinioServerNotInitialized",
		"XMinioReadQuorum", "XMinioWriteQuorum":
		return true
	}
	return er.StatusCode >= 500 || er.StatusCode == http.StatusTooManyRequests
}
