package logql

import (
	"strings"
	"testing"
)

func lexAll(src string) []string {
	l := lexer{src: src}
	var out []string
	for {
		t := l.next()
		switch t.kind {
		case tokEOF:
			return out
		case tokError:
			return append(out, "ERROR("+l.err+")")
		case tokIdent, tokString, tokNumber, tokDuration, tokBytes, tokRange, tokFlag:
			out = append(out, t.kind.String()+"("+src[t.start:t.end]+")")
		default:
			out = append(out, t.kind.String())
		}
	}
}

func TestLexer(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{app="foo"}`, `{ IDENTIFIER(app) = STRING("foo") }`},
		{`a!=b!~c=~d==e>=f<=g>h<i`, `IDENTIFIER(a) != IDENTIFIER(b) !~ IDENTIFIER(c) =~ IDENTIFIER(d) == IDENTIFIER(e) >= IDENTIFIER(f) <= IDENTIFIER(g) > IDENTIFIER(h) < IDENTIFIER(i)`},
		{`|= |~ |> !> | + - * / % ^ , ( )`, `|= |~ |> !> | + - * / % ^ , ( )`},
		{"\"a\\\"b\" `c\"d`", "STRING(\"a\\\"b\") STRING(`c\"d`)"},
		{"`multi\nline`", "STRING(`multi\nline`)"},
		{`12 1.5 .5 1e3 2.5E-3 0x1F 1e`, `NUMBER(12) NUMBER(1.5) NUMBER(.5) NUMBER(1e3) NUMBER(2.5E-3) NUMBER(0x1F) NUMBER(1) IDENTIFIER(e)`},
		{`5m 1h30m 250ms 1.5s 2µs 3us 4ns 1d 2w 1y`, `DURATION(5m) DURATION(1h30m) DURATION(250ms) DURATION(1.5s) DURATION(2µs) DURATION(3us) DURATION(4ns) DURATION(1d) DURATION(2w) DURATION(1y)`},
		{`10KB 1MiB 5B 1.5kB 2Ki 3M`, `BYTES(10KB) BYTES(1MiB) BYTES(5B) BYTES(1.5kB) BYTES(2Ki) BYTES(3M)`},
		// As in Loki, a duration prefix wins: 5mb is 5m then b.
		{`5mb 5min 5b`, `DURATION(5m) IDENTIFIER(b) DURATION(5m) IDENTIFIER(in) NUMBER(5) IDENTIFIER(b)`},
		{`[5m] [ 1h ] [$__interval]`, `RANGE([5m]) RANGE([ 1h ]) RANGE([$__interval])`},
		{`--strict --keep-empty --other -1`, `PARSER_FLAG(--strict) PARSER_FLAG(--keep-empty) - - IDENTIFIER(other) - NUMBER(1)`},
		{"a # comment |= \"x\"\nb", `IDENTIFIER(a) IDENTIFIER(b)`},
		{"_x9 Inf NaN sum_over_time", `IDENTIFIER(_x9) IDENTIFIER(Inf) IDENTIFIER(NaN) IDENTIFIER(sum_over_time)`},
		{`"unterminated`, `ERROR(literal not terminated)`},
		{"\"new\nline\"", `ERROR(literal not terminated)`},
		{"`open", `ERROR(literal not terminated)`},
		{`[5m`, `ERROR(missing closing ']' in duration)`},
		{`a ~ b`, `IDENTIFIER(a) ERROR(syntax error: unexpected character "~")`},
		{"é", `ERROR(syntax error: unexpected character "é")`},
		{`!`, `ERROR(syntax error: unexpected character "!")`},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got := strings.Join(lexAll(tc.in), " ")
			if got != tc.want {
				t.Fatalf("\n got: %s\nwant: %s", got, tc.want)
			}
		})
	}
}

func TestLexerAllocs(t *testing.T) {
	q := benchQueries[len(benchQueries)-1]
	allocs := testing.AllocsPerRun(100, func() {
		l := lexer{src: q}
		for l.next().kind > tokError {
		}
	})
	if allocs != 0 {
		t.Fatalf("lexing allocates %v times per query", allocs)
	}
}

func TestErrorPosition(t *testing.T) {
	tests := []struct {
		in        string
		line, col int
	}{
		{"{a=\"b\"} |= x", 1, 12},
		{"{a=\"b\"}\n  |= x", 2, 6},
		{"{a=\"é\"} |= x", 1, 12},
		{"{a=\"b\"}\r\n|= x", 2, 4},
		{"{a=\"b\"} |= \"x\" |", 1, 17},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			_, err := Parse(tc.in)
			pe, ok := err.(*ParseError)
			if !ok {
				t.Fatalf("error %v is not a *ParseError", err)
			}
			if pe.Line != tc.line || pe.Col != tc.col {
				t.Fatalf("got line %d col %d, want %d, %d (%v)", pe.Line, pe.Col, tc.line, tc.col, err)
			}
		})
	}
}
