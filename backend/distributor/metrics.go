package distributor

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the distributor's Prometheus collectors.
type metrics struct {
	linesReceived    *prometheus.CounterVec // tenant
	bytesReceived    *prometheus.CounterVec // tenant
	discardedSamples *prometheus.CounterVec // reason, tenant
	discardedBytes   *prometheus.CounterVec // reason, tenant
	mutatedSamples   *prometheus.CounterVec // reason, tenant
	mutatedBytes     *prometheus.CounterVec // reason, tenant
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		linesReceived: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lode_distributor_lines_received_total",
			Help: "Log lines received by the distributor, valid or not.",
		}, []string{"tenant"}),
		bytesReceived: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lode_distributor_bytes_received_total",
			Help: "Bytes of lines and structured metadata received by the distributor, valid or not.",
		}, []string{"tenant"}),
		discardedSamples: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lode_discarded_samples_total",
			Help: "Log entries rejected, by reason.",
		}, []string{"reason", "tenant"}),
		discardedBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lode_discarded_bytes_total",
			Help: "Bytes of lines and structured metadata rejected, by reason.",
		}, []string{"reason", "tenant"}),
		mutatedSamples: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lode_mutated_samples_total",
			Help: "Log entries changed before being accepted (lines truncated to the size limit), by reason.",
		}, []string{"reason", "tenant"}),
		mutatedBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lode_mutated_bytes_total",
			Help: "Bytes removed from accepted entries (truncated lines), by reason.",
		}, []string{"reason", "tenant"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.linesReceived, m.bytesReceived, m.discardedSamples, m.discardedBytes, m.mutatedSamples, m.mutatedBytes} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register distributor metrics: %w", err)
		}
	}
	return m, nil
}
