package sender

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the client metrics of an agent, shared by its clients and
// labelled with the client's name (host).
type Metrics struct {
	sentEntries, sentBytes, dropped, retries, requests *prometheus.CounterVec
	duration                                           *prometheus.HistogramVec
	bufferBytes, bufferBatches                         *prometheus.GaugeVec
}

// NewMetrics registers the client metrics with reg (which may be nil).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	cv := func(name, help string, lbls ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "lode_agent", Name: name, Help: help}, lbls)
	}
	m := &Metrics{
		sentEntries: cv("sent_entries_total", "Entries the server accepted.", "host"),
		sentBytes:   cv("sent_bytes_total", "Bytes of lines and labels of the batches sent.", "host"),
		dropped: cv("dropped_entries_total", "Entries dropped by the client, by reason: invalid (named by a 400 answer), "+
			"rate_limited, max_retries, http_<status>.", "host", "reason"),
		retries:  cv("batch_retries_total", "Push attempts that failed and were retried.", "host"),
		requests: cv("requests_total", "Push requests by status code (or error).", "host", "status_code"),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "lode_agent", Name: "request_duration_seconds",
			Help: "Duration of push requests that got an answer.", Buckets: prometheus.DefBuckets}, []string{"host"}),
		bufferBytes: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "lode_agent", Name: "buffer_bytes",
			Help: "Encoded batches waiting to be sent, in memory or on disk."}, []string{"host", "where"}),
		bufferBatches: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "lode_agent", Name: "buffer_batches",
			Help: "Batches waiting to be sent."}, []string{"host"}),
	}
	if reg != nil {
		reg.MustRegister(m.sentEntries, m.sentBytes, m.dropped, m.retries, m.requests, m.duration, m.bufferBytes, m.bufferBatches)
	}
	return m
}

type clientMetrics struct {
	*Metrics
	buffer func(mem, disk int64, n int)
}

func (m *Metrics) forClient(name string) *clientMetrics {
	mem := m.bufferBytes.WithLabelValues(name, "memory")
	disk := m.bufferBytes.WithLabelValues(name, "disk")
	batches := m.bufferBatches.WithLabelValues(name)
	return &clientMetrics{Metrics: m, buffer: func(mb, db int64, n int) {
		mem.Set(float64(mb))
		disk.Set(float64(db))
		batches.Set(float64(n))
	}}
}
