package engine

import (
	"context"
	"fmt"
	"math"
	"sort"

	"github.com/grafana/regexp"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/logql"
	"github.com/lode-logs/lode/backend/model"
)

// sample is one element of a step's vector.
type sample struct {
	metric labels.Labels
	v      float64
}

// value is the result of a node at every step: a scalar per step or a
// vector per step.
type value struct {
	isScalar bool
	scalars  []float64
	vecs     [][]sample
}

func (e *Engine) execMetric(ctx context.Context, expr logql.SampleExpr, p Params) (*Result, error) {
	ev := &evaluator{e: e, ctx: ctx, p: p, steps: stepTimes(p)}
	v, err := ev.eval(expr)
	if err != nil {
		return nil, err
	}
	if p.Instant {
		return ev.instantResult(expr, v)
	}
	return ev.rangeResult(v)
}

// stepTimes returns the evaluation times: start, start+step, ... <= end for
// a range query, the single time end for an instant one.
func stepTimes(p Params) []int64 {
	if p.Instant {
		return []int64{p.End.UnixNano()}
	}
	start, end, step := p.Start.UnixNano(), p.End.UnixNano(), p.Step.Nanoseconds()
	out := make([]int64, 0, (end-start)/step+1)
	for t := start; t <= end; t += step {
		out = append(out, t)
	}
	return out
}

func (ev *evaluator) instantResult(expr logql.SampleExpr, v value) (*Result, error) {
	t := ev.steps[0]
	if v.isScalar {
		return &Result{Type: TypeScalar, Scalar: model.Sample{T: t, V: v.scalars[0]}}, nil
	}
	vec := v.vecs[0]
	if len(vec) > ev.p.Limits.MaxQuerySeries {
		return nil, fmt.Errorf("%w (max_query_series: %d)", ErrMaxSeries, ev.p.Limits.MaxQuerySeries)
	}
	out := make([]Sample, len(vec))
	for i, s := range vec {
		out[i] = Sample{Metric: s.metric, T: t, V: s.v}
	}
	// Instant vectors come sorted by labels unless the query sorts by value.
	if va, ok := expr.(*logql.VectorAggregation); !ok || (va.Op != logql.VectorSort && va.Op != logql.VectorSortDesc) {
		sort.SliceStable(out, func(i, j int) bool { return labels.Compare(out[i].Metric, out[j].Metric) < 0 })
	}
	return &Result{Type: TypeVector, Vector: out}, nil
}

func (ev *evaluator) rangeResult(v value) (*Result, error) {
	if v.isScalar {
		s := Series{Metric: labels.EmptyLabels()}
		for i, t := range ev.steps {
			s.Samples = append(s.Samples, model.Sample{T: t, V: v.scalars[i]})
		}
		return &Result{Type: TypeMatrix, Matrix: []Series{s}}, nil
	}
	byHash := map[uint64][]int{}
	var matrix []Series
	for i, vec := range v.vecs {
		t := ev.steps[i]
		for _, s := range vec {
			h := s.metric.Hash()
			idx := -1
			for _, k := range byHash[h] {
				if labels.Equal(matrix[k].Metric, s.metric) {
					idx = k
					break
				}
			}
			if idx < 0 {
				idx = len(matrix)
				byHash[h] = append(byHash[h], idx)
				matrix = append(matrix, Series{Metric: s.metric})
				if len(matrix) > ev.p.Limits.MaxQuerySeries {
					return nil, fmt.Errorf("%w (max_query_series: %d)", ErrMaxSeries, ev.p.Limits.MaxQuerySeries)
				}
			}
			matrix[idx].Samples = append(matrix[idx].Samples, model.Sample{T: t, V: s.v})
		}
	}
	sort.Slice(matrix, func(i, j int) bool { return labels.Compare(matrix[i].Metric, matrix[j].Metric) < 0 })
	if matrix == nil {
		matrix = []Series{}
	}
	return &Result{Type: TypeMatrix, Matrix: matrix}, nil
}

func (ev *evaluator) eval(expr logql.SampleExpr) (value, error) {
	switch x := expr.(type) {
	case *logql.RangeAggregation:
		vecs, err := ev.evalRange(x, nil)
		return value{vecs: vecs}, err
	case *logql.VectorAggregation:
		var in value
		var err error
		if ra, ok := canPushGrouping(x); ok {
			g := x.Grouping
			if g == nil {
				g = &logql.Grouping{} // sum(...) is sum by ()
			}
			in.vecs, err = ev.evalRange(ra, g)
		} else {
			in, err = ev.eval(x.Expr)
		}
		if err != nil {
			return value{}, err
		}
		if in.isScalar {
			return value{}, fmt.Errorf("%s over a scalar: %w", x.Op, ErrUnsupported)
		}
		return value{vecs: aggregateVectors(x, in.vecs)}, nil
	case *logql.BinaryExpr:
		return ev.evalBinary(x)
	case *logql.LiteralExpr:
		return ev.scalar(x.Value), nil
	case *logql.VectorExpr:
		out := value{vecs: make([][]sample, len(ev.steps))}
		for i := range out.vecs {
			out.vecs[i] = []sample{{metric: labels.EmptyLabels(), v: x.Value}}
		}
		return out, nil
	case *logql.LabelReplace:
		in, err := ev.eval(x.Expr)
		if err != nil {
			return value{}, err
		}
		return labelReplace(x, in)
	}
	return value{}, fmt.Errorf("expression %T: %w", expr, ErrUnsupported)
}

func (ev *evaluator) scalar(v float64) value {
	out := value{isScalar: true, scalars: make([]float64, len(ev.steps))}
	for i := range out.scalars {
		out.scalars[i] = v
	}
	return out
}

func labelReplace(x *logql.LabelReplace, in value) (value, error) {
	if in.isScalar {
		return value{}, fmt.Errorf("label_replace over a scalar: %w", ErrUnsupported)
	}
	re, err := regexp.Compile("^(?s:" + x.Regex + ")$")
	if err != nil {
		return value{}, fmt.Errorf("label_replace regexp %q: %w", x.Regex, err)
	}
	cache := map[uint64]labels.Labels{}
	out := value{vecs: make([][]sample, len(in.vecs))}
	for i, vec := range in.vecs {
		res := make([]sample, 0, len(vec))
		for _, s := range vec {
			h := s.metric.Hash()
			m, ok := cache[h]
			if !ok {
				m = replaceLabel(s.metric, x, re)
				cache[h] = m
			}
			res = append(res, sample{metric: m, v: s.v})
		}
		out.vecs[i] = res
	}
	return out, nil
}

func replaceLabel(ls labels.Labels, x *logql.LabelReplace, re *regexp.Regexp) labels.Labels {
	src := ls.Get(x.Src)
	idx := re.FindStringSubmatchIndex(src)
	if idx == nil {
		return ls
	}
	res := re.ExpandString(nil, x.Replacement, src, idx)
	b := labels.NewBuilder(ls)
	if len(res) == 0 {
		b.Del(x.Dst)
	} else {
		b.Set(x.Dst, string(res))
	}
	return b.Labels()
}

// groupKey caches the grouped labels of input series.
type groupKey struct {
	hash   uint64
	metric labels.Labels
}

// aggregateVectors applies a vector aggregation at every step.
func aggregateVectors(va *logql.VectorAggregation, vecs [][]sample) [][]sample {
	g := newGrouping(va.Grouping)
	keys := map[uint64]groupKey{}
	var buf []byte
	keyOf := func(ls labels.Labels) groupKey {
		h := ls.Hash()
		if k, ok := keys[h]; ok {
			return k
		}
		var k groupKey
		switch {
		case g == nil:
			k = groupKey{metric: labels.EmptyLabels()}
		case g.without:
			k.hash, buf = ls.HashWithoutLabels(buf, g.names...)
			k.metric = labels.NewBuilder(ls).Del(g.names...).Labels()
		default:
			k.hash, buf = ls.HashForLabels(buf, g.names...)
			k.metric = labels.NewBuilder(ls).Keep(g.names...).Labels()
		}
		keys[h] = k
		return k
	}
	out := make([][]sample, len(vecs))
	for i, vec := range vecs {
		switch va.Op {
		case logql.VectorTopK, logql.VectorBottomK:
			out[i] = topK(va, vec, keyOf)
		case logql.VectorSort, logql.VectorSortDesc:
			out[i] = sortVector(va.Op == logql.VectorSortDesc, vec)
		default:
			out[i] = aggregateStep(va.Op, vec, keyOf)
		}
	}
	return out
}

type aggGroup struct {
	metric        labels.Labels
	sum, mean, m2 float64
	min, max      float64
	count         int
}

func aggregateStep(op logql.VectorOp, vec []sample, keyOf func(labels.Labels) groupKey) []sample {
	groups := map[uint64]*aggGroup{}
	var order []*aggGroup
	for _, s := range vec {
		k := keyOf(s.metric)
		a, ok := groups[k.hash]
		if !ok {
			a = &aggGroup{metric: k.metric, min: s.v, max: s.v}
			groups[k.hash] = a
			order = append(order, a)
		}
		a.count++
		a.sum += s.v
		d := s.v - a.mean
		a.mean += d / float64(a.count)
		a.m2 += d * (s.v - a.mean)
		if s.v < a.min || math.IsNaN(a.min) {
			a.min = s.v
		}
		if s.v > a.max || math.IsNaN(a.max) {
			a.max = s.v
		}
	}
	out := make([]sample, 0, len(order))
	for _, a := range order {
		var v float64
		switch op {
		case logql.VectorSum:
			v = a.sum
		case logql.VectorAvg:
			v = a.mean
		case logql.VectorMin:
			v = a.min
		case logql.VectorMax:
			v = a.max
		case logql.VectorCount:
			v = float64(a.count)
		case logql.VectorStdvar:
			v = a.m2 / float64(a.count)
		case logql.VectorStddev:
			v = math.Sqrt(a.m2 / float64(a.count))
		}
		out = append(out, sample{metric: a.metric, v: v})
	}
	return out
}

// topK keeps, per group, the k largest (topk) or smallest (bottomk) samples
// with their own labels; NaN ranks last.
func topK(va *logql.VectorAggregation, vec []sample, keyOf func(labels.Labels) groupKey) []sample {
	groups := map[uint64][]sample{}
	var order []uint64
	for _, s := range vec {
		k := keyOf(s.metric)
		if _, ok := groups[k.hash]; !ok {
			order = append(order, k.hash)
		}
		groups[k.hash] = append(groups[k.hash], s)
	}
	top := va.Op == logql.VectorTopK
	var out []sample
	for _, h := range order {
		ss := groups[h]
		sort.SliceStable(ss, func(i, j int) bool {
			a, b := ss[i].v, ss[j].v
			if math.IsNaN(a) || math.IsNaN(b) {
				return !math.IsNaN(a)
			}
			if top {
				return a > b
			}
			return a < b
		})
		if len(ss) > va.Param {
			ss = ss[:va.Param]
		}
		out = append(out, ss...)
	}
	return out
}

func sortVector(desc bool, vec []sample) []sample {
	out := append([]sample(nil), vec...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].v, out[j].v
		if math.IsNaN(a) || math.IsNaN(b) {
			return !math.IsNaN(a)
		}
		if desc {
			return a > b
		}
		return a < b
	})
	return out
}
