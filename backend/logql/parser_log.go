package logql

import (
	"fmt"
	"strings"

	"github.com/grafana/regexp"
	"github.com/prometheus/prometheus/model/labels"
)

// errEmptyCompatibleSelector is Loki's message for a selector whose matchers
// all match the empty string.
const errEmptyCompatibleSelector = "queries require at least one regexp or equality matcher that does not have an empty-compatible value. For instance, app=~\".*\" does not meet this requirement, but app=~\".+\" will"

// parseLogExpr parses selector { stage }.
func (p *parser) parseLogExpr() (Expr, error) {
	ms, err := p.parseSelector()
	if err != nil {
		return nil, err
	}
	stages, _, err := p.parsePipeline(false)
	if err != nil {
		return nil, err
	}
	return &LogExpr{Selector: ms, Pipeline: stages}, nil
}

// parseSelector parses "{" [matcher {"," matcher}] "}".
func (p *parser) parseSelector() ([]*labels.Matcher, error) {
	start := p.tok.start
	if _, err := p.expect(tokLBrace); err != nil {
		return nil, err
	}
	var ms []*labels.Matcher
	if p.tok.kind == tokRBrace {
		p.next()
	} else {
		for done := false; !done; {
			m, err := p.parseMatcher()
			if err != nil {
				return nil, err
			}
			ms = append(ms, m)
			switch p.tok.kind {
			case tokComma:
				p.next()
			case tokRBrace:
				p.next()
				done = true
			default:
				return nil, p.unexpected("}", ",")
			}
		}
	}
	if !p.allowEmptyMatch && !hasNonEmptyMatcher(ms) {
		p.semantic(start, errEmptyCompatibleSelector)
	}
	return ms, nil
}

func hasNonEmptyMatcher(ms []*labels.Matcher) bool {
	for _, m := range ms {
		if !m.Matches("") {
			return true
		}
	}
	return false
}

// parseMatcher parses IDENTIFIER ("=" | "!=" | "=~" | "!~") STRING.
func (p *parser) parseMatcher() (*labels.Matcher, error) {
	name, err := p.ident()
	if err != nil {
		return nil, err
	}
	mt, ok := matchTypeOf(p.tok.kind)
	if !ok {
		return nil, p.unexpected("=", "=~", "!~", "!=")
	}
	p.next()
	return p.matcherValue(mt, name)
}

func matchTypeOf(k tokenKind) (labels.MatchType, bool) {
	switch k {
	case tokEq:
		return labels.MatchEqual, true
	case tokNeq:
		return labels.MatchNotEqual, true
	case tokRe:
		return labels.MatchRegexp, true
	case tokNre:
		return labels.MatchNotRegexp, true
	}
	return 0, false
}

// matcherValue parses the STRING of a matcher and builds it; an invalid
// regexp is a validation error.
func (p *parser) matcherValue(mt labels.MatchType, name string) (*labels.Matcher, error) {
	pos := p.tok.start
	v, err := p.str()
	if err != nil {
		return nil, err
	}
	m, err := labels.NewMatcher(mt, name, v)
	if err != nil {
		p.semantic(pos, "%s", err.Error())
		// The tree is discarded; keep parsing with a harmless matcher.
		return labels.MustNewMatcher(labels.MatchEqual, name, v), nil
	}
	return m, nil
}

func isLineFilterOp(k tokenKind) bool {
	switch k {
	case tokPipeEq, tokNeq, tokPipeRe, tokNre, tokPipePat, tokNpa:
		return true
	}
	return false
}

// parsePipeline parses stages until a token that cannot continue the
// pipeline. With allowUnwrap it also parses a final "| unwrap ..." clause.
func (p *parser) parsePipeline(allowUnwrap bool) ([]Stage, *Unwrap, error) {
	var stages []Stage
	for {
		switch {
		case isLineFilterOp(p.tok.kind):
			f, err := p.parseLineFilter()
			if err != nil {
				return nil, nil, err
			}
			stages = append(stages, f)
		case p.tok.kind == tokPipe:
			p.next()
			if p.isKeyword(p.tok, "unwrap") {
				if !allowUnwrap {
					return nil, nil, p.unexpected()
				}
				u, err := p.parseUnwrap()
				return stages, u, err
			}
			s, err := p.parseStage()
			if err != nil {
				return nil, nil, err
			}
			stages = append(stages, s)
		default:
			return stages, nil, nil
		}
	}
}

// stageKeywords start a pipeline stage after "|"; anything else starts a
// label filter.
var stageKeywords = [...]string{
	"json", "logfmt", "regexp", "pattern", "unpack", "line_format", "label_format",
	"drop", "keep", "decolorize", "unwrap",
}

func (p *parser) stageKeyword(t token) string {
	if t.kind != tokIdent {
		return ""
	}
	lower := strings.ToLower(p.text(t))
	for _, kw := range stageKeywords {
		if kw == lower {
			return kw
		}
	}
	return ""
}

// parseStage parses the stage after a "|".
func (p *parser) parseStage() (Stage, error) {
	switch p.stageKeyword(p.tok) {
	case "json":
		p.next()
		return p.parseExtractingParser(&ParserStage{Kind: ParserJSON})
	case "logfmt":
		p.next()
		s := &ParserStage{Kind: ParserLogfmt}
		for p.tok.kind == tokFlag {
			switch p.text(p.tok) {
			case "--strict":
				s.Strict = true
			case "--keep-empty":
				s.KeepEmpty = true
			}
			p.next()
		}
		return p.parseExtractingParser(s)
	case "regexp", "pattern":
		return p.parseExprParser()
	case "unpack":
		p.next()
		return &ParserStage{Kind: ParserUnpack}, nil
	case "line_format":
		p.next()
		pos := p.tok.start
		tmpl, err := p.str()
		if err != nil {
			return nil, err
		}
		if err := checkTemplate("line", tmpl); err != nil {
			p.semantic(pos, "invalid line template: %s", err)
		}
		return &LineFormat{Template: tmpl}, nil
	case "label_format":
		p.next()
		return p.parseLabelFormat()
	case "drop", "keep":
		return p.parseDropKeep()
	case "decolorize":
		p.next()
		return &Decolorize{}, nil
	case "unwrap":
		return nil, p.unexpected()
	}
	if p.tok.kind != tokIdent && p.tok.kind != tokLParen {
		return nil, p.unexpected()
	}
	f, err := p.parseLabelFilter()
	if err != nil {
		return nil, err
	}
	return &LabelFilterStage{Filter: f}, nil
}

// parseExtractingParser parses the optional label=expression list of json
// and logfmt.
func (p *parser) parseExtractingParser(s *ParserStage) (Stage, error) {
	if p.tok.kind != tokIdent {
		return s, nil
	}
	for {
		label, err := p.ident()
		if err != nil {
			return nil, err
		}
		ex := Extraction{Label: label, Expr: label}
		pos := p.tok.start
		if p.tok.kind == tokEq {
			p.next()
			pos = p.tok.start
			if ex.Expr, err = p.str(); err != nil {
				return nil, err
			}
		}
		if s.Kind == ParserJSON {
			if _, err := ParseJSONPath(ex.Expr); err != nil {
				p.semantic(pos, "cannot parse expression [%s]: %s", ex.Expr, err)
			}
		}
		s.Params = append(s.Params, ex)
		if p.tok.kind != tokComma {
			return s, nil
		}
		p.next()
	}
}

// parseExprParser parses regexp STRING or pattern STRING.
func (p *parser) parseExprParser() (Stage, error) {
	kind := ParserRegexp
	if p.stageKeyword(p.tok) == "pattern" {
		kind = ParserPattern
	}
	p.next()
	pos := p.tok.start
	expr, err := p.str()
	if err != nil {
		return nil, err
	}
	if kind == ParserRegexp {
		if err := checkRegexpParser(expr); err != nil {
			p.semantic(pos, "invalid regexp parser: %s", err)
		}
	} else if err := checkPatternParser(expr); err != nil {
		p.semantic(pos, "invalid pattern parser: %s", err)
	}
	return &ParserStage{Kind: kind, Expr: expr}, nil
}

// parseLabelFormat parses dst=src or dst="template", comma separated.
func (p *parser) parseLabelFormat() (Stage, error) {
	s := &LabelFormat{}
	for {
		pos := p.tok.start
		dst, err := p.ident()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tokEq); err != nil {
			return nil, err
		}
		lf := LabelFmt{Dst: dst}
		switch p.tok.kind {
		case tokIdent:
			lf.Value = p.text(p.tok)
			p.next()
		case tokString:
			lf.IsTemplate = true
			if lf.Value, err = p.str(); err != nil {
				return nil, err
			}
		default:
			return nil, p.unexpected("IDENTIFIER", "STRING")
		}
		p.checkLabelFmt(s.Labels, lf, pos)
		s.Labels = append(s.Labels, lf)
		if p.tok.kind != tokComma {
			return s, nil
		}
		p.next()
	}
}

func (p *parser) checkLabelFmt(prev []LabelFmt, lf LabelFmt, pos int) {
	if lf.Dst == "__error__" {
		p.semantic(pos, "%s cannot be formatted", lf.Dst)
	}
	for _, o := range prev {
		if o.Dst == lf.Dst {
			p.semantic(pos, "multiple label name '%s' not allowed in a single format operation", lf.Dst)
		}
	}
	if lf.IsTemplate {
		if err := checkTemplate("label", lf.Value); err != nil {
			p.semantic(pos, "invalid template for label '%s': %s", lf.Dst, err)
		}
	}
}

// parseDropKeep parses drop|keep labelRef {"," labelRef}.
func (p *parser) parseDropKeep() (Stage, error) {
	keep := p.stageKeyword(p.tok) == "keep"
	p.next()
	var refs []LabelRef
	for {
		name, err := p.ident()
		if err != nil {
			return nil, err
		}
		ref := LabelRef{Name: name}
		if mt, ok := matchTypeOf(p.tok.kind); ok {
			p.next()
			if ref.Matcher, err = p.matcherValue(mt, name); err != nil {
				return nil, err
			}
		}
		refs = append(refs, ref)
		if p.tok.kind != tokComma {
			break
		}
		p.next()
	}
	if keep {
		return &KeepLabels{Labels: refs}, nil
	}
	return &DropLabels{Labels: refs}, nil
}

func lineOpOf(k tokenKind) LineOp {
	switch k {
	case tokPipeEq:
		return LineContains
	case tokNeq:
		return LineNotContains
	case tokPipeRe:
		return LineMatch
	case tokNre:
		return LineNotMatch
	case tokPipePat:
		return LinePattern
	case tokNpa:
		return LineNotPattern
	}
	return 0
}

// parseLineFilter parses op value {"or" value}.
func (p *parser) parseLineFilter() (*LineFilter, error) {
	f := &LineFilter{Op: lineOpOf(p.tok.kind)}
	p.next()
	var err error
	if f.Match, f.IP, err = p.parseLineValue(f.Op); err != nil {
		return nil, err
	}
	// A line filter ends a log query, which cannot be an operand of a binary
	// "or", so "or" here always introduces an alternative.
	for p.isKeyword(p.tok, "or") {
		p.next()
		var alt LineAlt
		if alt.Match, alt.IP, err = p.parseLineValue(f.Op); err != nil {
			return nil, err
		}
		f.Or = append(f.Or, alt)
	}
	return f, nil
}

// parseLineValue parses STRING or ip("...") and checks it against op.
func (p *parser) parseLineValue(op LineOp) (string, bool, error) {
	pos := p.tok.start
	if p.isKeyword(p.tok, "ip") && p.peek().kind == tokLParen {
		p.next()
		p.next()
		s, err := p.str()
		if err != nil {
			return "", false, err
		}
		if _, err := p.expect(tokRParen); err != nil {
			return "", false, err
		}
		if op != LineContains && op != LineNotContains {
			p.semantic(pos, "invalid line filter operator %s for ip(): only |= and != are supported", op)
		} else if _, err := ParseIPPattern(s); err != nil {
			p.semantic(pos, "%s", err)
		}
		return s, true, nil
	}
	if p.tok.kind != tokString {
		return "", false, p.unexpected("STRING", "ip")
	}
	s, err := p.str()
	if err != nil {
		return "", false, err
	}
	switch op {
	case LineMatch, LineNotMatch:
		if _, err := regexp.Compile(s); err != nil {
			p.semantic(pos, "%s", err)
		}
	case LinePattern, LineNotPattern:
		if err := checkLinePattern(s); err != nil {
			p.semantic(pos, "%s", err)
		}
	}
	return s, false, nil
}

// parseUnwrap parses unwrap (IDENTIFIER | conv "(" IDENTIFIER ")") { "|" labelFilter };
// the "|" before unwrap has been consumed.
func (p *parser) parseUnwrap() (*Unwrap, error) {
	p.next()
	u := &Unwrap{}
	name, err := p.ident()
	if err != nil {
		return nil, err
	}
	conv := ConvNone
	switch strings.ToLower(name) {
	case "bytes":
		conv = ConvBytes
	case "duration":
		conv = ConvDuration
	case "duration_seconds":
		conv = ConvDurationSeconds
	}
	if conv != ConvNone && p.tok.kind == tokLParen {
		p.next()
		if u.Label, err = p.ident(); err != nil {
			return nil, err
		}
		if _, err := p.expect(tokRParen); err != nil {
			return nil, err
		}
		u.Conv = conv
	} else {
		u.Label = name
	}
	for p.tok.kind == tokPipe {
		p.next()
		if p.stageKeyword(p.tok) != "" || (p.tok.kind != tokIdent && p.tok.kind != tokLParen) {
			return nil, p.unexpected()
		}
		f, err := p.parseLabelFilter()
		if err != nil {
			return nil, err
		}
		u.Filters = append(u.Filters, f)
	}
	return u, nil
}

// parseLogRange parses the log range of a range aggregation into e. Loki
// accepts the range after the selector or after the pipeline (and the
// pipeline after the range), with optional parentheses around the selector
// or the whole range.
func (p *parser) parseLogRange(e *RangeAggregation) error {
	open := 0
	for p.tok.kind == tokLParen {
		open++
		p.next()
	}
	ms, err := p.parseSelector()
	if err != nil {
		return err
	}
	e.Log = &LogExpr{Selector: ms}
	if e.Log.Pipeline, e.Unwrap, err = p.parsePipeline(true); err != nil {
		return err
	}
	for open > 0 && p.tok.kind == tokRParen {
		open--
		p.next()
	}
	if err := p.parseRangeAndOffset(e); err != nil {
		return err
	}
	if len(e.Log.Pipeline) == 0 && e.Unwrap == nil {
		if e.Log.Pipeline, e.Unwrap, err = p.parsePipeline(true); err != nil {
			return err
		}
	}
	for open > 0 && p.tok.kind == tokRParen {
		open--
		p.next()
	}
	if open > 0 {
		return p.unexpected(")")
	}
	return nil
}

// parseRangeAndOffset parses RANGE ["offset" DURATION].
func (p *parser) parseRangeAndOffset(e *RangeAggregation) error {
	t := p.tok
	if t.kind != tokRange {
		if p.tok.kind == tokPipe || isLineFilterOp(p.tok.kind) {
			return p.unexpected()
		}
		return p.unexpected("RANGE")
	}
	p.next()
	text := strings.TrimSpace(p.text(t)[1 : t.end-t.start-1])
	d, ok := parseDuration(text)
	if !ok {
		return p.errorAt(t.start, fmt.Sprintf("not a valid duration string: %q", text))
	}
	if d <= 0 {
		return p.errorAt(t.start, "invalid range: the range must be greater than 0")
	}
	e.Range = d
	if p.isKeyword(p.tok, "offset") {
		p.next()
		off, err := p.durationValue()
		if err != nil {
			return err
		}
		e.Offset = off
	}
	return nil
}
