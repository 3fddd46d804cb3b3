package objstore

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Operation outcomes used as the status label.
const (
	statusSuccess  = "success"
	statusNotFound = "not_found"
	statusCanceled = "canceled"
	statusError    = "error"
)

// instrumentedBucket records Prometheus metrics around every call of an
// inner Bucket. Safe for concurrent use if the inner bucket is.
type instrumentedBucket struct {
	b        Bucket
	ops      *prometheus.CounterVec   // {op, status}
	duration *prometheus.HistogramVec // {op}
	bytes    *prometheus.CounterVec   // {op}
}

// NewInstrumented wraps b with these metrics, registered with reg (nil: not
// registered):
//
//	lode_objstore_operations_total{op,status}    calls by outcome (success, not_found, canceled, error)
//	lode_objstore_operation_duration_seconds{op} latency (Iter: the whole walk, callbacks included)
//	lode_objstore_bytes_total{op}                payload bytes written (put) and read (get, get_range)
//
// op is one of put, get, get_range, exists, delete, iter.
func NewInstrumented(b Bucket, reg prometheus.Registerer) Bucket {
	f := promauto.With(reg)
	return &instrumentedBucket{
		b: b,
		ops: f.NewCounterVec(prometheus.CounterOpts{
			Name: "lode_objstore_operations_total",
			Help: "Object store operations by operation and outcome.",
		}, []string{"op", "status"}),
		duration: f.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "lode_objstore_operation_duration_seconds",
			Help:    "Latency of object store operations.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 4, 9), // 0.5ms .. 33s
		}, []string{"op"}),
		bytes: f.NewCounterVec(prometheus.CounterOpts{
			Name: "lode_objstore_bytes_total",
			Help: "Object payload bytes written (put) and read (get, get_range).",
		}, []string{"op"}),
	}
}

func (m *instrumentedBucket) observe(op string, start time.Time, n int, err error) {
	m.duration.WithLabelValues(op).Observe(time.Since(start).Seconds())
	m.ops.WithLabelValues(op, statusOf(err)).Inc()
	if n > 0 {
		m.bytes.WithLabelValues(op).Add(float64(n))
	}
}

func statusOf(err error) string {
	switch {
	case err == nil:
		return statusSuccess
	case errors.Is(err, ErrNotFound):
		return statusNotFound
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return statusCanceled
	default:
		return statusError
	}
}

func (m *instrumentedBucket) Put(ctx context.Context, key string, data []byte) error {
	start := time.Now()
	err := m.b.Put(ctx, key, data)
	n := len(data)
	if err != nil {
		n = 0
	}
	m.observe("put", start, n, err)
	return err
}

func (m *instrumentedBucket) Get(ctx context.Context, key string) ([]byte, error) {
	start := time.Now()
	data, err := m.b.Get(ctx, key)
	m.observe("get", start, len(data), err)
	return data, err
}

func (m *instrumentedBucket) GetRange(ctx context.Context, key string, off, length int64) ([]byte, error) {
	start := time.Now()
	data, err := m.b.GetRange(ctx, key, off, length)
	m.observe("get_range", start, len(data), err)
	return data, err
}

func (m *instrumentedBucket) Exists(ctx context.Context, key string) (bool, error) {
	start := time.Now()
	ok, err := m.b.Exists(ctx, key)
	m.observe("exists", start, 0, err)
	return ok, err
}

func (m *instrumentedBucket) Delete(ctx context.Context, key string) error {
	start := time.Now()
	err := m.b.Delete(ctx, key)
	m.observe("delete", start, 0, err)
	return err
}

func (m *instrumentedBucket) Iter(ctx context.Context, prefix string, fn func(key string) error) error {
	start := time.Now()
	err := m.b.Iter(ctx, prefix, fn)
	m.observe("iter", start, 0, err)
	return err
}
