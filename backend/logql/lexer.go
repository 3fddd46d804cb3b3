package logql

import (
	"strconv"
	"strings"
)

// tokenKind classifies a token. Keywords are identifiers: the parser decides
// by context (case-insensitively, as Loki does) what an identifier means.
type tokenKind uint8

const (
	tokEOF tokenKind = iota
	tokError
	tokIdent
	tokString   // "..." or `...`; decoded by the parser
	tokNumber   // 12, 1.5, 0x1f, 1e-3
	tokDuration // 5m, 1h30m, 250ms, 1.5s
	tokBytes    // 10KB, 1MiB
	tokRange    // [5m]
	tokFlag     // --strict, --keep-empty
	tokLBrace
	tokRBrace
	tokLParen
	tokRParen
	tokComma
	tokEq      // =
	tokNeq     // !=
	tokRe      // =~
	tokNre     // !~
	tokCmpEq   // ==
	tokGt      // >
	tokGte     // >=
	tokLt      // <
	tokLte     // <=
	tokPipe    // |
	tokPipeEq  // |=
	tokPipeRe  // |~
	tokPipePat // |>
	tokNpa     // !>
	tokAdd
	tokSub
	tokMul
	tokDiv
	tokMod
	tokPow
)

var tokenNames = [...]string{
	tokEOF: "$end", tokError: "$unk", tokIdent: "IDENTIFIER", tokString: "STRING", tokNumber: "NUMBER",
	tokDuration: "DURATION", tokBytes: "BYTES", tokRange: "RANGE", tokFlag: "PARSER_FLAG",
	tokLBrace: "{", tokRBrace: "}", tokLParen: "(", tokRParen: ")", tokComma: ",",
	tokEq: "=", tokNeq: "!=", tokRe: "=~", tokNre: "!~", tokCmpEq: "==", tokGt: ">", tokGte: ">=",
	tokLt: "<", tokLte: "<=", tokPipe: "|", tokPipeEq: "|=", tokPipeRe: "|~", tokPipePat: "|>", tokNpa: "!>",
	tokAdd: "+", tokSub: "-", tokMul: "*", tokDiv: "/", tokMod: "%", tokPow: "^",
}

func (k tokenKind) String() string { return tokenNames[k] }

// token is a lexeme of the input: its kind and byte span. Values are decoded
// from the span by the parser, so lexing allocates nothing.
type token struct {
	kind       tokenKind
	start, end int
}

// lexer splits a query into tokens. It is a value type: copying it saves a
// position (the parser peeks by copying).
type lexer struct {
	src string
	pos int
	// err describes the last tokError (a constant string, no allocation).
	err string
}

func isHexDigit(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// next returns the next token; at the end of input it keeps returning tokEOF.
func (l *lexer) next() token {
	l.skipSpaceAndComments()
	start := l.pos
	if start >= len(l.src) {
		return token{kind: tokEOF, start: start, end: start}
	}
	c := l.src[start]
	switch {
	case isIdentStart(c):
		l.pos++
		for l.pos < len(l.src) && isIdentChar(l.src[l.pos]) {
			l.pos++
		}
		return token{kind: tokIdent, start: start, end: l.pos}
	case isDigit(c) || (c == '.' && start+1 < len(l.src) && isDigit(l.src[start+1])):
		return l.number()
	case c == '"':
		return l.quoted()
	case c == '`':
		return l.raw()
	case c == '[':
		return l.rangeToken()
	}
	return l.operator(c)
}

func (l *lexer) skipSpaceAndComments() {
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		if isSpace(c) {
			l.pos++
			continue
		}
		if c == '#' {
			for l.pos < len(l.src) && l.src[l.pos] != '\n' {
				l.pos++
			}
			continue
		}
		return
	}
}

func (l *lexer) errorf(start int, msg string) token {
	l.err = msg
	return token{kind: tokError, start: start, end: l.pos}
}

// operator lexes punctuation, preferring the longest match.
func (l *lexer) operator(c byte) token {
	start := l.pos
	var n byte
	if start+1 < len(l.src) {
		n = l.src[start+1]
	}
	kind, width := tokError, 1
	switch c {
	case '{':
		kind = tokLBrace
	case '}':
		kind = tokRBrace
	case '(':
		kind = tokLParen
	case ')':
		kind = tokRParen
	case ',':
		kind = tokComma
	case '+':
		kind = tokAdd
	case '*':
		kind = tokMul
	case '/':
		kind = tokDiv
	case '%':
		kind = tokMod
	case '^':
		kind = tokPow
	case '-':
		if n == '-' {
			if end := l.flagEnd(start); end > 0 {
				l.pos = end
				return token{kind: tokFlag, start: start, end: end}
			}
		}
		kind = tokSub
	case '=':
		kind = tokEq
		switch n {
		case '~':
			kind, width = tokRe, 2
		case '=':
			kind, width = tokCmpEq, 2
		}
	case '!':
		switch n {
		case '=':
			kind, width = tokNeq, 2
		case '~':
			kind, width = tokNre, 2
		case '>':
			kind, width = tokNpa, 2
		}
	case '|':
		kind = tokPipe
		switch n {
		case '=':
			kind, width = tokPipeEq, 2
		case '~':
			kind, width = tokPipeRe, 2
		case '>':
			kind, width = tokPipePat, 2
		}
	case '>':
		kind = tokGt
		if n == '=' {
			kind, width = tokGte, 2
		}
	case '<':
		kind = tokLt
		if n == '=' {
			kind, width = tokLte, 2
		}
	}
	if kind == tokError {
		l.pos += runeLen(l.src[start:])
		return l.errorf(start, "syntax error: unexpected character "+strconv.Quote(l.src[start:l.pos]))
	}
	l.pos += width
	return token{kind: kind, start: start, end: l.pos}
}

// flagEnd returns the end of a parser flag (--strict, --keep-empty) starting
// at start, or 0 if there is none.
func (l *lexer) flagEnd(start int) int {
	end := start + 2
	for end < len(l.src) && (isIdentChar(l.src[end]) || l.src[end] == '-') {
		end++
	}
	switch l.src[start:end] {
	case "--strict", "--keep-empty":
		return end
	}
	return 0
}

// quoted lexes a double-quoted string with Go escapes; the escapes are checked
// when the parser decodes it.
func (l *lexer) quoted() token {
	start := l.pos
	i := start + 1
	for {
		j := strings.IndexAny(l.src[i:], "\"\\\n")
		if j < 0 {
			l.pos = len(l.src)
			return l.errorf(start, "literal not terminated")
		}
		i += j
		switch l.src[i] {
		case '\\':
			i += 2
			if i > len(l.src) {
				i = len(l.src)
			}
		case '\n':
			l.pos = i
			return l.errorf(start, "literal not terminated")
		default:
			l.pos = i + 1
			return token{kind: tokString, start: start, end: l.pos}
		}
	}
}

func (l *lexer) raw() token {
	start := l.pos
	if j := strings.IndexByte(l.src[start+1:], '`'); j >= 0 {
		l.pos = start + j + 2
		return token{kind: tokString, start: start, end: l.pos}
	}
	l.pos = len(l.src)
	return l.errorf(start, "literal not terminated")
}

// rangeToken lexes [<duration>]; the duration is checked by the parser.
func (l *lexer) rangeToken() token {
	start := l.pos
	for i := start + 1; i < len(l.src); i++ {
		if l.src[i] == ']' {
			l.pos = i + 1
			return token{kind: tokRange, start: start, end: l.pos}
		}
	}
	l.pos = len(l.src)
	return l.errorf(start, "missing closing ']' in duration")
}

// number lexes a number, then, as Loki does, tries to extend it into a
// duration (5m, 1h30m) and failing that into a byte size (10KB).
func (l *lexer) number() token {
	start := l.pos
	s := l.src
	i := start
	if s[i] == '0' && i+1 < len(s) && (s[i+1] == 'x' || s[i+1] == 'X') {
		i += 2
		for i < len(s) && isHexDigit(s[i]) {
			i++
		}
		l.pos = i
		return token{kind: tokNumber, start: start, end: i}
	}
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if j < len(s) && isDigit(s[j]) {
			for j < len(s) && isDigit(s[j]) {
				j++
			}
			l.pos = j
			return token{kind: tokNumber, start: start, end: j}
		}
	}
	if end := scanTail(s, i, isDurationChar); end > i {
		if _, ok := parseDuration(s[start:end]); ok {
			l.pos = end
			return token{kind: tokDuration, start: start, end: end}
		}
	}
	if end := scanTail(s, i, isBytesChar); end > i {
		if _, ok := parseBytes(s[start:end]); ok {
			l.pos = end
			return token{kind: tokBytes, start: start, end: end}
		}
	}
	l.pos = i
	return token{kind: tokNumber, start: start, end: i}
}

func scanTail(s string, i int, accept func(s string, i int) int) int {
	for i < len(s) {
		n := accept(s, i)
		if n == 0 {
			break
		}
		i += n
	}
	return i
}

// isDurationChar returns the width of a duration character at s[i] (digits,
// '.', unit letters n u µ m s h d w y), or 0.
func isDurationChar(s string, i int) int {
	switch c := s[i]; c {
	case 'n', 'u', 'm', 's', 'h', 'd', 'w', 'y', '.':
		return 1
	case 0xc2: // µ (U+00B5) is 0xc2 0xb5 in UTF-8
		if i+1 < len(s) && s[i+1] == 0xb5 {
			return 2
		}
		return 0
	default:
		if isDigit(c) {
			return 1
		}
		return 0
	}
}

// isBytesChar returns 1 for characters of a byte size suffix (digits, '.',
// B i k K M G T P), else 0.
func isBytesChar(s string, i int) int {
	switch c := s[i]; c {
	case 'B', 'i', 'k', 'K', 'M', 'G', 'T', 'P', '.':
		return 1
	default:
		if isDigit(c) {
			return 1
		}
		return 0
	}
}

func runeLen(s string) int {
	if len(s) == 0 {
		return 0
	}
	c := s[0]
	n := 1
	switch {
	case c >= 0xf0:
		n = 4
	case c >= 0xe0:
		n = 3
	case c >= 0xc0:
		n = 2
	}
	if n > len(s) {
		n = len(s)
	}
	return n
}
