package logql

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

// maxDepth bounds the nesting of parentheses and function calls, so that a
// hostile query cannot exhaust the stack.
const maxDepth = 256

// Parse parses a LogQL query: a log query or a metric query.
func Parse(query string) (Expr, error) {
	p := newParser(query)
	e, err := p.parseExpr(0)
	if err == nil && p.tok.kind != tokEOF {
		err = p.unexpected()
	}
	if err != nil {
		return nil, err
	}
	if p.semErr != nil {
		return nil, p.semErr
	}
	return e, nil
}

// ParseLogExpr parses a log query ({...} | ...); a metric query is an error.
func ParseLogExpr(query string) (*LogExpr, error) {
	e, err := Parse(query)
	if err != nil {
		return nil, err
	}
	le, ok := e.(*LogExpr)
	if !ok {
		return nil, &ParseError{Line: 1, Col: 1, Msg: "only log queries are supported here"}
	}
	return le, nil
}

// ParseSampleExpr parses a metric query; a log query is an error.
func ParseSampleExpr(query string) (SampleExpr, error) {
	e, err := Parse(query)
	if err != nil {
		return nil, err
	}
	se, ok := e.(SampleExpr)
	if !ok {
		return nil, &ParseError{Line: 1, Col: 1, Msg: "only metric queries are supported here"}
	}
	return se, nil
}

// ParseSelector parses a bare stream selector such as {app="api"} (as used
// by match[] of /series). Unlike Parse it accepts a selector whose matchers
// all match the empty string, as Loki's series endpoint does.
func ParseSelector(query string) ([]*labels.Matcher, error) {
	p := newParser(query)
	p.allowEmptyMatch = true
	ms, err := p.parseSelector()
	if err == nil && p.tok.kind != tokEOF {
		err = p.unexpected()
	}
	if err != nil {
		return nil, err
	}
	if p.semErr != nil {
		return nil, p.semErr
	}
	return ms, nil
}

type parser struct {
	src   string
	lex   lexer
	tok   token
	depth int
	// semErr is the first validation error; syntax errors stop parsing at
	// once, validation errors are reported only if the whole query parses,
	// so that a syntax error later in the query wins, as in Loki.
	semErr          *ParseError
	allowEmptyMatch bool
}

func newParser(src string) *parser {
	p := &parser{src: src, lex: lexer{src: src}}
	p.next()
	return p
}

func (p *parser) next() { p.tok = p.lex.next() }

// peek returns the token after the current one without consuming it.
func (p *parser) peek() token {
	l := p.lex
	return l.next()
}

func (p *parser) text(t token) string { return p.src[t.start:t.end] }

// isKeyword reports whether t is the identifier kw (case-insensitively).
func (p *parser) isKeyword(t token, kw string) bool {
	return t.kind == tokIdent && strings.EqualFold(p.text(t), kw)
}

func (p *parser) position(pos int) (line, col int) {
	line, col = 1, 1
	for _, r := range p.src[:min(pos, len(p.src))] {
		if r == '\n' {
			line, col = line+1, 1
			continue
		}
		col++
	}
	return line, col
}

func (p *parser) errorAt(pos int, msg string) *ParseError {
	line, col := p.position(pos)
	return &ParseError{Line: line, Col: col, Msg: msg}
}

// semantic records a validation error at pos; only the first one is kept.
func (p *parser) semantic(pos int, format string, args ...any) {
	if p.semErr == nil {
		p.semErr = p.errorAt(pos, fmt.Sprintf(format, args...))
	}
}

// keywordTokens are the words Loki's lexer always treats as keywords; error
// messages name them by their text rather than as IDENTIFIER.
var keywordTokens = [...]string{
	"by", "without", "bool", "on", "ignoring", "group_left", "group_right", "or", "and", "unless",
	"json", "logfmt", "regexp", "unpack", "pattern", "label_format", "line_format", "ip",
	"decolorize", "drop", "keep", "offset", "unwrap", "label_replace",
}

func (p *parser) describe(t token) string {
	if t.kind == tokIdent {
		lower := strings.ToLower(p.text(t))
		for _, kw := range keywordTokens {
			if kw == lower {
				return kw
			}
		}
	}
	return t.kind.String()
}

// unexpected reports a syntax error at the current token.
func (p *parser) unexpected(expecting ...string) *ParseError {
	if p.tok.kind == tokError {
		return p.errorAt(p.tok.start, p.lex.err)
	}
	var b strings.Builder
	b.WriteString("syntax error: unexpected ")
	b.WriteString(p.describe(p.tok))
	if len(expecting) > 0 {
		b.WriteString(", expecting ")
		b.WriteString(strings.Join(expecting, " or "))
	}
	return p.errorAt(p.tok.start, b.String())
}

// expect consumes a token of kind k or fails.
func (p *parser) expect(k tokenKind) (token, error) {
	t := p.tok
	if t.kind != k {
		return t, p.unexpected(k.String())
	}
	p.next()
	return t, nil
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return p.errorAt(p.tok.start, "syntax error: expression nested too deeply")
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

// str decodes the current STRING token and consumes it.
func (p *parser) str() (string, error) {
	t := p.tok
	if t.kind != tokString {
		return "", p.unexpected("STRING")
	}
	p.next()
	s, err := unquote(p.text(t))
	if err != nil {
		return "", p.errorAt(t.start, err.Error())
	}
	return s, nil
}

func unquote(s string) (string, error) {
	if s[0] == '`' {
		return s[1 : len(s)-1], nil
	}
	u, err := strconv.Unquote(s)
	if err != nil {
		return "", fmt.Errorf("invalid string literal %s", s)
	}
	return u, nil
}

// ident consumes an IDENTIFIER and returns its text.
func (p *parser) ident(expecting ...string) (string, error) {
	if p.tok.kind != tokIdent {
		if len(expecting) == 0 {
			expecting = []string{"IDENTIFIER"}
		}
		return "", p.unexpected(expecting...)
	}
	s := p.text(p.tok)
	p.next()
	return s, nil
}

// parseNumberText converts the text of a NUMBER (or Inf/NaN) to a float64.
func parseNumberText(s string) (float64, error) {
	if len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		u, err := strconv.ParseUint(s[2:], 16, 64)
		if err != nil {
			return 0, fmt.Errorf("unable to parse literal as a float: %w", err)
		}
		return float64(u), nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("unable to parse literal as a float: %w", err)
	}
	return f, nil
}

// isNumberStart reports whether t can start a number: NUMBER, Inf or NaN.
func (p *parser) isNumber(t token) bool {
	return t.kind == tokNumber || p.isKeyword(t, "inf") || p.isKeyword(t, "nan")
}

// signedNumber parses [+|-] NUMBER.
func (p *parser) signedNumber() (float64, error) {
	neg := false
	if p.tok.kind == tokAdd || p.tok.kind == tokSub {
		neg = p.tok.kind == tokSub
		p.next()
	}
	t := p.tok
	if !p.isNumber(t) {
		return 0, p.unexpected("NUMBER")
	}
	p.next()
	f, err := parseNumberText(p.text(t))
	if err != nil {
		return 0, p.errorAt(t.start, err.Error())
	}
	if neg {
		f = -f
	}
	return f, nil
}

// durationValue parses [-] DURATION.
func (p *parser) durationValue() (time.Duration, error) {
	neg := false
	if p.tok.kind == tokSub {
		neg = true
		p.next()
	}
	t := p.tok
	if t.kind != tokDuration {
		return 0, p.unexpected("DURATION")
	}
	p.next()
	d, ok := parseDuration(p.text(t))
	if !ok {
		return 0, p.errorAt(t.start, fmt.Sprintf("not a valid duration string: %q", p.text(t)))
	}
	if neg {
		d = -d
	}
	return d, nil
}

// MustParse is Parse for queries known to be valid (tests, constants); it
// panics on error.
func MustParse(query string) Expr {
	e, err := Parse(query)
	if err != nil {
		panic(err)
	}
	return e
}
