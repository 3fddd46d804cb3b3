package logql

import (
	"math"
	"strconv"
	"strings"

	"github.com/grafana/regexp"
	"github.com/prometheus/common/model"
)

// binOpAt returns the binary operator at t, or 0.
func (p *parser) binOpAt(t token) BinOp {
	switch t.kind {
	case tokAdd:
		return BinAdd
	case tokSub:
		return BinSub
	case tokMul:
		return BinMul
	case tokDiv:
		return BinDiv
	case tokMod:
		return BinMod
	case tokPow:
		return BinPow
	case tokCmpEq:
		return BinEq
	case tokNeq:
		return BinNe
	case tokGt:
		return BinGt
	case tokGte:
		return BinGe
	case tokLt:
		return BinLt
	case tokLte:
		return BinLe
	case tokIdent:
		switch {
		case p.isKeyword(t, "or"):
			return BinOr
		case p.isKeyword(t, "and"):
			return BinAnd
		case p.isKeyword(t, "unless"):
			return BinUnless
		}
	}
	return 0
}

// parseExpr parses operands joined by binary operators of precedence at
// least minPrec (precedence climbing).
func (p *parser) parseExpr(minPrec int) (Expr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	lhs, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	for {
		op := p.binOpAt(p.tok)
		if op == 0 || op.Precedence() < minPrec {
			return lhs, nil
		}
		opPos := p.tok.start
		p.next()
		be := &BinaryExpr{Op: op}
		if err := p.parseBinModifiers(be); err != nil {
			return nil, err
		}
		next := op.Precedence() + 1
		if op.RightAssoc() {
			next = op.Precedence()
		}
		rhs, err := p.parseExpr(next)
		if err != nil {
			return nil, err
		}
		lhs = p.buildBinary(be, lhs, rhs, opPos)
	}
}

// parseBinModifiers parses [bool] [on|ignoring (...) [group_left|group_right [(...)]]].
func (p *parser) parseBinModifiers(be *BinaryExpr) error {
	if p.isKeyword(p.tok, "bool") {
		be.ReturnBool = true
		p.next()
	}
	on := p.isKeyword(p.tok, "on")
	if !on && !p.isKeyword(p.tok, "ignoring") {
		return nil
	}
	p.next()
	m := &VectorMatching{On: on}
	var err error
	if m.Labels, err = p.parseLabelList(); err != nil {
		return err
	}
	be.Matching = m
	switch {
	case p.isKeyword(p.tok, "group_left"):
		m.Card = CardManyToOne
	case p.isKeyword(p.tok, "group_right"):
		m.Card = CardOneToMany
	default:
		return nil
	}
	pos := p.tok.start
	p.next()
	if be.Op.IsSetOp() {
		p.semantic(pos, "no grouping allowed for %q operation", be.Op.String())
	}
	if p.tok.kind == tokLParen {
		if m.Include, err = p.parseLabelList(); err != nil {
			return err
		}
	}
	return nil
}

// parseLabelList parses "(" [IDENTIFIER {"," IDENTIFIER}] ")".
func (p *parser) parseLabelList() ([]string, error) {
	if _, err := p.expect(tokLParen); err != nil {
		return nil, err
	}
	var names []string
	if p.tok.kind == tokRParen {
		p.next()
		return names, nil
	}
	for {
		name, err := p.ident()
		if err != nil {
			return nil, err
		}
		names = append(names, name)
		switch p.tok.kind {
		case tokComma:
			p.next()
		case tokRParen:
			p.next()
			return names, nil
		default:
			return nil, p.unexpected(")", ",")
		}
	}
}

// buildBinary checks the operands of a binary operation and folds two
// literals into one, as Loki does.
func (p *parser) buildBinary(be *BinaryExpr, lhs, rhs Expr, opPos int) Expr {
	l, lok := lhs.(SampleExpr)
	r, rok := rhs.(SampleExpr)
	if !lok {
		p.semantic(opPos, "unexpected type for left leg of binary operation (%s): log query", be.Op)
		return &LiteralExpr{}
	}
	if !rok {
		p.semantic(opPos, "unexpected type for right leg of binary operation (%s): log query", be.Op)
		return &LiteralExpr{}
	}
	ll, lLit := l.(*LiteralExpr)
	rl, rLit := r.(*LiteralExpr)
	if be.Op.IsSetOp() {
		if lLit {
			p.semantic(opPos, "unexpected literal for left leg of logical/set binary operation (%s): %f", be.Op, ll.Value)
		} else if rLit {
			p.semantic(opPos, "unexpected literal for right leg of logical/set binary operation (%s): %f", be.Op, rl.Value)
		}
	}
	if lLit && rLit {
		return &LiteralExpr{Value: FoldScalars(be.Op, ll.Value, rl.Value)}
	}
	be.LHS, be.RHS = l, r
	return be
}

// FoldScalars applies op to two scalars as Loki does when both operands of a
// binary operation are literals: x/0 and x%0 give NaN, comparisons give 1
// or 0 (with or without bool).
func FoldScalars(op BinOp, a, b float64) float64 {
	cmp := func(ok bool) float64 {
		if ok {
			return 1
		}
		return 0
	}
	switch op {
	case BinAdd:
		return a + b
	case BinSub:
		return a - b
	case BinMul:
		return a * b
	case BinDiv:
		if b == 0 {
			return math.NaN()
		}
		return a / b
	case BinMod:
		if b == 0 {
			return math.NaN()
		}
		return math.Mod(a, b)
	case BinPow:
		return math.Pow(a, b)
	case BinEq:
		return cmp(a == b)
	case BinNe:
		return cmp(a != b)
	case BinGt:
		return cmp(a > b)
	case BinGe:
		return cmp(a >= b)
	case BinLt:
		return cmp(a < b)
	case BinLe:
		return cmp(a <= b)
	}
	return math.NaN()
}

// parseUnary parses one operand of a binary operation.
func (p *parser) parseUnary() (Expr, error) {
	switch t := p.tok; t.kind {
	case tokAdd, tokSub, tokNumber:
		v, err := p.signedNumber()
		if err != nil {
			return nil, err
		}
		return &LiteralExpr{Value: v}, nil
	case tokLParen:
		p.next()
		e, err := p.parseExpr(0)
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tokRParen); err != nil {
			return nil, err
		}
		return e, nil
	case tokLBrace:
		return p.parseLogExpr()
	case tokIdent:
		return p.parseFunction()
	}
	return nil, p.unexpected()
}

var rangeOpsByName = map[string]RangeOp{}
var vectorOpsByName = map[string]VectorOp{}

func init() {
	for op, name := range rangeOpNames {
		if name != "" {
			rangeOpsByName[name] = RangeOp(op)
		}
	}
	for op, name := range vectorOpNames {
		if name != "" {
			vectorOpsByName[name] = VectorOp(op)
		}
	}
}

// parseFunction parses an expression that starts with an identifier:
// aggregations, label_replace, vector, Inf and NaN.
func (p *parser) parseFunction() (Expr, error) {
	t := p.tok
	name := strings.ToLower(p.text(t))
	next := p.peek()
	isCall := next.kind == tokLParen
	if op, ok := rangeOpsByName[name]; ok && isCall {
		p.next()
		return p.parseRangeAggregation(op, t.start)
	}
	if op, ok := vectorOpsByName[name]; ok && (isCall || p.isKeyword(next, "by") || p.isKeyword(next, "without")) {
		p.next()
		return p.parseVectorAggregation(op, t.start)
	}
	switch {
	case name == "label_replace" && isCall:
		p.next()
		return p.parseLabelReplace()
	case name == "vector" && isCall:
		p.next()
		return p.parseVectorExpr()
	case name == "inf" || name == "nan":
		v, err := p.signedNumber()
		if err != nil {
			return nil, err
		}
		return &LiteralExpr{Value: v}, nil
	}
	return nil, p.unexpected()
}

func (p *parser) parseGrouping() (*Grouping, error) {
	g := &Grouping{Without: p.isKeyword(p.tok, "without")}
	p.next()
	var err error
	if g.Labels, err = p.parseLabelList(); err != nil {
		return nil, err
	}
	return g, nil
}

func (p *parser) isGroupingStart() bool {
	return p.isKeyword(p.tok, "by") || p.isKeyword(p.tok, "without")
}

// parseRangeAggregation parses op "(" [NUMBER ","] logRange ")" [grouping];
// the name has been consumed.
func (p *parser) parseRangeAggregation(op RangeOp, pos int) (Expr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	if _, err := p.expect(tokLParen); err != nil {
		return nil, err
	}
	e := &RangeAggregation{Op: op}
	param, hasParam := "", false
	if p.tok.kind == tokNumber && p.peek().kind == tokComma {
		param, hasParam = p.text(p.tok), true
		p.next()
		p.next()
	}
	if err := p.parseLogRange(e); err != nil {
		return nil, err
	}
	if _, err := p.expect(tokRParen); err != nil {
		return nil, err
	}
	if p.isGroupingStart() {
		g, err := p.parseGrouping()
		if err != nil {
			return nil, err
		}
		e.Grouping = g
	}
	p.validateRangeAggregation(e, param, hasParam, pos)
	return e, nil
}

func (p *parser) validateRangeAggregation(e *RangeAggregation, param string, hasParam bool, pos int) {
	switch {
	case hasParam && e.Op != RangeQuantile:
		p.semantic(pos, "parameter %s not supported for operation %s", param, e.Op)
	case hasParam:
		v, err := strconv.ParseFloat(param, 64)
		if err != nil {
			p.semantic(pos, "invalid parameter for operation %s: %s", e.Op, err)
		}
		e.Param = v
	case e.Op == RangeQuantile:
		p.semantic(pos, "parameter required for operation %s", e.Op)
	}
	switch {
	case e.Grouping != nil && !e.Op.AllowsGrouping():
		p.semantic(pos, "grouping not allowed for %s aggregation", e.Op)
	case e.Unwrap != nil && !e.Op.AllowsUnwrap():
		p.semantic(pos, "invalid aggregation %s with unwrap", e.Op)
	case e.Unwrap == nil && e.Op.NeedsUnwrap():
		p.semantic(pos, "invalid aggregation %s without unwrap", e.Op)
	}
}

// parseVectorAggregation parses op [grouping] "(" [NUMBER ","] expr ")" [grouping];
// the name has been consumed.
func (p *parser) parseVectorAggregation(op VectorOp, pos int) (Expr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	e := &VectorAggregation{Op: op}
	var err error
	if p.isGroupingStart() {
		if e.Grouping, err = p.parseGrouping(); err != nil {
			return nil, err
		}
	}
	if _, err := p.expect(tokLParen); err != nil {
		return nil, err
	}
	param, hasParam := "", false
	if p.tok.kind == tokNumber && p.peek().kind == tokComma {
		param, hasParam = p.text(p.tok), true
		p.next()
		p.next()
	}
	if e.Expr, err = p.parseSampleOperand(); err != nil {
		return nil, err
	}
	if _, err := p.expect(tokRParen); err != nil {
		return nil, err
	}
	if e.Grouping == nil && p.isGroupingStart() {
		if e.Grouping, err = p.parseGrouping(); err != nil {
			return nil, err
		}
	}
	p.validateVectorAggregation(e, param, hasParam, pos)
	return e, nil
}

func (p *parser) validateVectorAggregation(e *VectorAggregation, param string, hasParam bool, pos int) {
	switch {
	case e.Op == VectorTopK || e.Op == VectorBottomK:
		if !hasParam {
			p.semantic(pos, "parameter required for operation %s", e.Op)
			return
		}
		k, err := strconv.Atoi(param)
		if err != nil {
			p.semantic(pos, "invalid parameter %s(%s,", e.Op, param)
			return
		}
		if k <= 0 {
			p.semantic(pos, "invalid parameter (must be greater than 0) %s(%s", e.Op, param)
			return
		}
		e.Param = k
	case hasParam:
		p.semantic(pos, "unsupported parameter for operation %s(%s,", e.Op, param)
	case (e.Op == VectorSort || e.Op == VectorSortDesc) && e.Grouping != nil && len(e.Grouping.Labels) > 0:
		p.semantic(pos, "sort and sort_desc doesn't allow grouping by ")
	}
}

// parseSampleOperand parses an expression that must be a metric query; a
// log query there is reported as Loki's grammar does, at the token after it.
func (p *parser) parseSampleOperand() (SampleExpr, error) {
	e, err := p.parseExpr(0)
	if err != nil {
		return nil, err
	}
	se, ok := e.(SampleExpr)
	if !ok {
		return nil, p.unexpected()
	}
	return se, nil
}

// parseLabelReplace parses "(" expr "," dst "," repl "," src "," regex ")".
func (p *parser) parseLabelReplace() (Expr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	if _, err := p.expect(tokLParen); err != nil {
		return nil, err
	}
	e := &LabelReplace{}
	var err error
	if e.Expr, err = p.parseSampleOperand(); err != nil {
		return nil, err
	}
	var args [4]string
	var argPos [4]int
	for i := range args {
		if _, err := p.expect(tokComma); err != nil {
			return nil, err
		}
		argPos[i] = p.tok.start
		if args[i], err = p.str(); err != nil {
			return nil, err
		}
	}
	if _, err := p.expect(tokRParen); err != nil {
		return nil, err
	}
	e.Dst, e.Replacement, e.Src, e.Regex = args[0], args[1], args[2], args[3]
	if _, err := regexp.Compile("^(?:" + e.Regex + ")$"); err != nil {
		p.semantic(argPos[3], "invalid regex in label_replace: %s", err)
	}
	if !model.LegacyValidation.IsValidLabelName(e.Dst) {
		p.semantic(argPos[0], "invalid destination label name in label_replace(): %s", e.Dst)
	}
	return e, nil
}

// parseVectorExpr parses "(" [+|-] NUMBER ")".
func (p *parser) parseVectorExpr() (Expr, error) {
	if _, err := p.expect(tokLParen); err != nil {
		return nil, err
	}
	v, err := p.signedNumber()
	if err != nil {
		return nil, err
	}
	if _, err := p.expect(tokRParen); err != nil {
		return nil, err
	}
	return &VectorExpr{Value: v}, nil
}
