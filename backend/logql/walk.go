package logql

import (
	"slices"

	"github.com/prometheus/prometheus/model/labels"
)

// Walk calls fn for e and, while fn returns true, for its sub-expressions in
// pre-order, left to right. The *LogExpr inside a RangeAggregation is
// visited as a child of the aggregation.
func Walk(e Expr, fn func(Expr) bool) {
	if e == nil || !fn(e) {
		return
	}
	switch e := e.(type) {
	case *RangeAggregation:
		Walk(e.Log, fn)
	case *VectorAggregation:
		Walk(e.Expr, fn)
	case *BinaryExpr:
		Walk(e.LHS, fn)
		Walk(e.RHS, fn)
	case *LabelReplace:
		Walk(e.Expr, fn)
	}
}

// Matchers returns the selector of every log expression of e, in query
// order (one entry per selector; a binary operation can have several).
func Matchers(e Expr) [][]*labels.Matcher {
	var out [][]*labels.Matcher
	Walk(e, func(e Expr) bool {
		if le, ok := e.(*LogExpr); ok {
			out = append(out, le.Selector)
		}
		return true
	})
	return out
}

// Needles returns literals that every line the expression selects must
// contain, so that storage can skip blocks that contain none of them. They
// come from |= filters without "or" alternatives and without ip(), that
// run before the first stage that rewrites the line (line_format,
// decolorize, unpack); label filters, parsers other than unpack, and
// drop/keep/label_format do not change the line. Empty literals are left
// out; each needle appears once.
func (e *LogExpr) Needles() []string {
	var needles []string
	for _, s := range e.Pipeline {
		switch s := s.(type) {
		case *LineFilter:
			if s.Op == LineContains && !s.IP && len(s.Or) == 0 && s.Match != "" && !slices.Contains(needles, s.Match) {
				needles = append(needles, s.Match)
			}
		case *LineFormat, *Decolorize:
			return needles
		case *ParserStage:
			if s.Kind == ParserUnpack {
				return needles
			}
		}
	}
	return needles
}
