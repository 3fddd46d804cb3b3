package frontend

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lode-logs/lode/backend/engine"
	"github.com/lode-logs/lode/backend/limits"
)

// maxParts bounds the parts of one query: a longer query is split at a
// multiple of the split interval instead.
const maxParts = 2048

// TenantLimits gives a tenant's limits (*limits.Overrides implements it).
// The frontend applies the two that splitting would otherwise escape, as
// the engine would for the whole query: max_query_length (a longer query
// goes downstream unsplit, to be refused there) and max_query_series (a
// merged matrix with more series is refused with the engine's message).
// Tenant is called once per split query, from any goroutine.
type TenantLimits interface {
	Tenant(id string) limits.Tenant
}

// Frontend splits, runs, merges and caches range queries in front of a
// downstream query API. See the package doc.
type Frontend struct {
	cfg    Config
	next   http.Handler
	limits TenantLimits // nil: none applied
	cache  *resultCache // nil: no cache
	m      *metrics
	logger *slog.Logger
	now    func() time.Time
}

// New wraps next (the querier's Loki HTTP API: an in-process handler, or
// NewProxy for remote queriers) with the frontend. reg receives the
// frontend's metrics (nil: none).
func New(cfg Config, next http.Handler, reg prometheus.Registerer, logger *slog.Logger) (http.Handler, error) {
	return newFrontend(cfg, next, nil, reg, logger)
}

// NewWithLimits is New applying the tenants' max_query_length and
// max_query_series as the downstream does (see TenantLimits). The tenant of
// a request is its X-Scope-OrgID header, DefaultTenant when absent.
func NewWithLimits(cfg Config, next http.Handler, lim TenantLimits, reg prometheus.Registerer, logger *slog.Logger) (http.Handler, error) {
	return newFrontend(cfg, next, lim, reg, logger)
}

// DefaultTenant is the tenant whose limits apply to requests without
// X-Scope-OrgID, as in the API.
const DefaultTenant = "fake"

func newFrontend(cfg Config, next http.Handler, lim TenantLimits, reg prometheus.Registerer, logger *slog.Logger) (*Frontend, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("frontend config: %w", err)
	}
	if next == nil {
		return nil, errors.New("new frontend: nil downstream handler")
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.Default()
	}
	f := &Frontend{cfg: cfg, next: next, limits: lim, m: m, logger: logger.With("component", "frontend"), now: time.Now}
	if cfg.CacheMB > 0 && cfg.SplitInterval > 0 {
		f.cache = newResultCache(cfg.CacheMB<<20, m)
	}
	return f, nil
}

// ServeHTTP splits query_range requests it can split and forwards every
// other request to the downstream unchanged.
func (f *Frontend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.cfg.SplitInterval <= 0 || r.URL.Path != queryRangePath ||
		(r.Method != http.MethodGet && r.Method != http.MethodPost) {
		f.passthrough(w, r)
		return
	}
	form, err := readForm(r)
	if err != nil {
		f.passthrough(w, r)
		return
	}
	q, ok := parseRangeQuery(form, r.Header, f.now())
	if !ok {
		f.passthrough(w, r)
		return
	}
	q.norm = q.expr.String()
	if !f.applyLimits(q) {
		f.passthrough(w, r)
		return
	}
	parts := f.plan(q)
	if len(parts) == 1 && !f.cacheable(parts[0]) {
		f.passthrough(w, r)
		return
	}
	f.m.splitQueries.Inc()
	f.m.parts.Add(float64(len(parts)))
	run := &queryRun{f: f, orig: r, q: q, parts: parts, begin: time.Now()}
	if q.metric {
		run.serveMetric(w)
	} else {
		run.serveLogs(w)
	}
}

// applyLimits sets q.maxSeries from the tenant's limits and moves q.start
// within the tenant's retention; false means the query is longer than the
// tenant may ask for (the downstream refuses it) or entirely past
// retention.
func (f *Frontend) applyLimits(q *rangeQuery) bool {
	if f.limits == nil {
		return true
	}
	id := q.tenant
	if id == "" {
		id = DefaultTenant
	}
	t := f.limits.Tenant(id)
	if d := time.Duration(t.MaxQueryLength); d > 0 && q.end-q.start > d.Nanoseconds() {
		return false
	}
	q.maxSeries = t.MaxQuerySeries
	// Nothing older than the retention period is asked for (nor served
	// from the cache): a metric query starts at its first step within it.
	if keep := time.Duration(t.RetentionPeriod); keep > 0 {
		if min := f.now().Add(-keep).UnixNano(); q.start < min {
			if q.metric {
				q.start += (min - q.start + q.step - 1) / q.step * q.step
			} else {
				q.start = min
			}
		}
		if q.start > q.end || (!q.metric && q.start == q.end) {
			return false // entirely past retention: the downstream answers empty
		}
	}
	return true
}

func (f *Frontend) passthrough(w http.ResponseWriter, r *http.Request) {
	f.m.passthrough.Inc()
	f.next.ServeHTTP(w, r)
}

// plan splits q into parts at multiples of the split interval (of a
// multiple of it when the query would have more than maxParts parts).
func (f *Frontend) plan(q *rangeQuery) []part {
	interval := f.cfg.SplitInterval.Nanoseconds()
	if n := (q.end - q.start) / interval; n >= maxParts {
		interval *= n/maxParts + 1
	}
	if q.metric {
		return splitMetric(q.start, q.end, q.step, interval)
	}
	return splitLogs(q.start, q.end, interval, q.dir)
}

// cacheable reports whether the answer of p may be cached: only parts that
// ended before now minus the cache freshness.
func (f *Frontend) cacheable(p part) bool {
	return f.cache != nil && p.end < f.now().Add(-f.cfg.CacheFreshness).UnixNano()
}

// runCounters count what one query did downstream and in the cache.
type runCounters struct {
	subqueries, lookups, hits, stored atomic.Int64
	bytesHit, bytesStored             atomic.Int64
}

// queryRun is one split query being answered.
type queryRun struct {
	f     *Frontend
	orig  *http.Request
	q     *rangeQuery
	parts []part
	begin time.Time
	c     runCounters
}

// checkSeries refuses a merged matrix with more series than the tenant
// may get, with the engine's message and the API's status.
func (run *queryRun) checkSeries(m *merger) *partError {
	if n := run.q.maxSeries; run.q.metric && n > 0 && len(m.series) > n {
		return errorFrom(http.StatusBadRequest, fmt.Errorf("%w (max_query_series: %d)", engine.ErrMaxSeries, n))
	}
	return nil
}

// fetch answers part p with the given limit: from the cache when it holds
// it, else from the downstream (storing a cacheable 200 answer).
func (run *queryRun) fetch(ctx context.Context, p part, limit int) (res *partResult, cached bool, perr *partError) {
	want := typeStreams
	if run.q.metric {
		want = typeMatrix
	}
	var key string
	if run.f.cacheable(p) {
		key = run.q.cacheKey(p, limit)
		run.c.lookups.Add(1)
		if body, ok := run.f.cache.get(key); ok {
			run.c.hits.Add(1)
			run.c.bytesHit.Add(int64(len(body)))
			if res, err := decodePart(body, want); err == nil {
				return res, true, nil
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, false, canceledError(err)
	}
	body, perr := run.callDownstream(ctx, p, limit)
	if perr != nil {
		return nil, false, perr
	}
	res, err := decodePart(body, want)
	if err != nil {
		return nil, false, errorFrom(http.StatusBadGateway, err)
	}
	if key != "" && run.f.cache.put(key, body) {
		run.c.stored.Add(1)
		run.c.bytesStored.Add(int64(len(body)))
	}
	return res, false, nil
}

// callDownstream sends one sub-query to the downstream handler and returns
// its 200 body.
func (run *queryRun) callDownstream(ctx context.Context, p part, limit int) (body []byte, perr *partError) {
	run.c.subqueries.Add(1)
	req, err := run.subRequest(ctx, p, limit)
	if err != nil {
		return nil, errorFrom(http.StatusInternalServerError, err)
	}
	bw := newBufferWriter()
	defer func() {
		if v := recover(); v != nil {
			run.f.logger.Error("sub-query panicked", "panic", v, "query", run.q.query)
			body, perr = nil, errorFrom(http.StatusInternalServerError, fmt.Errorf("sub-query panicked: %v", v))
		}
	}()
	run.f.next.ServeHTTP(bw, req)
	switch {
	case bw.status == http.StatusOK:
		run.f.m.subqueries.WithLabelValues("success").Inc()
		return bw.body.Bytes(), nil
	case ctx.Err() != nil:
		run.f.m.subqueries.WithLabelValues("canceled").Inc()
	default:
		run.f.m.subqueries.WithLabelValues("error").Inc()
	}
	if bw.status == 0 {
		bw.status = http.StatusBadGateway
	}
	return nil, &partError{status: bw.status, header: bw.header, body: bw.body.Bytes()}
}

// subRequest builds the GET query_range request of part p: the original
// request's headers (tenant, encoding flags, credentials) and parameters,
// with the part's time range and explicit step, limit and direction.
func (run *queryRun) subRequest(ctx context.Context, p part, limit int) (*http.Request, error) {
	q := run.q
	v := make(url.Values, len(q.rest)+6)
	for k, vs := range q.rest {
		v[k] = vs
	}
	v.Set("query", q.query)
	v.Set("start", formatTime(p.start))
	v.Set("end", formatTime(p.end))
	v.Set("step", formatStep(time.Duration(q.step)))
	v.Set("limit", strconv.Itoa(limit))
	v.Set("direction", q.dir.String())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, queryRangePath+"?"+v.Encode(), nil)
	if err != nil {
		return nil, fmt.Errorf("build sub-query: %w", err)
	}
	req.Header = run.orig.Header.Clone()
	for _, h := range []string{"Content-Length", "Content-Type", "Accept-Encoding", "Connection",
		"Upgrade", "Transfer-Encoding", "Expect", "Te", "Trailer", "Keep-Alive"} {
		req.Header.Del(h)
	}
	req.Host, req.RemoteAddr, req.Proto = run.orig.Host, run.orig.RemoteAddr, run.orig.Proto
	req.ProtoMajor, req.ProtoMinor = run.orig.ProtoMajor, run.orig.ProtoMinor
	return req, nil
}

// cacheKey identifies the answer of part p with limit: tenant, normalized
// query, part, step (metric queries), limit and direction (log queries),
// encoding flags and any other parameter.
func (q *rangeQuery) cacheKey(p part, limit int) string {
	var b strings.Builder
	b.WriteString(q.tenant)
	b.WriteByte(0)
	b.WriteString(q.norm)
	b.WriteByte(0)
	b.WriteString(strconv.FormatInt(p.start, 10))
	b.WriteByte(0)
	b.WriteString(strconv.FormatInt(p.end, 10))
	b.WriteByte(0)
	if q.metric {
		b.WriteString("m")
		b.WriteString(strconv.FormatInt(q.step, 10))
	} else {
		b.WriteString("l")
		b.WriteString(strconv.Itoa(limit))
		b.WriteString(q.dir.String())
	}
	b.WriteByte(0)
	b.WriteString(q.flags)
	b.WriteByte(0)
	b.WriteString(q.rest.Encode())
	return b.String()
}

// writeMerged answers the merged result with its statistics: the parts'
// counters added up, the frontend's wall-clock time as execution time, and
// the splits, sub-queries and results cache use of this query.
func (run *queryRun) writeMerged(w http.ResponseWriter, m *merger) {
	st := m.stats
	st.ComputeSummary(time.Since(run.begin), time.Duration(st.Summary.QueueTime*float64(time.Second)), m.returned())
	st.Summary.Splits = int64(len(run.parts))
	st.Summary.Subqueries = run.c.subqueries.Load()
	rc := &st.Caches.Result
	rc.EntriesRequested += int32(run.c.lookups.Load())
	rc.EntriesFound += int32(run.c.hits.Load())
	rc.EntriesStored += int32(run.c.stored.Load())
	rc.Requests += int32(run.c.lookups.Load() + run.c.stored.Load())
	rc.BytesReceived += run.c.bytesHit.Load()
	rc.BytesSent += run.c.bytesStored.Load()
	body := m.appendJSON(make([]byte, 0, 4096), &st)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// canceledError is the answer when the client went away.
func canceledError(err error) *partError {
	return errorFrom(499, err)
}
