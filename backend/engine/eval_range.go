package engine

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/iter"
	"github.com/lode-logs/lode/backend/logql"
	"github.com/lode-logs/lode/backend/model"
	"github.com/lode-logs/lode/backend/stats"
)

// rangeSeries is one series of a range aggregation: the samples of its
// current window, oldest first, with their running sum.
type rangeSeries struct {
	metric  labels.Labels
	hash    uint64
	next    *rangeSeries
	samples []model.Sample
	head    int // samples[head:] are in the window
	sum     float64
	hasErr  string // the __error__ value, if the series carries one
}

func (s *rangeSeries) window() []model.Sample { return s.samples[s.head:] }

// evict drops samples at or before lo.
func (s *rangeSeries) evict(lo int64) {
	for s.head < len(s.samples) && s.samples[s.head].T <= lo {
		s.sum -= s.samples[s.head].V
		s.head++
	}
	if s.head == len(s.samples) {
		s.samples, s.head, s.sum = s.samples[:0], 0, 0
	} else if s.head > 1024 && s.head > len(s.samples)/2 {
		n := copy(s.samples, s.samples[s.head:])
		s.samples, s.head = s.samples[:n], 0
	}
}

// extractor turns a processed line into a sample value.
type extractor struct {
	op     logql.RangeOp
	unwrap *logql.Unwrap
	post   []labelFilter
	group  *grouping
}

// value returns the sample value of the line in p.lb; ok is false when the
// line yields no sample (filtered after unwrap, or no unwrapped label).
func (x *extractor) value(lb *labelsBuilder, line []byte) (float64, bool) {
	if x.unwrap == nil {
		if x.op == logql.RangeBytes || x.op == logql.RangeBytesRate {
			return float64(len(line)), true
		}
		return 1, true
	}
	s, _ := lb.get(x.unwrap.Label)
	if s == "" {
		// A line without the label yields no sample, as in Loki.
		return 0, false
	}
	v, err := convertUnwrapped(x.unwrap.Conv, s)
	if err != nil {
		lb.setErr(errSampleExtraction, err.Error())
	}
	for _, f := range x.post {
		if !f.filter(lb) {
			return 0, false
		}
	}
	return v, true
}

func convertUnwrapped(c logql.ConvOp, s string) (float64, error) {
	switch c {
	case logql.ConvDuration, logql.ConvDurationSeconds:
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, err
		}
		return d.Seconds(), nil
	case logql.ConvBytes:
		n, ok := logql.ParseBytes(s)
		if !ok {
			return 0, fmt.Errorf("cannot parse %q as bytes", s)
		}
		return float64(n), nil
	}
	return strconv.ParseFloat(s, 64)
}

func newGrouping(g *logql.Grouping) *grouping {
	if g == nil {
		return nil
	}
	names := append([]string(nil), g.Labels...)
	sort.Strings(names)
	return &grouping{without: g.Without, names: names}
}

// rangeGrouping is the series grouping of a range aggregation: its by or
// without clause (or outer, pushed down from an enclosing sum); with unwrap
// and no by clause, the unwrapped label is dropped from the series, as Loki
// does.
func rangeGrouping(ra *logql.RangeAggregation, outer *logql.Grouping) *grouping {
	gr := ra.Grouping
	if gr == nil {
		gr = outer
	}
	g := newGrouping(gr)
	if ra.Unwrap == nil || (g != nil && !g.without) {
		return g
	}
	if g == nil {
		g = &grouping{without: true}
	}
	g.names = append(g.names, ra.Unwrap.Label)
	sort.Strings(g.names)
	return g
}

// needsTimestampsOnly reports whether the aggregation reads nothing but
// timestamps, stream labels and structured metadata (which storage still
// returns in that mode), never line content: absent_over_time, and count
// and rate over a bare selector.
func needsTimestampsOnly(ra *logql.RangeAggregation, _ *grouping) bool {
	if ra.Unwrap != nil || len(ra.Log.Pipeline) > 0 {
		return false
	}
	switch ra.Op {
	case logql.RangeAbsent, logql.RangeCount, logql.RangeRate:
		return true
	}
	return false
}

// canPushGrouping reports whether sum by/without (...) over ra can group
// samples while extracting them (a sum of per-group sums is the same sum),
// which keeps the number of series down, as Loki does.
func canPushGrouping(va *logql.VectorAggregation) (*logql.RangeAggregation, bool) {
	ra, ok := va.Expr.(*logql.RangeAggregation)
	if !ok || va.Op != logql.VectorSum || ra.Grouping != nil {
		return nil, false
	}
	switch ra.Op {
	case logql.RangeCount, logql.RangeRate, logql.RangeBytes, logql.RangeBytesRate, logql.RangeSum:
		return ra, true
	}
	return nil, false
}

// evalRange evaluates a range aggregation at every step, streaming the
// selected entries once in time order. outer is a grouping pushed down from
// an enclosing sum (nil when none).
func (ev *evaluator) evalRange(ra *logql.RangeAggregation, outer *logql.Grouping) ([][]sample, error) {
	pl, err := newPipeline(ra.Log.Pipeline)
	if err != nil {
		return nil, err
	}
	x := &extractor{op: ra.Op, unwrap: ra.Unwrap, group: rangeGrouping(ra, outer)}
	if ra.Unwrap != nil {
		for _, f := range ra.Unwrap.Filters {
			lf, err := newLabelFilter(f)
			if err != nil {
				return nil, err
			}
			x.post = append(x.post, lf)
		}
	}
	if windowOp(ra) {
		if c, ok := ev.e.q.(Counter); ok {
			if needles, ok := countNeedles(ra); ok {
				return ev.evalCounts(c, ra, x, needles)
			}
		}
		if sq, ok := ev.e.q.(StreamQuerier); ok {
			return ev.evalStreams(sq, ra, pl, x)
		}
	}
	rng, off := ra.Range.Nanoseconds(), ra.Offset.Nanoseconds()
	first, last := ev.steps[0], ev.steps[len(ev.steps)-1]
	sel := model.LogSelect{
		Tenant:         ev.p.Tenant,
		Matchers:       ra.Log.Selector,
		Start:          first - off - rng + 1, // windows are (t-range, t]
		End:            last - off + 1,
		Direction:      model.Forward,
		Needles:        needles(ra.Log),
		TimestampsOnly: needsTimestampsOnly(ra, x.group),
	}
	it, err := ev.e.q.SelectLogs(ev.ctx, sel)
	if err != nil {
		return nil, fmt.Errorf("select logs: %w", err)
	}
	r := &rangeEval{ev: ev, ra: ra, pl: pl, x: x, it: it, bases: streamBases{}, series: map[uint64]*rangeSeries{},
		byBase: map[*streamBase]*rangeSeries{}}
	out, err := r.run(rng, off)
	stats.FromContext(ev.ctx).Querier().AddPostFilterLines(int64(r.kept))
	if cerr := it.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close log iterator: %w", cerr)
	}
	return out, err
}

type rangeEval struct {
	ev      *evaluator
	ra      *logql.RangeAggregation
	pl      *pipeline
	x       *extractor
	it      iter.EntryIterator
	pending bool // it.At() holds an entry not yet consumed
	done    bool
	bases   streamBases
	series  map[uint64]*rangeSeries
	order   []*rangeSeries
	read    int
	kept    int // lines that passed the pipeline
	// The series of each stream's entries that the pipeline leaves
	// unchanged.
	byBase map[*streamBase]*rangeSeries
}

func (r *rangeEval) run(rng, off int64) ([][]sample, error) {
	out := make([][]sample, len(r.ev.steps))
	for i, t := range r.ev.steps {
		hi := t - off
		if err := r.readUntil(hi); err != nil {
			return nil, err
		}
		vec, err := r.step(hi-rng, hi, t)
		if err != nil {
			return nil, err
		}
		out[i] = vec
	}
	return out, nil
}

// readUntil consumes entries with ts <= hi into their series.
func (r *rangeEval) readUntil(hi int64) error {
	for !r.done {
		if !r.pending {
			if !r.it.Next() {
				r.done = true
				if err := r.it.Err(); err != nil {
					return fmt.Errorf("read logs: %w", err)
				}
				return nil
			}
			r.pending = true
		}
		ent := r.it.At()
		if ent.Timestamp > hi {
			return nil
		}
		r.pending = false
		if r.read++; r.read&4095 == 0 {
			if err := r.ev.ctx.Err(); err != nil {
				return err
			}
		}
		r.add(&ent)
	}
	return nil
}

func (r *rangeEval) add(ent *model.StreamEntry) {
	base := r.bases.get(ent)
	line, ok := r.pl.process(base, ent.Timestamp, ent.Line, ent.Metadata)
	if !ok {
		return
	}
	r.kept++
	lb := &r.pl.lb
	v, ok := r.x.value(lb, line)
	if !ok {
		return
	}
	var s *rangeSeries
	if lb.dirty {
		s = r.seriesOf(lb)
	} else if s = r.byBase[base]; s == nil {
		// The stream's own labels: the same series for all its entries
		// the pipeline leaves unchanged.
		s = r.seriesOf(lb)
		r.byBase[base] = s
	}
	s.samples = append(s.samples, model.Sample{T: ent.Timestamp, V: v})
	s.sum += v
}

// seriesOf returns the series of the labels in lb, creating it.
func (r *rangeEval) seriesOf(lb *labelsBuilder) *rangeSeries {
	g := r.x.group
	if g != nil && lb.hasErr() {
		// Errors keep every label, so that grouping cannot hide them.
		g = nil
	}
	h := lb.groupHash(g)
	s := r.series[h]
	for s != nil && !(g == nil && lb.equal(s.metric) || g != nil && lb.groupEqual(s.metric, g)) {
		s = s.next
	}
	if s == nil {
		s = &rangeSeries{metric: lb.groupLabels(g), hash: h, next: r.series[h]}
		s.hasErr = s.metric.Get(errorLabel)
		r.series[h] = s
		r.order = append(r.order, s)
	}
	return s
}

// step evicts samples at or before lo and aggregates each series' window.
func (r *rangeEval) step(lo, hi, t int64) ([]sample, error) {
	var vec []sample
	any := false
	for _, s := range r.order {
		s.evict(lo)
		w := s.window()
		if len(w) == 0 {
			continue
		}
		any = true
		if r.ra.Op == logql.RangeAbsent {
			continue
		}
		if s.hasErr != "" {
			return nil, pipelineError(s.hasErr, s.metric)
		}
		v, ok := aggregateWindow(r.ra, s, lo, hi)
		if !ok {
			continue
		}
		vec = append(vec, sample{metric: s.metric, v: v})
	}
	if r.ra.Op == logql.RangeAbsent && !any {
		vec = append(vec, sample{metric: absentLabels(r.ra.Log.Selector), v: 1})
	}
	return vec, nil
}

func pipelineError(errValue string, metric labels.Labels) error {
	return fmt.Errorf("%w: '%s' for series: '%s'.\n"+
		"Use a label filter to intentionally skip this error. (e.g | __error__!=\"%s\").\n"+
		"To skip all potential errors you can match empty errors.(e.g __error__=\"\")\n"+
		"The label filter can also be specified after unwrap. (e.g | unwrap latency | __error__=\"\" )\n",
		ErrPipeline, errValue, metric.String(), errValue)
}

// absentLabels are the labels of absent_over_time's sample: the equality
// matchers of the selector (a name matched twice is left out).
func absentLabels(ms []*labels.Matcher) labels.Labels {
	b := labels.NewBuilder(labels.EmptyLabels())
	seen := map[string]int{}
	for _, m := range ms {
		seen[m.Name]++
	}
	for _, m := range ms {
		if m.Type == labels.MatchEqual && seen[m.Name] == 1 {
			b.Set(m.Name, m.Value)
		}
	}
	return b.Labels()
}

// aggregateWindow computes the range function over a non-empty window.
func aggregateWindow(ra *logql.RangeAggregation, s *rangeSeries, lo, hi int64) (float64, bool) {
	w := s.window()
	secs := ra.Range.Seconds()
	switch ra.Op {
	case logql.RangeCount:
		return float64(len(w)), true
	case logql.RangeRate:
		if ra.Unwrap == nil {
			return float64(len(w)) / secs, true
		}
		return s.sum / secs, true
	case logql.RangeBytes, logql.RangeSum:
		return s.sum, true
	case logql.RangeBytesRate:
		return s.sum / secs, true
	case logql.RangeAvg:
		return avgOf(w), true
	case logql.RangeMin:
		m := w[0].V
		for _, p := range w[1:] {
			if p.V < m || math.IsNaN(m) {
				m = p.V
			}
		}
		return m, true
	case logql.RangeMax:
		m := w[0].V
		for _, p := range w[1:] {
			if p.V > m || math.IsNaN(m) {
				m = p.V
			}
		}
		return m, true
	case logql.RangeStdvar:
		return stdvarOf(w), true
	case logql.RangeStddev:
		return math.Sqrt(stdvarOf(w)), true
	case logql.RangeQuantile:
		vals := make([]float64, len(w))
		for i, p := range w {
			vals[i] = p.V
		}
		return quantile(ra.Param, vals), true
	case logql.RangeFirst:
		return w[0].V, true
	case logql.RangeLast:
		return w[len(w)-1].V, true
	case logql.RangeRateCounter:
		return extrapolatedRate(w, lo, hi, ra.Range), true
	}
	return 0, false
}

func avgOf(w []model.Sample) float64 {
	var sum float64
	for _, p := range w {
		sum += p.V
	}
	return sum / float64(len(w))
}

// stdvarOf is the population variance (Welford).
func stdvarOf(w []model.Sample) float64 {
	var mean, m2 float64
	for i, p := range w {
		d := p.V - mean
		mean += d / float64(i+1)
		m2 += d * (p.V - mean)
	}
	return m2 / float64(len(w))
}

// quantile is Prometheus' φ-quantile with linear interpolation; vals is
// sorted in place.
func quantile(q float64, vals []float64) float64 {
	if len(vals) == 0 || math.IsNaN(q) {
		return math.NaN()
	}
	if q < 0 {
		return math.Inf(-1)
	}
	if q > 1 {
		return math.Inf(1)
	}
	sort.Float64s(vals)
	n := float64(len(vals))
	rank := q * (n - 1)
	lower := math.Max(0, math.Floor(rank))
	upper := math.Min(n-1, lower+1)
	weight := rank - math.Floor(rank)
	return vals[int(lower)]*(1-weight) + vals[int(upper)]*weight
}

// extrapolatedRate is rate_counter: the per-second increase of a counter
// over the window (resets handled), extrapolated to the window edges as
// Prometheus' rate() does.
func extrapolatedRate(w []model.Sample, lo, hi int64, rng time.Duration) float64 {
	if len(w) < 2 {
		return 0
	}
	first, last := w[0], w[len(w)-1]
	result := last.V - first.V
	prev := first.V
	for _, p := range w[1:] {
		if p.V < prev {
			result += prev
		}
		prev = p.V
	}
	toStart := float64(first.T-lo) / 1e9
	toEnd := float64(hi-last.T) / 1e9
	sampled := float64(last.T-first.T) / 1e9
	avgStep := sampled / float64(len(w)-1)
	if result > 0 && first.V >= 0 {
		if toZero := sampled * (first.V / result); toZero < toStart {
			toStart = toZero
		}
	}
	threshold := avgStep * 1.1
	interval := sampled
	if toStart < threshold {
		interval += toStart
	} else {
		interval += avgStep / 2
	}
	if toEnd < threshold {
		interval += toEnd
	} else {
		interval += avgStep / 2
	}
	return result * (interval / sampled) / rng.Seconds()
}

// evaluator evaluates one metric query over its steps.
type evaluator struct {
	e     *Engine
	ctx   context.Context
	p     Params
	steps []int64
}
