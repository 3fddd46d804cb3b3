package logql

import "strconv"

var lineOpNames = [...]string{LineContains: "|=", LineNotContains: "!=", LineMatch: "|~", LineNotMatch: "!~", LinePattern: "|>", LineNotPattern: "!>"}

// String returns the operator as written in LogQL (|=, !=, |~, !~, |>, !>).
func (o LineOp) String() string { return enumName(lineOpNames[:], int(o)) }

// Negated reports whether the operator keeps lines that do not match.
func (o LineOp) Negated() bool {
	return o == LineNotContains || o == LineNotMatch || o == LineNotPattern
}

var parserKindNames = [...]string{ParserJSON: "json", ParserLogfmt: "logfmt", ParserRegexp: "regexp", ParserPattern: "pattern", ParserUnpack: "unpack"}

// String returns the parser's keyword.
func (k ParserKind) String() string { return enumName(parserKindNames[:], int(k)) }

var cmpOpNames = [...]string{CmpEq: "==", CmpNe: "!=", CmpGt: ">", CmpGe: ">=", CmpLt: "<", CmpLe: "<="}

// String returns the comparison as printed (== for equality).
func (o CmpOp) String() string { return enumName(cmpOpNames[:], int(o)) }

var rangeOpNames = [...]string{
	RangeCount: "count_over_time", RangeRate: "rate", RangeRateCounter: "rate_counter",
	RangeBytes: "bytes_over_time", RangeBytesRate: "bytes_rate", RangeAvg: "avg_over_time",
	RangeSum: "sum_over_time", RangeMin: "min_over_time", RangeMax: "max_over_time",
	RangeStdvar: "stdvar_over_time", RangeStddev: "stddev_over_time", RangeQuantile: "quantile_over_time",
	RangeFirst: "first_over_time", RangeLast: "last_over_time", RangeAbsent: "absent_over_time",
}

// String returns the function name.
func (o RangeOp) String() string { return enumName(rangeOpNames[:], int(o)) }

var convOpNames = [...]string{ConvNone: "", ConvBytes: "bytes", ConvDuration: "duration", ConvDurationSeconds: "duration_seconds"}

// String returns the conversion function name ("" for ConvNone).
func (o ConvOp) String() string { return enumName(convOpNames[:], int(o)) }

var vectorOpNames = [...]string{
	VectorSum: "sum", VectorAvg: "avg", VectorMin: "min", VectorMax: "max", VectorCount: "count",
	VectorStddev: "stddev", VectorStdvar: "stdvar", VectorTopK: "topk", VectorBottomK: "bottomk",
	VectorSort: "sort", VectorSortDesc: "sort_desc",
}

// String returns the aggregation name.
func (o VectorOp) String() string { return enumName(vectorOpNames[:], int(o)) }

var binOpNames = [...]string{
	BinOr: "or", BinAnd: "and", BinUnless: "unless", BinEq: "==", BinNe: "!=", BinGt: ">", BinGe: ">=",
	BinLt: "<", BinLe: "<=", BinAdd: "+", BinSub: "-", BinMul: "*", BinDiv: "/", BinMod: "%", BinPow: "^",
}

// String returns the operator as written.
func (o BinOp) String() string { return enumName(binOpNames[:], int(o)) }

// Precedence returns the binding strength of the operator: 1 (or) to 6 (^).
func (o BinOp) Precedence() int {
	switch o {
	case BinOr:
		return 1
	case BinAnd, BinUnless:
		return 2
	case BinEq, BinNe, BinGt, BinGe, BinLt, BinLe:
		return 3
	case BinAdd, BinSub:
		return 4
	case BinMul, BinDiv, BinMod:
		return 5
	case BinPow:
		return 6
	}
	return 0
}

// RightAssoc reports whether the operator groups right to left (only ^).
func (o BinOp) RightAssoc() bool { return o == BinPow }

// IsComparison reports whether o is == != > >= < <=, the operators that accept bool.
func (o BinOp) IsComparison() bool { return o >= BinEq && o <= BinLe }

// IsSetOp reports whether o is and, or or unless.
func (o BinOp) IsSetOp() bool { return o == BinOr || o == BinAnd || o == BinUnless }

var cardNames = [...]string{CardOneToOne: "one-to-one", CardManyToOne: "many-to-one", CardOneToMany: "one-to-many", CardManyToMany: "many-to-many"}

// String names the cardinality.
func (c Cardinality) String() string { return enumName(cardNames[:], int(c)) }

// NeedsUnwrap reports whether the range aggregation takes its values from an
// unwrapped label and cannot run without one.
func (o RangeOp) NeedsUnwrap() bool {
	switch o {
	case RangeRateCounter, RangeAvg, RangeSum, RangeMin, RangeMax, RangeStdvar, RangeStddev,
		RangeQuantile, RangeFirst, RangeLast:
		return true
	}
	return false
}

// AllowsUnwrap reports whether the range aggregation accepts an unwrap
// (those that need one, plus rate and absent_over_time).
func (o RangeOp) AllowsUnwrap() bool {
	return o.NeedsUnwrap() || o == RangeRate || o == RangeAbsent
}

// AllowsGrouping reports whether a by/without clause may follow the range
// aggregation, as Loki allows.
func (o RangeOp) AllowsGrouping() bool {
	switch o {
	case RangeAvg, RangeStddev, RangeStdvar, RangeQuantile, RangeMax, RangeMin, RangeFirst, RangeLast:
		return true
	}
	return false
}

func enumName(names []string, i int) string {
	if i >= 0 && i < len(names) && (names[i] != "" || i == 0) {
		return names[i]
	}
	return "op(" + strconv.Itoa(i) + ")"
}
