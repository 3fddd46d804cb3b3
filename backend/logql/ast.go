package logql

import (
	"fmt"
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

// Expr is a parsed LogQL query: either a *LogExpr (a log query returning
// streams) or a SampleExpr (a metric query returning samples).
//
// Every node prints canonical LogQL with String(); parsing that text yields an
// Equal tree. Parentheses are not kept in the tree: the printer puts them back
// where operator precedence needs them.
type Expr interface {
	fmt.Stringer
	isExpr()
}

// SampleExpr is an expression that evaluates to samples: *RangeAggregation,
// *VectorAggregation, *BinaryExpr, *LiteralExpr, *VectorExpr or *LabelReplace.
type SampleExpr interface {
	Expr
	isSampleExpr()
}

// LogExpr is a stream selector followed by a log pipeline:
// {app="api"} |= "error" | json | level="error".
type LogExpr struct {
	// Selector holds the stream matchers in query order. At least one of them
	// does not match the empty string (checked by the parser).
	Selector []*labels.Matcher
	// Pipeline holds the stages in query order; empty for a bare selector.
	Pipeline []Stage
}

// Stage is one step of a log pipeline: *LineFilter, *ParserStage,
// *LabelFilterStage, *LineFormat, *LabelFormat, *DropLabels, *KeepLabels or
// *Decolorize.
type Stage interface {
	fmt.Stringer
	isStage()
}

// LineOp is the operator of a line filter.
type LineOp uint8

// Line filter operators.
const (
	LineContains    LineOp = iota + 1 // |=  line contains the literal
	LineNotContains                   // !=  line does not contain the literal
	LineMatch                         // |~  line matches the regexp (unanchored)
	LineNotMatch                      // !~  line does not match the regexp
	LinePattern                       // |>  line matches the pattern (<_> wildcards)
	LineNotPattern                    // !>  line does not match the pattern
)

// LineFilter keeps or drops lines by their content.
//
// With alternatives (|= "a" or "b"), a positive operator keeps a line when any
// alternative matches; a negative operator (!=, !~, !>) keeps a line when none
// matches, as Loki does.
type LineFilter struct {
	Op LineOp
	// Match is the literal, regexp or pattern; with IP it is the address,
	// CIDR or range given to ip("...").
	Match string
	// IP marks ip("...") matching: the line contains an IP address in Match.
	// Only LineContains and LineNotContains accept it.
	IP bool
	// Or holds the further alternatives, which share Op.
	Or []LineAlt
}

// LineAlt is one "or" alternative of a LineFilter.
type LineAlt struct {
	Match string
	IP    bool
}

// ParserKind names a parser stage.
type ParserKind uint8

// Parser kinds.
const (
	ParserJSON    ParserKind = iota + 1 // json [params]
	ParserLogfmt                        // logfmt [--strict] [--keep-empty] [params]
	ParserRegexp                        // regexp "<re with named groups>"
	ParserPattern                       // pattern "<name> ... <_>"
	ParserUnpack                        // unpack
)

// ParserStage extracts labels from the line.
type ParserStage struct {
	Kind ParserKind
	// Expr is the regexp of ParserRegexp or the pattern of ParserPattern.
	// The parser has checked it: a regexp compiles and has at least one named
	// group (all valid label names); a pattern has at least one named capture
	// and no two consecutive captures.
	Expr string
	// Params are the extractions of json and logfmt (json a="x.y", b); empty
	// means extract everything. A bare name b is stored as {Label: "b", Expr: "b"}.
	Params []Extraction
	// Strict and KeepEmpty are logfmt's --strict and --keep-empty flags.
	Strict    bool
	KeepEmpty bool
}

// Extraction is one label=expression parameter of json or logfmt. For json,
// Expr is a path such as `a.b[0]["c d"]` (checked by ParseJSONPath); for
// logfmt it is a key.
type Extraction struct {
	Label string
	Expr  string
}

// LabelFilterStage keeps lines whose labels satisfy Filter (| status >= 400).
type LabelFilterStage struct {
	Filter LabelFilter
}

// LabelFilter is a predicate on labels: *BinaryLabelFilter,
// *StringLabelFilter, *NumericLabelFilter, *DurationLabelFilter,
// *BytesLabelFilter or *IPLabelFilter.
type LabelFilter interface {
	fmt.Stringer
	isLabelFilter()
}

// BinaryLabelFilter combines two filters with "and" (also written "," or a
// space) or "or"; "and" binds tighter.
type BinaryLabelFilter struct {
	Or          bool // false: and
	Left, Right LabelFilter
}

// StringLabelFilter compares a label's value: name="v", !=, =~, !~. Regexps
// are fully anchored, as in stream selectors. __error__="" is one of these.
type StringLabelFilter struct {
	Matcher *labels.Matcher
}

// CmpOp is a comparison of a numeric, duration or bytes label filter.
type CmpOp uint8

// Comparison operators. In queries both = and == spell CmpEq.
const (
	CmpEq CmpOp = iota + 1 // ==
	CmpNe                  // !=
	CmpGt                  // >
	CmpGe                  // >=
	CmpLt                  // <
	CmpLe                  // <=
)

// NumericLabelFilter compares a label's value parsed as a float64 (status >= 400).
// A value that does not parse sets __error__ at evaluation.
type NumericLabelFilter struct {
	Name  string
	Op    CmpOp
	Value float64
}

// DurationLabelFilter compares a label's value parsed as a duration
// (latency > 250ms).
type DurationLabelFilter struct {
	Name  string
	Op    CmpOp
	Value time.Duration
}

// BytesLabelFilter compares a label's value parsed as a byte size
// (size > 10KB; KB = 1000 bytes, KiB = 1024 bytes).
type BytesLabelFilter struct {
	Name  string
	Op    CmpOp
	Value uint64
}

// IPLabelFilter keeps lines whose label holds an IP inside Pattern (an
// address, a CIDR or a range a-b): addr = ip("10.0.0.0/8"). Op is CmpEq or CmpNe.
type IPLabelFilter struct {
	Name    string
	Op      CmpOp
	Pattern string
}

// LineFormat replaces the line by the rendered template (text/template with
// Loki's functions; see TemplateFuncNames). The parser has parsed the template.
type LineFormat struct {
	Template string
}

// LabelFormat renames labels or sets them from templates:
// label_format dst=src, dst2="{{.a}}-{{.b}}".
type LabelFormat struct {
	Labels []LabelFmt
}

// LabelFmt is one assignment of a LabelFormat. When IsTemplate is false,
// Value is the name of the source label (a rename, which removes the source);
// otherwise it is a template.
type LabelFmt struct {
	Dst        string
	Value      string
	IsTemplate bool
}

// LabelRef names a label in drop and keep: either a bare Name (Matcher nil) or
// a matcher (Name equals Matcher.Name) that applies only when it matches.
type LabelRef struct {
	Name    string
	Matcher *labels.Matcher
}

// DropLabels removes labels: drop a, b="v".
type DropLabels struct {
	Labels []LabelRef
}

// KeepLabels keeps only the listed labels: keep a, b="v".
type KeepLabels struct {
	Labels []LabelRef
}

// Decolorize strips ANSI color escape sequences from the line.
type Decolorize struct{}

// RangeOp names a range aggregation.
type RangeOp uint8

// Range aggregations.
const (
	RangeCount       RangeOp = iota + 1 // count_over_time
	RangeRate                           // rate
	RangeRateCounter                    // rate_counter (unwrap required)
	RangeBytes                          // bytes_over_time
	RangeBytesRate                      // bytes_rate
	RangeAvg                            // avg_over_time (unwrap required)
	RangeSum                            // sum_over_time (unwrap required)
	RangeMin                            // min_over_time (unwrap required)
	RangeMax                            // max_over_time (unwrap required)
	RangeStdvar                         // stdvar_over_time (unwrap required)
	RangeStddev                         // stddev_over_time (unwrap required)
	RangeQuantile                       // quantile_over_time (unwrap required, Param)
	RangeFirst                          // first_over_time (unwrap required)
	RangeLast                           // last_over_time (unwrap required)
	RangeAbsent                         // absent_over_time
)

// RangeAggregation applies Op to the samples of each stream over a sliding
// window: rate({app="x"} |= "err" [5m] offset 1h).
type RangeAggregation struct {
	Op RangeOp
	// Param is the quantile of quantile_over_time (0 for other ops).
	Param float64
	Log   *LogExpr
	// Unwrap is nil when the log lines themselves are counted (or their bytes);
	// otherwise the sample value is taken from a label. The parser enforces
	// which ops need, accept or forbid it.
	Unwrap *Unwrap
	Range  time.Duration // > 0
	Offset time.Duration // >= 0; 0 when absent
	// Grouping (nil when absent) is accepted only after avg, stddev, stdvar,
	// quantile, min, max, first and last_over_time (RangeOp.AllowsGrouping).
	Grouping *Grouping
}

// ConvOp converts an unwrapped label value to a float64.
type ConvOp uint8

// Unwrap conversions.
const (
	ConvNone            ConvOp = iota // unwrap x: strconv float
	ConvBytes                         // unwrap bytes(x): "10KB" → 10000
	ConvDuration                      // unwrap duration(x): "1m" → 60 (seconds)
	ConvDurationSeconds               // unwrap duration_seconds(x): same as duration
)

// Unwrap takes the sample value from label Label, then applies Filters (label
// filters written after the unwrap, each "| ..." one element; typically
// __error__="").
type Unwrap struct {
	Label   string
	Conv    ConvOp
	Filters []LabelFilter
}

// Grouping is a by (...) or without (...) clause. A nil *Grouping means the
// clause is absent; by () with no labels is a non-nil Grouping with no Labels.
type Grouping struct {
	Without bool
	Labels  []string
}

// VectorOp names a vector aggregation.
type VectorOp uint8

// Vector aggregations.
const (
	VectorSum      VectorOp = iota + 1 // sum
	VectorAvg                          // avg
	VectorMin                          // min
	VectorMax                          // max
	VectorCount                        // count
	VectorStddev                       // stddev
	VectorStdvar                       // stdvar
	VectorTopK                         // topk (Param)
	VectorBottomK                      // bottomk (Param)
	VectorSort                         // sort
	VectorSortDesc                     // sort_desc
)

// VectorAggregation aggregates the series of Expr at each step:
// sum by (app) (rate(...)), topk(5, ...).
type VectorAggregation struct {
	Op       VectorOp
	Grouping *Grouping // nil when absent
	// Param is k of topk and bottomk (> 0); 0 for other ops.
	Param int
	Expr  SampleExpr
}

// BinOp is a binary operator.
type BinOp uint8

// Binary operators, from lowest to highest precedence group:
// or; and unless; == != > >= < <=; + -; * / %; ^ (right-associative).
const (
	BinOr BinOp = iota + 1
	BinAnd
	BinUnless
	BinEq
	BinNe
	BinGt
	BinGe
	BinLt
	BinLe
	BinAdd
	BinSub
	BinMul
	BinDiv
	BinMod
	BinPow
)

// Cardinality of vector matching.
type Cardinality uint8

// Matching cardinalities.
const (
	CardOneToOne   Cardinality = iota // default for arithmetic and comparisons
	CardManyToOne                     // group_left
	CardOneToMany                     // group_right
	CardManyToMany                    // implied by and, or, unless; never written
)

// VectorMatching is the on/ignoring and group_left/group_right clause of a
// binary operation between vectors.
type VectorMatching struct {
	Card Cardinality // CardOneToOne, CardManyToOne or CardOneToMany as written
	// On is true for on (...), false for ignoring (...).
	On     bool
	Labels []string
	// Include lists the labels of group_left (...) / group_right (...).
	Include []string
}

// BinaryExpr is LHS Op RHS; the parser never leaves two *LiteralExpr operands
// (it folds them with FoldScalars). Matching is nil unless on/ignoring was written;
// the evaluator then matches on all labels (one-to-one for arithmetic and
// comparisons, many-to-many for and/or/unless). ReturnBool is the bool
// modifier; as in Loki it is accepted after any operator but only changes
// comparisons.
type BinaryExpr struct {
	Op         BinOp
	LHS, RHS   SampleExpr
	ReturnBool bool
	Matching   *VectorMatching
}

// LiteralExpr is a scalar number: 1, -2.5, 0x1f, 1e3, Inf, NaN.
type LiteralExpr struct {
	Value float64
}

// VectorExpr is vector(v): one sample with no labels at every step.
type VectorExpr struct {
	Value float64
}

// LabelReplace is label_replace(expr, "dst", "replacement", "src", "regex").
// Regex is fully anchored at evaluation; the parser has compiled it and
// checked Dst is a valid label name.
type LabelReplace struct {
	Expr        SampleExpr
	Dst         string
	Replacement string
	Src         string
	Regex       string
}

func (*LogExpr) isExpr()           {}
func (*RangeAggregation) isExpr()  {}
func (*VectorAggregation) isExpr() {}
func (*BinaryExpr) isExpr()        {}
func (*LiteralExpr) isExpr()       {}
func (*VectorExpr) isExpr()        {}
func (*LabelReplace) isExpr()      {}

func (*RangeAggregation) isSampleExpr()  {}
func (*VectorAggregation) isSampleExpr() {}
func (*BinaryExpr) isSampleExpr()        {}
func (*LiteralExpr) isSampleExpr()       {}
func (*VectorExpr) isSampleExpr()        {}
func (*LabelReplace) isSampleExpr()      {}

func (*LineFilter) isStage()       {}
func (*ParserStage) isStage()      {}
func (*LabelFilterStage) isStage() {}
func (*LineFormat) isStage()       {}
func (*LabelFormat) isStage()      {}
func (*DropLabels) isStage()       {}
func (*KeepLabels) isStage()       {}
func (*Decolorize) isStage()       {}

func (*BinaryLabelFilter) isLabelFilter()   {}
func (*StringLabelFilter) isLabelFilter()   {}
func (*NumericLabelFilter) isLabelFilter()  {}
func (*DurationLabelFilter) isLabelFilter() {}
func (*BytesLabelFilter) isLabelFilter()    {}
func (*IPLabelFilter) isLabelFilter()       {}
