package logql

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

// The printer writes canonical LogQL: one space around binary operators and
// between stages, strings double-quoted with Go escapes, durations in the
// largest exact units, by/without before the aggregation body, and
// parentheses only where precedence needs them.

func (e *LogExpr) String() string {
	var b strings.Builder
	e.write(&b)
	return b.String()
}

func (e *LogExpr) write(b *strings.Builder) {
	writeSelector(b, e.Selector)
	for _, s := range e.Pipeline {
		b.WriteByte(' ')
		writeStage(b, s)
	}
}

// SelectorString prints matchers as a stream selector: {a="b", c=~"d"}.
func SelectorString(ms []*labels.Matcher) string {
	var b strings.Builder
	writeSelector(&b, ms)
	return b.String()
}

func writeSelector(b *strings.Builder, ms []*labels.Matcher) {
	b.WriteByte('{')
	for i, m := range ms {
		if i > 0 {
			b.WriteString(", ")
		}
		writeMatcher(b, m)
	}
	b.WriteByte('}')
}

func writeMatcher(b *strings.Builder, m *labels.Matcher) {
	b.WriteString(m.Name)
	b.WriteString(m.Type.String())
	b.WriteString(strconv.Quote(m.Value))
}

func writeStage(b *strings.Builder, s Stage) {
	switch s := s.(type) {
	case *LineFilter:
		s.write(b)
	case *ParserStage:
		s.write(b)
	case *LabelFilterStage:
		b.WriteString("| ")
		writeLabelFilter(b, s.Filter, 0, true)
	case *LineFormat:
		b.WriteString("| line_format ")
		b.WriteString(strconv.Quote(s.Template))
	case *LabelFormat:
		s.write(b)
	case *DropLabels:
		b.WriteString("| drop ")
		writeLabelRefs(b, s.Labels)
	case *KeepLabels:
		b.WriteString("| keep ")
		writeLabelRefs(b, s.Labels)
	case *Decolorize:
		b.WriteString("| decolorize")
	default:
		panic("BUG: unknown stage type")
	}
}

func stageString(s Stage) string {
	var b strings.Builder
	writeStage(&b, s)
	return b.String()
}

func (s *LineFilter) String() string       { return stageString(s) }
func (s *ParserStage) String() string      { return stageString(s) }
func (s *LabelFilterStage) String() string { return stageString(s) }
func (s *LineFormat) String() string       { return stageString(s) }
func (s *LabelFormat) String() string      { return stageString(s) }
func (s *DropLabels) String() string       { return stageString(s) }
func (s *KeepLabels) String() string       { return stageString(s) }
func (s *Decolorize) String() string       { return stageString(s) }

func (s *LineFilter) write(b *strings.Builder) {
	b.WriteString(s.Op.String())
	b.WriteByte(' ')
	writeLineValue(b, s.Match, s.IP)
	for _, alt := range s.Or {
		b.WriteString(" or ")
		writeLineValue(b, alt.Match, alt.IP)
	}
}

func writeLineValue(b *strings.Builder, v string, ip bool) {
	if ip {
		b.WriteString("ip(")
		b.WriteString(strconv.Quote(v))
		b.WriteByte(')')
		return
	}
	b.WriteString(strconv.Quote(v))
}

func (s *ParserStage) write(b *strings.Builder) {
	b.WriteString("| ")
	b.WriteString(s.Kind.String())
	switch s.Kind {
	case ParserRegexp, ParserPattern:
		b.WriteByte(' ')
		b.WriteString(strconv.Quote(s.Expr))
		return
	}
	if s.Strict {
		b.WriteString(" --strict")
	}
	if s.KeepEmpty {
		b.WriteString(" --keep-empty")
	}
	for i, p := range s.Params {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte(' ')
		b.WriteString(p.Label)
		b.WriteByte('=')
		b.WriteString(strconv.Quote(p.Expr))
	}
}

func (s *LabelFormat) write(b *strings.Builder) {
	b.WriteString("| label_format ")
	for i, l := range s.Labels {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(l.Dst)
		b.WriteByte('=')
		if l.IsTemplate {
			b.WriteString(strconv.Quote(l.Value))
		} else {
			b.WriteString(l.Value)
		}
	}
}

func writeLabelRefs(b *strings.Builder, refs []LabelRef) {
	for i, r := range refs {
		if i > 0 {
			b.WriteString(", ")
		}
		if r.Matcher != nil {
			writeMatcher(b, r.Matcher)
		} else {
			b.WriteString(r.Name)
		}
	}
}

// labelFilterPrec: or binds loosest (1), and tighter (2), leaves tightest.
func labelFilterPrec(f LabelFilter) int {
	if bf, ok := f.(*BinaryLabelFilter); ok {
		if bf.Or {
			return 1
		}
		return 2
	}
	return 3
}

// writeLabelFilter prints f, parenthesised when its precedence is below
// min. tail tells that nothing follows f up to the end of its filter or
// parenthesis: there an "and" is printed as ", ", whose right operand
// extends to that end, which keeps long chains free of parentheses.
func writeLabelFilter(b *strings.Builder, f LabelFilter, min int, tail bool) {
	bf, ok := f.(*BinaryLabelFilter)
	if !ok {
		writeLabelFilterLeaf(b, f)
		return
	}
	p := labelFilterPrec(f)
	if p < min {
		b.WriteByte('(')
		defer b.WriteByte(')')
		tail = true
	}
	switch {
	case bf.Or:
		writeLabelFilter(b, bf.Left, 1, false)
		b.WriteString(" or ")
		writeLabelFilter(b, bf.Right, 2, tail)
	case tail:
		writeLabelFilter(b, bf.Left, 2, false)
		b.WriteString(", ")
		writeLabelFilter(b, bf.Right, 0, true)
	default:
		writeLabelFilter(b, bf.Left, 2, false)
		b.WriteString(" and ")
		writeLabelFilter(b, bf.Right, 3, false)
	}
}

func writeLabelFilterLeaf(b *strings.Builder, f LabelFilter) {
	switch f := f.(type) {
	case *StringLabelFilter:
		writeMatcher(b, f.Matcher)
	case *NumericLabelFilter:
		writeCmp(b, f.Name, f.Op)
		b.WriteString(formatFloat(f.Value))
	case *DurationLabelFilter:
		writeCmp(b, f.Name, f.Op)
		b.WriteString(FormatDuration(f.Value))
	case *BytesLabelFilter:
		writeCmp(b, f.Name, f.Op)
		b.WriteString(FormatBytes(f.Value))
	case *IPLabelFilter:
		b.WriteString(f.Name)
		if f.Op == CmpNe {
			b.WriteString(" != ")
		} else {
			b.WriteString(" = ")
		}
		writeLineValue(b, f.Pattern, true)
	default:
		panic("BUG: unknown label filter type")
	}
}

func writeCmp(b *strings.Builder, name string, op CmpOp) {
	b.WriteString(name)
	b.WriteByte(' ')
	b.WriteString(op.String())
	b.WriteByte(' ')
}

func labelFilterString(f LabelFilter) string {
	var b strings.Builder
	writeLabelFilter(&b, f, 0, true)
	return b.String()
}

func (f *BinaryLabelFilter) String() string   { return labelFilterString(f) }
func (f *StringLabelFilter) String() string   { return labelFilterString(f) }
func (f *NumericLabelFilter) String() string  { return labelFilterString(f) }
func (f *DurationLabelFilter) String() string { return labelFilterString(f) }
func (f *BytesLabelFilter) String() string    { return labelFilterString(f) }
func (f *IPLabelFilter) String() string       { return labelFilterString(f) }

func (u *Unwrap) write(b *strings.Builder) {
	b.WriteString("| unwrap ")
	if u.Conv != ConvNone {
		b.WriteString(u.Conv.String())
		b.WriteByte('(')
		b.WriteString(u.Label)
		b.WriteByte(')')
	} else {
		b.WriteString(u.Label)
	}
	for _, f := range u.Filters {
		b.WriteString(" | ")
		writeLabelFilter(b, f, 0, true)
	}
}

// String prints the unwrap clause with its post-filters.
func (u *Unwrap) String() string {
	var b strings.Builder
	u.write(&b)
	return b.String()
}

func (g *Grouping) write(b *strings.Builder) {
	if g.Without {
		b.WriteString("without (")
	} else {
		b.WriteString("by (")
	}
	b.WriteString(strings.Join(g.Labels, ", "))
	b.WriteByte(')')
}

// String prints the clause: by (a, b) or without (c).
func (g *Grouping) String() string {
	var b strings.Builder
	g.write(&b)
	return b.String()
}

func (e *RangeAggregation) String() string  { return exprString(e) }
func (e *VectorAggregation) String() string { return exprString(e) }
func (e *BinaryExpr) String() string        { return exprString(e) }
func (e *LiteralExpr) String() string       { return exprString(e) }
func (e *VectorExpr) String() string        { return exprString(e) }
func (e *LabelReplace) String() string      { return exprString(e) }

func exprString(e Expr) string {
	var b strings.Builder
	writeExpr(&b, e)
	return b.String()
}

func writeExpr(b *strings.Builder, e Expr) {
	switch e := e.(type) {
	case *LogExpr:
		e.write(b)
	case *RangeAggregation:
		e.write(b)
	case *VectorAggregation:
		b.WriteString(e.Op.String())
		if e.Grouping != nil {
			b.WriteByte(' ')
			e.Grouping.write(b)
			b.WriteByte(' ')
		}
		b.WriteByte('(')
		if e.Op == VectorTopK || e.Op == VectorBottomK {
			b.WriteString(strconv.Itoa(e.Param))
			b.WriteString(", ")
		}
		writeExpr(b, e.Expr)
		b.WriteByte(')')
	case *BinaryExpr:
		e.write(b)
	case *LiteralExpr:
		b.WriteString(formatFloat(e.Value))
	case *VectorExpr:
		b.WriteString("vector(")
		b.WriteString(formatFloat(e.Value))
		b.WriteByte(')')
	case *LabelReplace:
		b.WriteString("label_replace(")
		writeExpr(b, e.Expr)
		for _, s := range [...]string{e.Dst, e.Replacement, e.Src, e.Regex} {
			b.WriteString(", ")
			b.WriteString(strconv.Quote(s))
		}
		b.WriteByte(')')
	default:
		panic("BUG: unknown expression type")
	}
}

func (e *RangeAggregation) write(b *strings.Builder) {
	b.WriteString(e.Op.String())
	b.WriteByte('(')
	if e.Op == RangeQuantile {
		b.WriteString(formatFloat(e.Param))
		b.WriteString(", ")
	}
	e.Log.write(b)
	if e.Unwrap != nil {
		b.WriteByte(' ')
		e.Unwrap.write(b)
	}
	if len(e.Log.Pipeline) > 0 || e.Unwrap != nil {
		b.WriteByte(' ')
	}
	b.WriteByte('[')
	b.WriteString(FormatDuration(e.Range))
	b.WriteByte(']')
	if e.Offset != 0 {
		b.WriteString(" offset ")
		b.WriteString(FormatDuration(e.Offset))
	}
	b.WriteByte(')')
	if e.Grouping != nil {
		b.WriteByte(' ')
		e.Grouping.write(b)
	}
}

func (e *BinaryExpr) write(b *strings.Builder) {
	p := e.Op.Precedence()
	writeOperand(b, e.LHS, p, e.Op.RightAssoc())
	b.WriteByte(' ')
	b.WriteString(e.Op.String())
	if e.ReturnBool {
		b.WriteString(" bool")
	}
	var rhs strings.Builder
	writeOperand(&rhs, e.RHS, p, !e.Op.RightAssoc())
	if m := e.Matching; m != nil {
		if m.On {
			b.WriteString(" on (")
		} else {
			b.WriteString(" ignoring (")
		}
		b.WriteString(strings.Join(m.Labels, ", "))
		b.WriteByte(')')
		switch m.Card {
		case CardManyToOne:
			b.WriteString(" group_left")
		case CardOneToMany:
			b.WriteString(" group_right")
		}
		// A group modifier swallows a following "(" as its label list, so
		// print an explicit empty list before a parenthesised operand.
		if m.Card == CardManyToOne || m.Card == CardOneToMany {
			if len(m.Include) > 0 || strings.HasPrefix(rhs.String(), "(") {
				b.WriteString(" (")
				b.WriteString(strings.Join(m.Include, ", "))
				b.WriteByte(')')
			}
		}
	}
	b.WriteByte(' ')
	b.WriteString(rhs.String())
}

// writeOperand prints an operand of a binary operator of precedence p,
// parenthesised when it binds looser, or equally on the side where the
// operator does not associate (sameNeedsParens).
func writeOperand(b *strings.Builder, e SampleExpr, p int, sameNeedsParens bool) {
	be, ok := e.(*BinaryExpr)
	if !ok {
		writeExpr(b, e)
		return
	}
	cp := be.Op.Precedence()
	if cp < p || (cp == p && sameNeedsParens) {
		b.WriteByte('(')
		be.write(b)
		b.WriteByte(')')
		return
	}
	be.write(b)
}

func formatFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	case math.IsNaN(f):
		return "NaN"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// FormatDuration prints d so that the lexer reads it back exactly: whole
// milliseconds in Prometheus units (1d12h, 1m30s, 250ms), anything finer as
// Go prints it (1.5µs, 2h0m0.000001s).
func FormatDuration(d time.Duration) string {
	if d < 0 {
		if d == math.MinInt64 {
			return d.String()
		}
		return "-" + FormatDuration(-d)
	}
	if d == 0 {
		return "0s"
	}
	if d%time.Millisecond != 0 {
		return d.String()
	}
	var b strings.Builder
	units := [...]struct {
		name string
		d    time.Duration
	}{{"d", 24 * time.Hour}, {"h", time.Hour}, {"m", time.Minute}, {"s", time.Second}, {"ms", time.Millisecond}}
	for _, u := range units {
		if n := d / u.d; n > 0 {
			b.WriteString(strconv.FormatInt(int64(n), 10))
			b.WriteString(u.name)
			d -= n * u.d
		}
	}
	return b.String()
}

// FormatBytes prints n in the largest unit that divides it exactly
// (1KiB, 10MB, 1500B).
func FormatBytes(n uint64) string {
	if n == 0 {
		return "0B"
	}
	for i := len(byteUnits) - 1; i > 0; i-- {
		u := byteUnits[i]
		if n%u.mult == 0 {
			return strconv.FormatUint(n/u.mult, 10) + u.name
		}
	}
	return strconv.FormatUint(n, 10) + "B"
}
