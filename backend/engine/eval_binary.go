package engine

import (
	"fmt"
	"math"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/logql"
)

// errManyToMany ends the message of a match that needs unique series on a
// side but found duplicates.
var errManyToMany = "many-to-many matching not allowed: matching labels must be unique on one side"

func (ev *evaluator) evalBinary(x *logql.BinaryExpr) (value, error) {
	l, err := ev.eval(x.LHS)
	if err != nil {
		return value{}, err
	}
	r, err := ev.eval(x.RHS)
	if err != nil {
		return value{}, err
	}
	switch {
	case l.isScalar && r.isScalar:
		out := value{isScalar: true, scalars: make([]float64, len(ev.steps))}
		for i := range out.scalars {
			v, _ := binop(x.Op, l.scalars[i], r.scalars[i])
			if x.Op.IsComparison() {
				v = boolFloat(v != 0)
			}
			out.scalars[i] = v
		}
		return out, nil
	case l.isScalar || r.isScalar:
		return ev.vectorScalar(x, l, r), nil
	}
	if x.Op.IsSetOp() {
		return ev.setOp(x, l, r), nil
	}
	out := value{vecs: make([][]sample, len(ev.steps))}
	for i := range ev.steps {
		vec, err := vectorBinop(x, l.vecs[i], r.vecs[i])
		if err != nil {
			return value{}, err
		}
		out.vecs[i] = vec
	}
	return out, nil
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// binop applies op; for comparisons it returns lhs and whether it holds
// (1/0 in the value when used with bool is done by callers).
func binop(op logql.BinOp, a, b float64) (float64, bool) {
	switch op {
	case logql.BinAdd:
		return a + b, true
	case logql.BinSub:
		return a - b, true
	case logql.BinMul:
		return a * b, true
	case logql.BinDiv:
		// Loki answers NaN for any division by zero (not ±Inf).
		if b == 0 {
			return math.NaN(), true
		}
		return a / b, true
	case logql.BinMod:
		if b == 0 {
			return math.NaN(), true
		}
		return math.Mod(a, b), true
	case logql.BinPow:
		return math.Pow(a, b), true
	case logql.BinEq:
		return boolFloat(a == b), a == b
	case logql.BinNe:
		return boolFloat(a != b), a != b
	case logql.BinGt:
		return boolFloat(a > b), a > b
	case logql.BinGe:
		return boolFloat(a >= b), a >= b
	case logql.BinLt:
		return boolFloat(a < b), a < b
	case logql.BinLe:
		return boolFloat(a <= b), a <= b
	}
	return 0, false
}

// vectorScalar applies op between each sample and the scalar. Comparisons
// filter (keeping the vector's value) unless bool is given.
func (ev *evaluator) vectorScalar(x *logql.BinaryExpr, l, r value) value {
	out := value{vecs: make([][]sample, len(ev.steps))}
	swap := l.isScalar
	for i := range ev.steps {
		vec, sc := r.vecs, l.scalars
		if !swap {
			vec, sc = l.vecs, r.scalars
		}
		res := make([]sample, 0, len(vec[i]))
		for _, s := range vec[i] {
			a, b := s.v, sc[i]
			if swap {
				a, b = b, a
			}
			v, keep := binop(x.Op, a, b)
			if x.Op.IsComparison() {
				if x.ReturnBool {
					res = append(res, sample{metric: s.metric, v: v})
				} else if keep {
					res = append(res, sample{metric: s.metric, v: s.v})
				}
				continue
			}
			res = append(res, sample{metric: s.metric, v: v})
		}
		out.vecs[i] = res
	}
	return out
}

// signature hashes the labels a matching compares.
func signature(m *logql.VectorMatching, ls labels.Labels, buf []byte) (uint64, []byte) {
	if m == nil {
		return ls.Hash(), buf
	}
	if m.On {
		return ls.HashForLabels(buf, sortedCopy(m.Labels)...)
	}
	return ls.HashWithoutLabels(buf, sortedCopy(m.Labels)...)
}

func sortedCopy(s []string) []string {
	c := append([]string(nil), s...)
	for i := 1; i < len(c); i++ {
		for j := i; j > 0 && c[j] < c[j-1]; j-- {
			c[j], c[j-1] = c[j-1], c[j]
		}
	}
	return c
}

func (ev *evaluator) setOp(x *logql.BinaryExpr, l, r value) value {
	out := value{vecs: make([][]sample, len(ev.steps))}
	var buf []byte
	for i := range ev.steps {
		rs := map[uint64]bool{}
		for _, s := range r.vecs[i] {
			var h uint64
			h, buf = signature(x.Matching, s.metric, buf)
			rs[h] = true
		}
		var res []sample
		ls := map[uint64]bool{}
		for _, s := range l.vecs[i] {
			var h uint64
			h, buf = signature(x.Matching, s.metric, buf)
			ls[h] = true
			switch x.Op {
			case logql.BinAnd:
				if rs[h] {
					res = append(res, s)
				}
			case logql.BinUnless:
				if !rs[h] {
					res = append(res, s)
				}
			case logql.BinOr:
				res = append(res, s)
			}
		}
		if x.Op == logql.BinOr {
			for _, s := range r.vecs[i] {
				var h uint64
				h, buf = signature(x.Matching, s.metric, buf)
				if !ls[h] {
					res = append(res, s)
				}
			}
		}
		out.vecs[i] = res
	}
	return out
}

// vectorBinop matches the samples of both sides by signature and applies
// an arithmetic or comparison operator.
func vectorBinop(x *logql.BinaryExpr, lhs, rhs []sample) ([]sample, error) {
	m := x.Matching
	card := logql.CardOneToOne
	if m != nil {
		card = m.Card
	}
	// With group_right the "one" side is the left: swap so that the many
	// side is always lhs.
	swapped := card == logql.CardOneToMany
	if swapped {
		lhs, rhs = rhs, lhs
	}
	var buf []byte
	one := map[uint64]sample{}
	for _, s := range rhs {
		var h uint64
		h, buf = signature(m, s.metric, buf)
		if _, dup := one[h]; dup {
			return nil, fmt.Errorf("found duplicate series for the match group on the %s side of the operation: %s; %s", side(!swapped), s.metric, errManyToMany)
		}
		one[h] = s
	}
	var out []sample
	seen := map[uint64]bool{}
	outSeen := map[uint64]bool{}
	for _, s := range lhs {
		var h uint64
		h, buf = signature(m, s.metric, buf)
		o, ok := one[h]
		if !ok {
			continue
		}
		if card == logql.CardOneToOne {
			if seen[h] {
				return nil, fmt.Errorf("found duplicate series for the match group on the left side of the operation: %s; %s", s.metric, errManyToMany)
			}
			seen[h] = true
		}
		a, b := s.v, o.v
		if swapped {
			a, b = b, a
		}
		v, keep := binop(x.Op, a, b)
		if x.Op.IsComparison() && !x.ReturnBool {
			if !keep {
				continue
			}
			v = a
		}
		metric := resultMetric(s.metric, o.metric, m)
		if card != logql.CardOneToOne {
			mh := metric.Hash()
			if outSeen[mh] {
				return nil, fmt.Errorf("multiple matches for labels: grouping labels must ensure unique matches")
			}
			outSeen[mh] = true
		}
		out = append(out, sample{metric: metric, v: v})
	}
	return out, nil
}

func side(right bool) string {
	if right {
		return "right"
	}
	return "left"
}

// resultMetric derives the output labels from the many (or left) side:
// one-to-one with on keeps only the on labels, with ignoring drops them;
// group_x labels are copied from the one side.
func resultMetric(many, one labels.Labels, m *logql.VectorMatching) labels.Labels {
	if m == nil {
		return many
	}
	b := labels.NewBuilder(many)
	if m.Card == logql.CardOneToOne {
		if m.On {
			b.Keep(m.Labels...)
		} else {
			b.Del(m.Labels...)
		}
	}
	for _, n := range m.Include {
		if v := one.Get(n); v != "" {
			b.Set(n, v)
		} else {
			b.Del(n)
		}
	}
	return b.Labels()
}
