package engine

import (
	"cmp"
	"math"
	"slices"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/logql"
	"github.com/lode-logs/lode/backend/model"
)

// windowOps are the range aggregations whose window value depends only on
// the number of samples in the window and the sum of their values: their
// samples can be added in any order, stream by stream, with no window kept
// in memory.
func windowOp(ra *logql.RangeAggregation) bool {
	if ra.Unwrap != nil {
		return false
	}
	switch ra.Op {
	case logql.RangeCount, logql.RangeRate, logql.RangeBytes, logql.RangeBytesRate, logql.RangeAbsent:
		return true
	}
	return false
}

// windowDelta is a change of a series' window count and sum starting at
// window i.
type windowDelta struct {
	i int
	n int64
	v float64
}

// windowSeries is one series of a window aggregation: its samples as
// sparse differences, +n at the first window holding them (up) and -n past
// the last (down), so that adding a sample costs O(1) whatever Range/Step.
// Values are whole numbers (1 or a line's bytes), so the sums are exact.
type windowSeries struct {
	metric labels.Labels
	hash   uint64
	next   *windowSeries
	hasErr string // the __error__ value, if the series carries one
	// Where a time-ordered read meets the series first: its earliest
	// sample's time and stream (then labels break ties).
	firstT  int64
	firstFp model.Fingerprint
	up      []windowDelta
	down    []windowDelta
}

func appendDelta(d []windowDelta, i int, n int64, v float64) []windowDelta {
	if k := len(d); k > 0 && d[k-1].i == i {
		d[k-1].n += n
		d[k-1].v += v
		return d
	}
	return append(d, windowDelta{i: i, n: n, v: v})
}

// add counts n samples of total value v in windows first..last, the
// earliest at time t of stream fp.
func (s *windowSeries) add(first, last int, n int64, v float64, t int64, fp model.Fingerprint) {
	s.up = appendDelta(s.up, first, n, v)
	s.down = appendDelta(s.down, last+1, n, v)
	if t < s.firstT || t == s.firstT && fp < s.firstFp {
		s.firstT, s.firstFp = t, fp
	}
}

func byWindow(a, b windowDelta) int { return cmp.Compare(a.i, b.i) }

// each calls fn for every window (below count) holding samples, in order,
// with their number and sum.
func (s *windowSeries) each(count int, fn func(i int, n int64, v float64)) {
	if len(s.up)+len(s.down) > count/4 {
		s.eachDense(count, fn)
	} else {
		s.eachSparse(count, fn)
	}
}

// eachSparse is each for series with few differences: they are sorted and
// swept.
func (s *windowSeries) eachSparse(count int, fn func(i int, n int64, v float64)) {
	if !slices.IsSortedFunc(s.up, byWindow) {
		slices.SortFunc(s.up, byWindow)
	}
	if !slices.IsSortedFunc(s.down, byWindow) {
		slices.SortFunc(s.down, byWindow)
	}
	var n int64
	var v float64
	u, d := 0, 0
	for u < len(s.up) || d < len(s.down) {
		i := math.MaxInt
		if u < len(s.up) {
			i = s.up[u].i
		}
		if d < len(s.down) {
			i = min(i, s.down[d].i)
		}
		for ; u < len(s.up) && s.up[u].i == i; u++ {
			n, v = n+s.up[u].n, v+s.up[u].v
		}
		for ; d < len(s.down) && s.down[d].i == i; d++ {
			n, v = n-s.down[d].n, v-s.down[d].v
		}
		end := count
		if u < len(s.up) {
			end = min(end, s.up[u].i)
		}
		if d < len(s.down) {
			end = min(end, s.down[d].i)
		}
		if n > 0 {
			for k := i; k < end; k++ {
				fn(k, n, v)
			}
		}
		if end >= count {
			return
		}
	}
}

// eachDense is each for series with many differences: they are added up
// in one array over the windows rather than sorted.
func (s *windowSeries) eachDense(count int, fn func(i int, n int64, v float64)) {
	n := make([]int64, count+1)
	v := make([]float64, count+1)
	for _, d := range s.up {
		n[min(d.i, count)] += d.n
		v[min(d.i, count)] += d.v
	}
	for _, d := range s.down {
		n[min(d.i, count)] -= d.n
		v[min(d.i, count)] -= d.v
	}
	var rn int64
	var rv float64
	for i := range count {
		rn, rv = rn+n[i], rv+v[i]
		if rn > 0 {
			fn(i, rn, rv)
		}
	}
}

// windowSet holds the series of one window aggregation.
type windowSet struct {
	w      model.Windows
	series map[uint64]*windowSeries
	all    []*windowSeries
}

func newWindowSet(w model.Windows) *windowSet {
	return &windowSet{w: w, series: map[uint64]*windowSeries{}}
}

// get returns the series of the labels in lb under grouping g (errors keep
// every label, so that grouping cannot hide them), creating it.
func (ws *windowSet) get(lb *labelsBuilder, g *grouping) *windowSeries {
	if g != nil && lb.hasErr() {
		g = nil
	}
	h := lb.groupHash(g)
	s := ws.series[h]
	for s != nil && !(g == nil && lb.equal(s.metric) || g != nil && lb.groupEqual(s.metric, g)) {
		s = s.next
	}
	if s == nil {
		s = &windowSeries{metric: lb.groupLabels(g), hash: h, next: ws.series[h], firstT: math.MaxInt64}
		s.hasErr = s.metric.Get(errorLabel)
		ws.series[h] = s
		ws.all = append(ws.all, s)
	}
	return s
}

// merge adds the series of o (built over the same windows) to ws.
func (ws *windowSet) merge(o *windowSet) {
	for _, s := range o.all {
		t := ws.series[s.hash]
		for t != nil && !labels.Equal(t.metric, s.metric) {
			t = t.next
		}
		if t == nil {
			t = &windowSeries{metric: s.metric, hash: s.hash, next: ws.series[s.hash], hasErr: s.hasErr, firstT: math.MaxInt64}
			ws.series[s.hash] = t
			ws.all = append(ws.all, t)
		}
		t.up = append(t.up, s.up...)
		t.down = append(t.down, s.down...)
		if s.firstT < t.firstT || s.firstT == t.firstT && s.firstFp < t.firstFp {
			t.firstT, t.firstFp = s.firstT, s.firstFp
		}
	}
}

// vectors returns the vector of every window for range aggregation ra, or
// the pipeline error of the series that a time-ordered evaluation would
// have met first.
func (ws *windowSet) vectors(ra *logql.RangeAggregation) ([][]sample, error) {
	order := slices.Clone(ws.all)
	slices.SortFunc(order, func(a, b *windowSeries) int {
		return cmp.Or(cmp.Compare(a.firstT, b.firstT), cmp.Compare(a.firstFp, b.firstFp), labels.Compare(a.metric, b.metric))
	})
	out := make([][]sample, ws.w.Count)
	if ra.Op != logql.RangeAbsent {
		if err := firstError(order, ws.w.Count); err != nil {
			return nil, err
		}
	}
	secs := ra.Range.Seconds()
	for _, s := range order {
		s.each(ws.w.Count, func(i int, n int64, v float64) {
			if ra.Op == logql.RangeAbsent {
				out[i] = append(out[i], sample{})
				return
			}
			var x float64
			switch ra.Op {
			case logql.RangeCount:
				x = float64(n)
			case logql.RangeRate:
				x = float64(n) / secs
			case logql.RangeBytes:
				x = v
			case logql.RangeBytesRate:
				x = v / secs
			}
			out[i] = append(out[i], sample{metric: s.metric, v: x})
		})
	}
	if ra.Op == logql.RangeAbsent {
		absent := absentLabels(ra.Log.Selector)
		for i, vec := range out {
			out[i] = nil
			if len(vec) == 0 {
				out[i] = []sample{{metric: absent, v: 1}}
			}
		}
	}
	return out, nil
}

// firstError returns the pipeline error of the first series (in order)
// carrying __error__ at the earliest window where one has samples.
func firstError(order []*windowSeries, count int) error {
	var first *windowSeries
	at := count
	for _, s := range order {
		if s.hasErr == "" {
			continue
		}
		s.each(count, func(i int, _ int64, _ float64) {
			if i < at {
				first, at = s, i
			}
		})
	}
	if first != nil {
		return pipelineError(first.hasErr, first.metric)
	}
	return nil
}
