package logql

import (
	"math"
	"slices"

	"github.com/prometheus/prometheus/model/labels"
)

// Equal reports whether a and b are the same tree. Matchers compare by type,
// name and value; NaN equals NaN; nil and empty slices are equal.
func Equal(a, b Expr) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	switch a := a.(type) {
	case *LogExpr:
		b, ok := b.(*LogExpr)
		return ok && equalLog(a, b)
	case *RangeAggregation:
		b, ok := b.(*RangeAggregation)
		return ok && a.Op == b.Op && sameFloat(a.Param, b.Param) && equalLog(a.Log, b.Log) &&
			equalUnwrap(a.Unwrap, b.Unwrap) && a.Range == b.Range && a.Offset == b.Offset &&
			equalGrouping(a.Grouping, b.Grouping)
	case *VectorAggregation:
		b, ok := b.(*VectorAggregation)
		return ok && a.Op == b.Op && a.Param == b.Param && equalGrouping(a.Grouping, b.Grouping) && Equal(a.Expr, b.Expr)
	case *BinaryExpr:
		b, ok := b.(*BinaryExpr)
		return ok && a.Op == b.Op && a.ReturnBool == b.ReturnBool && equalMatching(a.Matching, b.Matching) &&
			Equal(a.LHS, b.LHS) && Equal(a.RHS, b.RHS)
	case *LiteralExpr:
		b, ok := b.(*LiteralExpr)
		return ok && sameFloat(a.Value, b.Value)
	case *VectorExpr:
		b, ok := b.(*VectorExpr)
		return ok && sameFloat(a.Value, b.Value)
	case *LabelReplace:
		b, ok := b.(*LabelReplace)
		return ok && a.Dst == b.Dst && a.Replacement == b.Replacement && a.Src == b.Src && a.Regex == b.Regex &&
			Equal(a.Expr, b.Expr)
	}
	return false
}

func sameFloat(a, b float64) bool { return a == b || (math.IsNaN(a) && math.IsNaN(b)) }

func equalMatchers(a, b []*labels.Matcher) bool {
	return slices.EqualFunc(a, b, equalMatcher)
}

func equalMatcher(a, b *labels.Matcher) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Type == b.Type && a.Name == b.Name && a.Value == b.Value
}

func equalLog(a, b *LogExpr) bool {
	if a == nil || b == nil {
		return a == b
	}
	return equalMatchers(a.Selector, b.Selector) && slices.EqualFunc(a.Pipeline, b.Pipeline, equalStage)
}

func equalGrouping(a, b *Grouping) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Without == b.Without && slices.Equal(a.Labels, b.Labels)
}

func equalMatching(a, b *VectorMatching) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Card == b.Card && a.On == b.On && slices.Equal(a.Labels, b.Labels) && slices.Equal(a.Include, b.Include)
}

func equalUnwrap(a, b *Unwrap) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Label == b.Label && a.Conv == b.Conv && slices.EqualFunc(a.Filters, b.Filters, EqualLabelFilter)
}

func equalLabelRef(a, b LabelRef) bool { return a.Name == b.Name && equalMatcher(a.Matcher, b.Matcher) }

// EqualStage reports whether two pipeline stages are the same.
func EqualStage(a, b Stage) bool { return equalStage(a, b) }

func equalStage(a, b Stage) bool {
	switch a := a.(type) {
	case *LineFilter:
		b, ok := b.(*LineFilter)
		return ok && a.Op == b.Op && a.Match == b.Match && a.IP == b.IP && slices.Equal(a.Or, b.Or)
	case *ParserStage:
		b, ok := b.(*ParserStage)
		return ok && a.Kind == b.Kind && a.Expr == b.Expr && a.Strict == b.Strict && a.KeepEmpty == b.KeepEmpty &&
			slices.Equal(a.Params, b.Params)
	case *LabelFilterStage:
		b, ok := b.(*LabelFilterStage)
		return ok && EqualLabelFilter(a.Filter, b.Filter)
	case *LineFormat:
		b, ok := b.(*LineFormat)
		return ok && a.Template == b.Template
	case *LabelFormat:
		b, ok := b.(*LabelFormat)
		return ok && slices.Equal(a.Labels, b.Labels)
	case *DropLabels:
		b, ok := b.(*DropLabels)
		return ok && slices.EqualFunc(a.Labels, b.Labels, equalLabelRef)
	case *KeepLabels:
		b, ok := b.(*KeepLabels)
		return ok && slices.EqualFunc(a.Labels, b.Labels, equalLabelRef)
	case *Decolorize:
		_, ok := b.(*Decolorize)
		return ok
	}
	return false
}

// EqualLabelFilter reports whether two label filters are the same tree.
func EqualLabelFilter(a, b LabelFilter) bool {
	switch a := a.(type) {
	case *BinaryLabelFilter:
		b, ok := b.(*BinaryLabelFilter)
		return ok && a.Or == b.Or && EqualLabelFilter(a.Left, b.Left) && EqualLabelFilter(a.Right, b.Right)
	case *StringLabelFilter:
		b, ok := b.(*StringLabelFilter)
		return ok && equalMatcher(a.Matcher, b.Matcher)
	case *NumericLabelFilter:
		b, ok := b.(*NumericLabelFilter)
		return ok && a.Name == b.Name && a.Op == b.Op && sameFloat(a.Value, b.Value)
	case *DurationLabelFilter:
		b, ok := b.(*DurationLabelFilter)
		return ok && *a == *b
	case *BytesLabelFilter:
		b, ok := b.(*BytesLabelFilter)
		return ok && *a == *b
	case *IPLabelFilter:
		b, ok := b.(*IPLabelFilter)
		return ok && *a == *b
	}
	return false
}
