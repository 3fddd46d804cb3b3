// Package frontend is Lode's query frontend: an http.Handler in front of a
// Loki-compatible query API (the querier's in process, or remote ones
// through NewProxy) that splits range queries at multiples of
// Config.SplitInterval, runs the parts in parallel, merges them and caches
// finished parts.
//
// Only GET/POST /loki/api/v1/query_range is split; every other request, and
// any query_range it cannot split exactly (invalid parameters, interval= on
// a log query, a single uncacheable part), goes downstream unchanged. Parts
// carry the original headers and parameters with their own range and an
// explicit step. Metric parts start at the first step after each boundary,
// so every step is evaluated once at its own time; series are merged by
// label set, values in time order. Log parts are half-open [start, end), as
// the engine reads, consumed in the query's direction until limit entries
// are collected (a part with more is cut between timestamps, or asked again
// with the remaining limit when entries at the cut share one), so answers
// equal the unsplit ones. The first failing part's status and body are the
// answer; the other parts are canceled. NewWithLimits also applies the
// limits splitting would escape (max_query_length, max_query_series), and
// starts range queries within the tenant's retention_period (metric
// queries at their first step within it), so no cached part past
// retention is served.
//
// The cache is an LRU, bounded in bytes, of raw 200 answers keyed by
// tenant, canonical query, part and the parameters shaping the answer;
// parts ending within CacheFreshness of now are never cached.
//
// Goroutine-safety: Frontend and the proxy are safe for concurrent use.
// Cached bodies are immutable; merged answers are fresh buffers.
//
// THREADS: a split query starts one short-lived goroutine per part (at most
// MaxParallelism at once); each writes only its own result slot or channel,
// and all have finished when ServeHTTP returns.
package frontend
