package rpc

import (
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/status"
)

// clientMetrics are a Pool's Prometheus collectors.
type clientMetrics struct {
	duration *prometheus.HistogramVec // method, status_code
}

// newClientMetrics registers the client metrics on reg (none when nil).
// Pools sharing a Registerer share the collectors.
func newClientMetrics(reg prometheus.Registerer, logger *slog.Logger) *clientMetrics {
	m := &clientMetrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "lode_rpc_client_request_duration_seconds",
			Help:    "Time of internal gRPC calls made by this node, by method and gRPC status code (for a query stream: until it ends).",
			Buckets: prometheus.ExponentialBuckets(0.00025, 4, 9), // 250µs .. 16s
		}, []string{"method", "status_code"}),
	}
	if reg == nil {
		return m
	}
	if err := reg.Register(m.duration); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(*prometheus.HistogramVec); ok {
				m.duration = existing
				return m
			}
		}
		logger.Warn("register rpc client metrics", "err", err)
	}
	return m
}

// observe records a call of method that started at start and ended with
// err (nil, or an error carrying a gRPC status).
func (m *clientMetrics) observe(method string, start time.Time, err error) {
	m.duration.WithLabelValues(method, status.Code(err).String()).Observe(time.Since(start).Seconds())
}
