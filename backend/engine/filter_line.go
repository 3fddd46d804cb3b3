package engine

import (
	"bytes"
	"fmt"
	"regexp/syntax"
	"unicode/utf8"

	"github.com/grafana/regexp"

	"github.com/lode-logs/lode/backend/logql"
)

// lineFilter decides whether a line is kept. Implementations must not
// allocate: they run on every line read.
type lineFilter interface {
	match(line []byte) bool
}

// containsFilter keeps lines containing needle (every line if it is empty).
type containsFilter struct{ needle []byte }

func (f containsFilter) match(line []byte) bool {
	switch len(f.needle) {
	case 0:
		return true
	case 1:
		return bytes.IndexByte(line, f.needle[0]) >= 0
	}
	return bytes.Index(line, f.needle) >= 0
}

// foldFilter keeps lines containing needle ignoring ASCII case. needle is
// lower-case ASCII. It looks for the rarer of the first byte's two cases with
// IndexByte and compares the rest in place.
type foldFilter struct {
	needle       []byte
	first, upper byte
}

func newFoldFilter(needle string) foldFilter {
	n := bytes.ToLower([]byte(needle))
	f := foldFilter{needle: n}
	if len(n) > 0 {
		f.first = n[0]
		f.upper = toUpperASCII(n[0])
	}
	return f
}

func (f foldFilter) match(line []byte) bool {
	n := len(f.needle)
	if n == 0 {
		return true
	}
	for len(line) >= n {
		i := bytes.IndexByte(line[:len(line)-n+1], f.first)
		if f.upper != f.first {
			lim := len(line) - n + 1
			if i >= 0 {
				lim = i
			}
			if j := bytes.IndexByte(line[:lim], f.upper); j >= 0 {
				i = j
			}
		}
		if i < 0 {
			return false
		}
		if equalFoldLower(line[i+1:i+n], f.needle[1:]) {
			return true
		}
		line = line[i+1:]
	}
	return false
}

func toUpperASCII(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

// equalFoldLower compares s to the lower-case ASCII lower ignoring case.
func equalFoldLower(s, lower []byte) bool {
	for i, c := range s {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

type regexFilter struct{ re *regexp.Regexp }

func (f regexFilter) match(line []byte) bool { return f.re.Match(line) }

type orFilter []lineFilter

func (f orFilter) match(line []byte) bool {
	for _, g := range f {
		if g.match(line) {
			return true
		}
	}
	return false
}

type notFilter struct{ f lineFilter }

func (f notFilter) match(line []byte) bool { return !f.f.match(line) }

// patternFilter keeps lines matching a pattern (|> "<_> error <_>").
type patternFilter struct{ p *pattern }

func (f patternFilter) match(line []byte) bool { return f.p.test(line) }

// newLineFilter compiles one line filter stage of the query.
func newLineFilter(lf *logql.LineFilter) (lineFilter, error) {
	alts := make([]logql.LineAlt, 0, 1+len(lf.Or))
	alts = append(alts, logql.LineAlt{Match: lf.Match, IP: lf.IP})
	alts = append(alts, lf.Or...)
	var fs orFilter
	for _, a := range alts {
		f, err := newLineMatcher(lf.Op, a)
		if err != nil {
			return nil, err
		}
		fs = append(fs, f)
	}
	var f lineFilter = fs
	if len(fs) == 1 {
		f = fs[0]
	}
	// A negative filter with alternatives keeps lines matching none of them.
	if lf.Op.Negated() {
		f = notFilter{f}
	}
	return f, nil
}

// newLineMatcher compiles the positive form of one alternative.
func newLineMatcher(op logql.LineOp, a logql.LineAlt) (lineFilter, error) {
	if a.IP {
		m, err := newIPMatcher(a.Match)
		if err != nil {
			return nil, err
		}
		return ipLineFilter{m}, nil
	}
	switch op {
	case logql.LineContains, logql.LineNotContains:
		return containsFilter{needle: []byte(a.Match)}, nil
	case logql.LineMatch, logql.LineNotMatch:
		return newRegexLineFilter(a.Match)
	case logql.LinePattern, logql.LineNotPattern:
		p, err := parsePattern(a.Match)
		if err != nil {
			return nil, err
		}
		return patternFilter{p}, nil
	}
	return nil, fmt.Errorf("line filter %v: %w", op, ErrUnsupported)
}

// newRegexLineFilter compiles an unanchored regexp filter. Regexps that are
// plain literals, case-insensitive literals or alternations of literals
// (after dropping leading and trailing .*) run as substring searches.
func newRegexLineFilter(expr string) (lineFilter, error) {
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, fmt.Errorf("compile line filter regexp %q: %w", expr, err)
	}
	if f, ok := simplifyRegex(expr); ok {
		return f, nil
	}
	return regexFilter{re}, nil
}

func simplifyRegex(expr string) (lineFilter, bool) {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil, false
	}
	re = re.Simplify()
	re = stripCapture(re)
	if re.Op == syntax.OpConcat {
		subs := re.Sub
		for len(subs) > 0 && isDotStar(subs[0]) {
			subs = subs[1:]
		}
		for len(subs) > 0 && isDotStar(subs[len(subs)-1]) {
			subs = subs[:len(subs)-1]
		}
		if len(subs) == 1 {
			re = stripCapture(subs[0])
		} else {
			return nil, false
		}
	}
	if isDotStar(re) || re.Op == syntax.OpEmptyMatch {
		return containsFilter{}, true
	}
	if f, ok := literalFilter(re); ok {
		return f, true
	}
	if re.Op == syntax.OpAlternate {
		var fs orFilter
		for _, s := range re.Sub {
			f, ok := literalFilter(stripCapture(s))
			if !ok {
				return nil, false
			}
			fs = append(fs, f)
		}
		return fs, true
	}
	return nil, false
}

func stripCapture(re *syntax.Regexp) *syntax.Regexp {
	for re.Op == syntax.OpCapture && len(re.Sub) == 1 {
		re = re.Sub[0]
	}
	return re
}

func isDotStar(re *syntax.Regexp) bool {
	return re.Op == syntax.OpStar && len(re.Sub) == 1 &&
		(re.Sub[0].Op == syntax.OpAnyChar || re.Sub[0].Op == syntax.OpAnyCharNotNL)
}

func literalFilter(re *syntax.Regexp) (lineFilter, bool) {
	if re.Op != syntax.OpLiteral {
		return nil, false
	}
	s := string(re.Rune)
	if re.Flags&syntax.FoldCase == 0 {
		return containsFilter{needle: []byte(s)}, true
	}
	// (?i) literals become a case-insensitive substring search, as in Loki;
	// like Loki's, it folds ASCII only (the regexp would also match the
	// Kelvin sign for k and the long s for s).
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return nil, false
		}
	}
	return newFoldFilter(s), true
}
