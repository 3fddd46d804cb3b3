package engine

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/lode-logs/lode/backend/iter"
	"github.com/lode-logs/lode/backend/logql"
	"github.com/lode-logs/lode/backend/model"
	"github.com/lode-logs/lode/backend/stats"
)

// Querier is what the engine needs from storage. SelectLogs returns the
// entries of the streams matching sel.Matchers with sel.Start <= ts <
// sel.End, ordered by sel.Direction across all streams, de-duplicated.
// sel.Needles and sel.TimestampsOnly are hints a source may use; the engine
// applies its filters itself. Implementations must be safe for concurrent
// calls; each returned iterator is used by one goroutine.
type Querier interface {
	SelectLogs(ctx context.Context, sel model.LogSelect) (iter.EntryIterator, error)
}

// StreamQuerier is an optional ability of a Querier that lets range
// aggregations read stream by stream, with no merge across streams.
// SelectStreams calls fn with iterators that together hold what SelectLogs
// would return for sel: each iterator holds the entries of one or more
// whole streams (a stream is never split between calls), ordered by
// sel.Direction, identical entries once. fn may run on up to workers
// goroutines at once; worker (0 <= worker < workers) says which, and calls
// with the same worker never overlap, so that callers keep state per
// worker. An iterator is valid only during its call and is closed by
// SelectStreams. An error from fn stops the selection and is returned.
type StreamQuerier interface {
	SelectStreams(ctx context.Context, sel model.LogSelect, workers int, fn func(worker int, it iter.EntryIterator) error) error
}

// Counter is an optional ability of a Querier: counting the entries of a
// selection per window without returning them (see model.CountSelect).
// CountEntries calls fn once for every stream and metadata set with
// entries in a window; fn is never called concurrently, and wc is valid
// only during the call.
type Counter interface {
	CountEntries(ctx context.Context, sel model.CountSelect, fn func(wc *model.WindowCounts) error) error
}

// Options are the engine's limits. Zero values take the defaults noted.
type Options struct {
	// MaxEntriesLimitPerQuery caps the limit of log queries (default 5000).
	MaxEntriesLimitPerQuery int
	// MaxQuerySeries caps the series of a metric query result (default 500).
	MaxQuerySeries int
	// MaxQueryRange caps end - start (0: no limit).
	MaxQueryRange time.Duration
	// LookbackDelta, when > 0, lets log queries run as instant queries over
	// (t - LookbackDelta, t]; at 0 they are refused, as Loki 3 does.
	LookbackDelta time.Duration
	// MaxPointsPerSeries caps the steps of a range query (default 11000, as
	// Loki).
	MaxPointsPerSeries int
}

func (o *Options) withDefaults() Options {
	r := *o
	if r.MaxEntriesLimitPerQuery <= 0 {
		r.MaxEntriesLimitPerQuery = 5000
	}
	if r.MaxQuerySeries <= 0 {
		r.MaxQuerySeries = 500
	}
	if r.MaxPointsPerSeries <= 0 {
		r.MaxPointsPerSeries = 11000
	}
	return r
}

// Engine evaluates LogQL queries against a Querier. It is safe for
// concurrent use: every query gets its own pipelines and buffers.
type Engine struct {
	q    Querier
	opts Options
}

// New returns an engine reading from q.
func New(q Querier, opts Options) *Engine {
	return &Engine{q: q, opts: opts.withDefaults()}
}

// Params describe one query. For an instant query (Instant), Start and End
// are both the evaluation time (End is used). Step is the resolution of a
// range metric query (DefaultStep when zero). Interval, for log queries,
// keeps at most one entry per Interval per stream. Limit caps the lines of
// a log query (0: MaxEntriesLimitPerQuery).
type Params struct {
	Tenant     string
	Query      string
	Start, End time.Time
	Step       time.Duration
	Interval   time.Duration
	Limit      int
	Direction  model.Direction
	Instant    bool
	// Limits are the tenant's limits for this query; zero fields take the
	// engine's Options.
	Limits Limits
	// CategorizeLabels asks for Loki's categorize-labels encoding: result
	// streams keep only stream labels, and each entry carries its structured
	// metadata and parsed labels apart.
	CategorizeLabels bool
}

// Limits are per-tenant caps of one query.
type Limits struct {
	MaxEntriesLimitPerQuery int
	MaxQuerySeries          int
	MaxQueryRange           time.Duration
}

// effective fills zero fields from the engine's options.
func (l Limits) effective(o *Options) Limits {
	if l.MaxEntriesLimitPerQuery <= 0 {
		l.MaxEntriesLimitPerQuery = o.MaxEntriesLimitPerQuery
	}
	if l.MaxQuerySeries <= 0 {
		l.MaxQuerySeries = o.MaxQuerySeries
	}
	if l.MaxQueryRange <= 0 {
		l.MaxQueryRange = o.MaxQueryRange
	}
	return l
}

// Query parses and evaluates p. Parse errors come back as returned by
// logql.Parse; limit violations wrap the sentinels of errors.go.
func (e *Engine) Query(ctx context.Context, p Params) (*Result, error) {
	start := time.Now()
	expr, err := logql.Parse(p.Query)
	if err != nil {
		return nil, err
	}
	return e.Exec(ctx, expr, p, start)
}

// Exec evaluates an already parsed expression; began is when the query
// started (for execTime).
func (e *Engine) Exec(ctx context.Context, expr logql.Expr, p Params, began time.Time) (*Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	_, metric := expr.(logql.SampleExpr)
	if err := e.validate(&p, metric); err != nil {
		return nil, err
	}
	st := stats.FromContext(ctx)
	if st == nil {
		st, ctx = stats.NewContext(ctx)
	}
	var res *Result
	var err error
	switch x := expr.(type) {
	case *logql.LogExpr:
		res, err = e.execLogs(ctx, x, p, st)
	case logql.SampleExpr:
		res, err = e.execMetric(ctx, x, p)
	default:
		err = fmt.Errorf("query %T: %w", expr, ErrUnsupported)
	}
	if err != nil {
		return nil, err
	}
	res.Categorized = p.CategorizeLabels
	res.Stats = st.Result(time.Since(began))
	res.Stats.Summary.TotalEntriesReturned = int64(res.entries())
	return res, nil
}

func (r *Result) entries() int {
	switch r.Type {
	case TypeStreams:
		n := 0
		for _, s := range r.Streams {
			n += len(s.Entries)
		}
		return n
	case TypeMatrix:
		return len(r.Matrix)
	case TypeVector:
		return len(r.Vector)
	}
	return 1
}

// validate checks p against the limits and fills its defaults. The entries
// limit does not apply to metric queries, as in Loki.
func (e *Engine) validate(p *Params, metric bool) error {
	p.Limits = p.Limits.effective(&e.opts)
	lim := &p.Limits
	if p.Instant {
		p.Start = p.End
	}
	if p.End.Before(p.Start) {
		return fmt.Errorf("%w: end timestamp must not be before start time", ErrInvalidParams)
	}
	if p.Limit < 0 {
		return fmt.Errorf("%w: limit must be a positive value", ErrInvalidParams)
	}
	if p.Step < 0 {
		return fmt.Errorf("%w: zero or negative query resolution step widths are not accepted. Try a positive integer", ErrInvalidParams)
	}
	if d := p.End.Sub(p.Start); lim.MaxQueryRange > 0 && d > lim.MaxQueryRange {
		return fmt.Errorf("%w (query length: %s, max_query_length: %s)", ErrMaxQueryRange, d, lim.MaxQueryRange)
	}
	if !metric && p.Limit > lim.MaxEntriesLimitPerQuery {
		return fmt.Errorf("%w, limit > max_entries_limit_per_query (%d > %d)", ErrMaxEntriesLimit, p.Limit, lim.MaxEntriesLimitPerQuery)
	}
	if p.Limit == 0 {
		p.Limit = lim.MaxEntriesLimitPerQuery
	}
	if !p.Instant && p.Step == 0 {
		p.Step = DefaultStep(p.Start, p.End)
	}
	if !p.Instant {
		if n := int64(p.End.Sub(p.Start)/p.Step) + 1; n > int64(e.opts.MaxPointsPerSeries) {
			return fmt.Errorf("%w: exceeded maximum resolution of %d points per timeseries. Try decreasing the query resolution (?step=XX)", ErrInvalidParams, e.opts.MaxPointsPerSeries)
		}
	}
	return nil
}

// DefaultStep is Loki's step for a range query given without one: the range
// divided into 250 points, in whole seconds, at least one second.
func DefaultStep(start, end time.Time) time.Duration {
	s := math.Floor(end.Sub(start).Seconds() / 250)
	return time.Duration(math.Max(s, 1)) * time.Second
}

// SubstituteIntervals replaces Grafana's interval variables in query:
// $__interval and $__auto with interval, $__interval_ms with it in
// milliseconds, $__range, $__range_s and $__range_ms with the query range.
func SubstituteIntervals(query string, interval, rng time.Duration) string {
	if !strings.Contains(query, "$__") {
		return query
	}
	r := strings.NewReplacer(
		"$__interval_ms", strconv.FormatInt(interval.Milliseconds(), 10),
		"$__interval", durationLiteral(interval),
		"$__auto", durationLiteral(interval),
		"$__range_ms", strconv.FormatInt(rng.Milliseconds(), 10),
		"$__range_s", strconv.FormatInt(int64(rng.Seconds()), 10),
		"$__range", durationLiteral(rng),
	)
	return r.Replace(query)
}

// durationLiteral writes d as a LogQL duration (whole seconds when exact,
// else milliseconds; at least 1ms).
func durationLiteral(d time.Duration) string {
	if d%time.Second == 0 && d > 0 {
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
	return strconv.FormatInt(max(d.Milliseconds(), 1), 10) + "ms"
}
