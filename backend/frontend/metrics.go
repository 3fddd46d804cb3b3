package frontend

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the frontend's Prometheus metrics.
type metrics struct {
	splitQueries   prometheus.Counter
	passthrough    prometheus.Counter
	parts          prometheus.Counter
	subqueries     *prometheus.CounterVec
	cacheHits      prometheus.Counter
	cacheMisses    prometheus.Counter
	cacheEvictions prometheus.Counter
	cacheBytes     prometheus.Gauge
	cacheEntries   prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		splitQueries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lode_frontend_split_queries_total", Help: "Range queries the frontend split into parts.",
		}),
		passthrough: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lode_frontend_passthrough_requests_total", Help: "Requests forwarded downstream unchanged.",
		}),
		parts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lode_frontend_query_parts_total", Help: "Parts that split queries were cut into.",
		}),
		subqueries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lode_frontend_subqueries_total", Help: "Sub-queries sent downstream, by outcome (success, error, canceled).",
		}, []string{"outcome"}),
		cacheHits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lode_frontend_cache_hits_total", Help: "Query parts answered from the results cache.",
		}),
		cacheMisses: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lode_frontend_cache_misses_total", Help: "Cacheable query parts not found in the results cache.",
		}),
		cacheEvictions: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lode_frontend_cache_evictions_total", Help: "Results cache entries evicted to stay within its size.",
		}),
		cacheBytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "lode_frontend_cache_bytes", Help: "Bytes held by the results cache.",
		}),
		cacheEntries: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "lode_frontend_cache_entries", Help: "Entries held by the results cache.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.splitQueries, m.passthrough, m.parts, m.subqueries,
		m.cacheHits, m.cacheMisses, m.cacheEvictions, m.cacheBytes, m.cacheEntries} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register frontend metrics: %w", err)
		}
	}
	return m, nil
}
