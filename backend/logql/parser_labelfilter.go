package logql

// Label filters. "and" binds tighter than "or"; "," and a plain space also
// mean "and" but, as in Loki's grammar, take everything up to the end of the
// filter as their right operand: a, b or c is a and (b or c).

// parseLabelFilter parses a whole label filter. Comma chains are built
// iteratively so that their length does not count as nesting.
func (p *parser) parseLabelFilter() (LabelFilter, error) {
	var root LabelFilter
	slot := &root
	for {
		left, last, err := p.parseOrChain()
		if err != nil {
			return nil, err
		}
		isComma := p.tok.kind == tokComma
		if !isComma && !p.startsLabelFilter() {
			*slot = joinOr(left, last)
			return root, nil
		}
		if isComma {
			p.next()
		}
		and := &BinaryLabelFilter{Left: last}
		*slot = joinOr(left, and)
		slot = &and.Right
	}
}

func joinOr(left, right LabelFilter) LabelFilter {
	if left == nil {
		return right
	}
	return &BinaryLabelFilter{Or: true, Left: left, Right: right}
}

// parseOrChain parses t1 or t2 ... or tk (each an and-chain). It returns the
// left-folded "or" of t1..tk-1 (nil when k is 1) and tk apart, because a
// following comma binds tk alone.
func (p *parser) parseOrChain() (left, last LabelFilter, err error) {
	if last, err = p.parseAndChain(); err != nil {
		return nil, nil, err
	}
	for p.isKeyword(p.tok, "or") {
		p.next()
		t, err := p.parseAndChain()
		if err != nil {
			return nil, nil, err
		}
		left = joinOr(left, last)
		last = t
	}
	return left, last, nil
}

func (p *parser) parseAndChain() (LabelFilter, error) {
	f, err := p.parseLabelFilterPrimary()
	if err != nil {
		return nil, err
	}
	for p.isKeyword(p.tok, "and") {
		p.next()
		r, err := p.parseLabelFilterPrimary()
		if err != nil {
			return nil, err
		}
		f = &BinaryLabelFilter{Left: f, Right: r}
	}
	return f, nil
}

// startsLabelFilter reports whether the current token begins a label
// filter juxtaposed to the previous one (a="b" c="d").
func (p *parser) startsLabelFilter() bool {
	switch p.tok.kind {
	case tokLParen:
		return true
	case tokIdent:
		return !p.isKeyword(p.tok, "or") && !p.isKeyword(p.tok, "and")
	}
	return false
}

func cmpOpOf(k tokenKind) CmpOp {
	switch k {
	case tokEq, tokCmpEq:
		return CmpEq
	case tokNeq:
		return CmpNe
	case tokGt:
		return CmpGt
	case tokGte:
		return CmpGe
	case tokLt:
		return CmpLt
	case tokLte:
		return CmpLe
	}
	return 0
}

// parseLabelFilterPrimary parses "(" filter ")" or name op value.
func (p *parser) parseLabelFilterPrimary() (LabelFilter, error) {
	if p.tok.kind == tokLParen {
		if err := p.enter(); err != nil {
			return nil, err
		}
		defer p.leave()
		p.next()
		f, err := p.parseLabelFilter()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tokRParen); err != nil {
			return nil, err
		}
		return f, nil
	}
	name, err := p.ident()
	if err != nil {
		return nil, err
	}
	opKind := p.tok.kind
	cmp := cmpOpOf(opKind)
	if cmp == 0 && opKind != tokRe && opKind != tokNre {
		return nil, p.unexpected()
	}
	p.next()
	switch {
	case (opKind == tokEq || opKind == tokNeq) && p.isKeyword(p.tok, "ip") && p.peek().kind == tokLParen:
		return p.parseIPLabelFilter(name, cmp)
	case opKind != tokCmpEq && p.tok.kind == tokString:
		mt, _ := matchTypeOf(opKind)
		if cmp != 0 && cmp != CmpEq && cmp != CmpNe {
			return nil, p.unexpected()
		}
		m, err := p.matcherValue(mt, name)
		if err != nil {
			return nil, err
		}
		return &StringLabelFilter{Matcher: m}, nil
	case cmp != 0:
		return p.parseValueFilter(name, cmp)
	}
	return nil, p.unexpected("STRING")
}

func (p *parser) parseIPLabelFilter(name string, op CmpOp) (LabelFilter, error) {
	pos := p.tok.start
	p.next()
	p.next()
	s, err := p.str()
	if err != nil {
		return nil, err
	}
	if _, err := p.expect(tokRParen); err != nil {
		return nil, err
	}
	if _, err := ParseIPPattern(s); err != nil {
		p.semantic(pos, "%s", err)
	}
	return &IPLabelFilter{Name: name, Op: op, Pattern: s}, nil
}

// parseValueFilter parses the NUMBER, DURATION or BYTES of a comparison.
func (p *parser) parseValueFilter(name string, op CmpOp) (LabelFilter, error) {
	t := p.tok
	if t.kind == tokAdd || t.kind == tokSub {
		t = p.peek()
	}
	switch {
	case t.kind == tokDuration && p.tok.kind != tokAdd:
		d, err := p.durationValue()
		if err != nil {
			return nil, err
		}
		return &DurationLabelFilter{Name: name, Op: op, Value: d}, nil
	case t.kind == tokBytes && t == p.tok:
		p.next()
		v, ok := parseBytes(p.text(t))
		if !ok {
			return nil, p.errorAt(t.start, "invalid byte size "+p.text(t))
		}
		return &BytesLabelFilter{Name: name, Op: op, Value: v}, nil
	case p.isNumber(t):
		v, err := p.signedNumber()
		if err != nil {
			return nil, err
		}
		return &NumericLabelFilter{Name: name, Op: op, Value: v}, nil
	}
	if t != p.tok {
		p.next()
	}
	return nil, p.unexpected()
}
