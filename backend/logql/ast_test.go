package logql

import (
	"math"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

func eq(name, value string) *labels.Matcher {
	return labels.MustNewMatcher(labels.MatchEqual, name, value)
}

func sf(name, value string) LabelFilter { return &StringLabelFilter{Matcher: eq(name, value)} }

func and(l, r LabelFilter) LabelFilter { return &BinaryLabelFilter{Left: l, Right: r} }

func or(l, r LabelFilter) LabelFilter { return &BinaryLabelFilter{Or: true, Left: l, Right: r} }

func filterQuery(f LabelFilter) Expr {
	return &LogExpr{Selector: []*labels.Matcher{eq("app", "x")}, Pipeline: []Stage{&LabelFilterStage{Filter: f}}}
}

func countRange(sel string) *RangeAggregation {
	return &RangeAggregation{Op: RangeCount, Log: &LogExpr{Selector: []*labels.Matcher{eq("a", sel)}}, Range: time.Minute}
}

// TestParseTrees checks the exact trees where the printed form alone would
// not show the structure (operator grouping, defaults, field values).
func TestParseTrees(t *testing.T) {
	a, b, c, d := sf("a", "1"), sf("b", "2"), sf("c", "3"), sf("d", "4")
	tests := []struct {
		name, in string
		want     Expr
	}{
		{"and binds tighter than or", `{app="x"} | a="1" or b="2" and c="3"`, filterQuery(or(a, and(b, c)))},
		{"and then or", `{app="x"} | a="1" and b="2" or c="3"`, filterQuery(or(and(a, b), c))},
		{"or is left-associative", `{app="x"} | a="1" or b="2" or c="3"`, filterQuery(or(or(a, b), c))},
		{"comma takes the rest", `{app="x"} | a="1", b="2" or c="3"`, filterQuery(and(a, or(b, c)))},
		{"space takes the rest", `{app="x"} | a="1" b="2" or c="3"`, filterQuery(and(a, or(b, c)))},
		{"comma after or binds the last term", `{app="x"} | a="1" or b="2", c="3"`, filterQuery(or(a, and(b, c)))},
		{"comma chain", `{app="x"} | a="1", b="2", c="3", d="4"`, filterQuery(and(a, and(b, and(c, d))))},
		{"parentheses", `{app="x"} | (a="1" or b="2"), c="3"`, filterQuery(and(or(a, b), c))},
		{"and chain then comma", `{app="x"} | a="1" and b="2", c="3" or d="4"`, filterQuery(and(and(a, b), or(c, d)))},
		{"numeric, duration, bytes, ip", `{app="x"} | n >= -1.5 | d < 2m | s > 1KiB | i != ip("1.2.3.0/24")`, &LogExpr{
			Selector: []*labels.Matcher{eq("app", "x")},
			Pipeline: []Stage{
				&LabelFilterStage{Filter: &NumericLabelFilter{Name: "n", Op: CmpGe, Value: -1.5}},
				&LabelFilterStage{Filter: &DurationLabelFilter{Name: "d", Op: CmpLt, Value: 2 * time.Minute}},
				&LabelFilterStage{Filter: &BytesLabelFilter{Name: "s", Op: CmpGt, Value: 1024}},
				&LabelFilterStage{Filter: &IPLabelFilter{Name: "i", Op: CmpNe, Pattern: "1.2.3.0/24"}},
			},
		}},
		{"line filters and parsers", "{app=\"x\"} |= \"a\" or ip(\"1.1.1.1\") !~ `b` | logfmt --keep-empty k, v=\"w\" | json | regexp \"(?P<x>.)\"", &LogExpr{
			Selector: []*labels.Matcher{eq("app", "x")},
			Pipeline: []Stage{
				&LineFilter{Op: LineContains, Match: "a", Or: []LineAlt{{Match: "1.1.1.1", IP: true}}},
				&LineFilter{Op: LineNotMatch, Match: "b"},
				&ParserStage{Kind: ParserLogfmt, KeepEmpty: true, Params: []Extraction{{"k", "k"}, {"v", "w"}}},
				&ParserStage{Kind: ParserJSON},
				&ParserStage{Kind: ParserRegexp, Expr: "(?P<x>.)"},
			},
		}},
		{"format stages", `{app="x"} | label_format a=b, c="{{.d}}" | drop e, f="g" | keep h | decolorize | line_format "{{.a}}"`, &LogExpr{
			Selector: []*labels.Matcher{eq("app", "x")},
			Pipeline: []Stage{
				&LabelFormat{Labels: []LabelFmt{{Dst: "a", Value: "b"}, {Dst: "c", Value: "{{.d}}", IsTemplate: true}}},
				&DropLabels{Labels: []LabelRef{{Name: "e"}, {Name: "f", Matcher: eq("f", "g")}}},
				&KeepLabels{Labels: []LabelRef{{Name: "h"}}},
				&Decolorize{},
				&LineFormat{Template: "{{.a}}"},
			},
		}},
		{"range aggregation fields", `quantile_over_time(0.9, {a="b"} | json | unwrap duration_seconds(d) | __error__="" [5m] offset 1h) by (x)`, &RangeAggregation{
			Op: RangeQuantile, Param: 0.9,
			Log:      &LogExpr{Selector: []*labels.Matcher{eq("a", "b")}, Pipeline: []Stage{&ParserStage{Kind: ParserJSON}}},
			Unwrap:   &Unwrap{Label: "d", Conv: ConvDurationSeconds, Filters: []LabelFilter{sf("__error__", "")}},
			Range:    5 * time.Minute,
			Offset:   time.Hour,
			Grouping: &Grouping{Labels: []string{"x"}},
		}},
		{"grouping after body", `topk(3, count_over_time({a="b"}[1m])) without (y)`, &VectorAggregation{
			Op: VectorTopK, Param: 3, Grouping: &Grouping{Without: true, Labels: []string{"y"}}, Expr: countRange("b"),
		}},
		{"empty by", `sum by () (count_over_time({a="b"}[1m]))`, &VectorAggregation{
			Op: VectorSum, Grouping: &Grouping{}, Expr: countRange("b"),
		}},
		{"arithmetic precedence", `count_over_time({a="b"}[1m]) + count_over_time({a="c"}[1m]) * count_over_time({a="d"}[1m])`, &BinaryExpr{
			Op: BinAdd, LHS: countRange("b"), RHS: &BinaryExpr{Op: BinMul, LHS: countRange("c"), RHS: countRange("d")},
		}},
		{"subtraction is left-associative", `count_over_time({a="b"}[1m]) - count_over_time({a="c"}[1m]) - 1`, &BinaryExpr{
			Op: BinSub, LHS: &BinaryExpr{Op: BinSub, LHS: countRange("b"), RHS: countRange("c")}, RHS: &LiteralExpr{Value: 1},
		}},
		{"power is right-associative", `count_over_time({a="b"}[1m]) ^ count_over_time({a="c"}[1m]) ^ count_over_time({a="d"}[1m])`, &BinaryExpr{
			Op: BinPow, LHS: countRange("b"), RHS: &BinaryExpr{Op: BinPow, LHS: countRange("c"), RHS: countRange("d")},
		}},
		{"comparison below arithmetic, set ops lowest", `count_over_time({a="b"}[1m]) > 1 + 1 or count_over_time({a="c"}[1m]) unless count_over_time({a="d"}[1m])`, &BinaryExpr{
			Op:  BinOr,
			LHS: &BinaryExpr{Op: BinGt, LHS: countRange("b"), RHS: &LiteralExpr{Value: 2}},
			RHS: &BinaryExpr{Op: BinUnless, LHS: countRange("c"), RHS: countRange("d")},
		}},
		{"modifiers", `count_over_time({a="b"}[1m]) <= bool ignoring (p) group_right (q, r) count_over_time({a="c"}[1m])`, &BinaryExpr{
			Op: BinLe, ReturnBool: true, LHS: countRange("b"), RHS: countRange("c"),
			Matching: &VectorMatching{Card: CardOneToMany, Labels: []string{"p"}, Include: []string{"q", "r"}},
		}},
		{"literal sign belongs to the number", `-2 ^ 2`, &LiteralExpr{Value: 4}},
		{"division by zero folds to NaN", `1 / 0`, &LiteralExpr{Value: math.NaN()}},
		{"label_replace", `label_replace(vector(2), "d", "r", "s", "x")`, &LabelReplace{
			Expr: &VectorExpr{Value: 2}, Dst: "d", Replacement: "r", Src: "s", Regex: "x",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.in)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !Equal(got, tc.want) {
				t.Fatalf("tree differs\n got: %s\nwant: %s", got, tc.want)
			}
		})
	}
}

func TestEqualDistinguishes(t *testing.T) {
	base := `sum by (a) (rate({x="y"} |= "z" [1m]))`
	others := []string{
		`sum by (b) (rate({x="y"} |= "z" [1m]))`,
		`sum without (a) (rate({x="y"} |= "z" [1m]))`,
		`sum(rate({x="y"} |= "z" [1m]))`,
		`avg by (a) (rate({x="y"} |= "z" [1m]))`,
		`sum by (a) (rate({x="y"} != "z" [1m]))`,
		`sum by (a) (rate({x="y"} |= "z" or "w" [1m]))`,
		`sum by (a) (rate({x="y", w!="v"} |= "z" [1m]))`,
		`sum by (a) (rate({x="y"} |= "z" [2m]))`,
		`sum by (a) (rate({x="y"} |= "z" [1m] offset 1m))`,
		`sum by (a) (bytes_rate({x="y"} |= "z" [1m]))`,
	}
	e1 := MustParse(base)
	if !Equal(e1, MustParse(base)) {
		t.Fatal("a query is not Equal to itself")
	}
	for _, o := range others {
		if Equal(e1, MustParse(o)) {
			t.Errorf("%s reported Equal to %s", o, base)
		}
	}
}
