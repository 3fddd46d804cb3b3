package engine

import (
	"fmt"
	"strconv"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/logql"
)

// labelFilter is a predicate on the labels of a line. Conversion failures
// set __error__ and keep the line, as in Loki.
type labelFilter interface {
	filter(lb *labelsBuilder) bool
}

// labelFilterStage adapts a labelFilter to a pipeline stage.
type labelFilterStage struct{ f labelFilter }

func (s labelFilterStage) process(_ int64, line []byte, lb *labelsBuilder) ([]byte, bool) {
	return line, s.f.filter(lb)
}

func newLabelFilter(f logql.LabelFilter) (labelFilter, error) {
	switch f := f.(type) {
	case *logql.BinaryLabelFilter:
		l, err := newLabelFilter(f.Left)
		if err != nil {
			return nil, err
		}
		r, err := newLabelFilter(f.Right)
		if err != nil {
			return nil, err
		}
		return binaryLabelFilter{left: l, right: r, or: f.Or}, nil
	case *logql.StringLabelFilter:
		return stringLabelFilter{f.Matcher}, nil
	case *logql.NumericLabelFilter:
		return numericLabelFilter{name: f.Name, op: f.Op, value: f.Value}, nil
	case *logql.DurationLabelFilter:
		return durationLabelFilter{name: f.Name, op: f.Op, value: f.Value}, nil
	case *logql.BytesLabelFilter:
		return bytesLabelFilter{name: f.Name, op: f.Op, value: f.Value}, nil
	case *logql.IPLabelFilter:
		m, err := newIPMatcher(f.Pattern)
		if err != nil {
			return nil, err
		}
		return ipLabelFilter{name: f.Name, neg: f.Op == logql.CmpNe, m: m}, nil
	}
	return nil, fmt.Errorf("label filter %T: %w", f, ErrUnsupported)
}

// binaryLabelFilter evaluates both sides of "and" (so both may record
// errors) and short-cuts "or" when the left side keeps the line.
type binaryLabelFilter struct {
	left, right labelFilter
	or          bool
}

func (f binaryLabelFilter) filter(lb *labelsBuilder) bool {
	l := f.left.filter(lb)
	if f.or && l {
		return true
	}
	r := f.right.filter(lb)
	if f.or {
		return r
	}
	return l && r
}

// stringLabelFilter matches a label value like a stream matcher; a missing
// label matches as the empty string. It is the only filter that can remove
// lines carrying __error__.
type stringLabelFilter struct{ m *labels.Matcher }

func (f stringLabelFilter) filter(lb *labelsBuilder) bool {
	v, _ := lb.get(f.m.Name)
	return f.m.Matches(v)
}

func compare(op logql.CmpOp, a, b float64) bool {
	switch op {
	case logql.CmpEq:
		return a == b
	case logql.CmpNe:
		return a != b
	case logql.CmpGt:
		return a > b
	case logql.CmpGe:
		return a >= b
	case logql.CmpLt:
		return a < b
	case logql.CmpLe:
		return a <= b
	}
	return false
}

// numericLabelFilter compares a label parsed as a float. Lines that already
// carry an error pass untouched; a missing label drops the line.
type numericLabelFilter struct {
	name  string
	op    logql.CmpOp
	value float64
}

func (f numericLabelFilter) filter(lb *labelsBuilder) bool {
	if lb.hasErr() {
		return true
	}
	v, ok := lb.get(f.name)
	if !ok {
		return false
	}
	x, err := strconv.ParseFloat(v, 64)
	if err != nil {
		lb.setErr(errLabelFilter, err.Error())
		return true
	}
	return compare(f.op, x, f.value)
}

type durationLabelFilter struct {
	name  string
	op    logql.CmpOp
	value time.Duration
}

func (f durationLabelFilter) filter(lb *labelsBuilder) bool {
	if lb.hasErr() {
		return true
	}
	v, ok := lb.get(f.name)
	if !ok {
		return false
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		lb.setErr(errLabelFilter, err.Error())
		return true
	}
	return compare(f.op, float64(d), float64(f.value))
}

type bytesLabelFilter struct {
	name  string
	op    logql.CmpOp
	value uint64
}

func (f bytesLabelFilter) filter(lb *labelsBuilder) bool {
	if lb.hasErr() {
		return true
	}
	v, ok := lb.get(f.name)
	if !ok {
		return false
	}
	n, ok := logql.ParseBytes(v)
	if !ok {
		lb.setErr(errLabelFilter, "cannot parse "+strconv.Quote(v)+" as bytes")
		return true
	}
	return compare(f.op, float64(n), float64(f.value))
}

type ipLabelFilter struct {
	name string
	neg  bool
	m    ipMatcher
}

func (f ipLabelFilter) filter(lb *labelsBuilder) bool {
	v, ok := lb.get(f.name)
	if !ok {
		return false
	}
	return f.m.matchString(v) != f.neg
}

// dropStage is `| drop a, b="v"`: removes the labels (a matcher removes its
// label only when it matches).
type dropStage struct{ refs []logql.LabelRef }

func (s dropStage) process(_ int64, line []byte, lb *labelsBuilder) ([]byte, bool) {
	for _, r := range s.refs {
		if r.Matcher != nil {
			v, ok := lb.get(r.Name)
			if !ok || !r.Matcher.Matches(v) {
				continue
			}
		}
		lb.delete(r.Name)
	}
	return line, true
}

// keepStage is `| keep a, b="v"`: removes every label not listed (or whose
// matcher does not match). __error__ and __error_details__ are never
// removed by keep.
type keepStage struct {
	refs  []logql.LabelRef
	names []string
}

func (s *keepStage) kept(name, value string) bool {
	if name == errorLabel || name == errorDetailsLabel {
		return true
	}
	for _, r := range s.refs {
		if r.Name != name {
			continue
		}
		if r.Matcher == nil || r.Matcher.Matches(value) {
			return true
		}
	}
	return false
}

func (s *keepStage) process(_ int64, line []byte, lb *labelsBuilder) ([]byte, bool) {
	s.names = s.names[:0]
	lb.each(func(n, v string) {
		if !s.kept(n, v) {
			s.names = append(s.names, n)
		}
	})
	for _, n := range s.names {
		lb.delete(n)
	}
	return line, true
}
