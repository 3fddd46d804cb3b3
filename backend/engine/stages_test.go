package engine

import (
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/logql"
)

// runStages runs the pipeline of query on one line of a stream {app="t"} and
// returns the output line and labels (or "dropped").
func runStages(t testing.TB, query, line string) (string, string) {
	t.Helper()
	e, err := logql.ParseLogExpr(query)
	if err != nil {
		t.Fatalf("parse %s: %v", query, err)
	}
	p, err := newPipeline(e.Pipeline)
	if err != nil {
		t.Fatalf("pipeline %s: %v", query, err)
	}
	out, ok := p.process(newStreamBase(labels.FromStrings("app", "t")), 0, []byte(line), labels.EmptyLabels())
	if !ok {
		return "", "dropped"
	}
	return string(out), p.lb.labels().String()
}

func TestJSONParserEdgeCases(t *testing.T) {
	tests := []struct{ name, line, want string }{
		{"empty object", `{}`, `{app="t"}`},
		{"spaces", ` { "a" : 1 , "b" : [ 1 , { "c" : 2 } ] } `, `{a="1", app="t"}`},
		{"nested empty object", `{"a":{}}`, `{app="t"}`},
		{"numbers kept as written", `{"a":1.50,"b":-2e3}`, `{a="1.50", app="t", b="-2e3"}`},
		{"unicode escapes", `{"a":"\u00e9\ud83d\ude00"}`, `{a="é😀", app="t"}`},
		{"escaped key", `{"a\u002eb":"x"}`, `{a_b="x", app="t"}`},
		{"deep nesting", `{"a":{"b":{"c":{"d":"e"}}}}`, `{a_b_c_d="e", app="t"}`},
		{"truncated keeps earlier labels", `{"a":"x","b":`, `{__error__="JSONParserErr", __error_details__="unexpected end of input at offset 13", a="x", app="t"}`},
		{"trailing garbage", `{"a":"x"} tail`, `{__error__="JSONParserErr", __error_details__="unexpected data after top-level value at offset 10", a="x", app="t"}`},
		{"array document", `[1,2]`, `{__error__="JSONParserErr", __error_details__="Value looks like object, but can't find opening '{' symbol", app="t"}`},
		{"bad literal", `{"a":tru}`, `{__error__="JSONParserErr", __error_details__="invalid literal at offset 5", app="t"}`},
		{"raw control characters are accepted", "{\"a\":\"x\ny\"}", `{a="x\ny", app="t"}`},
		{"escaped backslash before quote", `{"a":"x\\","b":"y\\\"z"}`, `{a="x\\", app="t", b="y\\\"z"}`},
		{"collision with stream label", `{"app":"inner"}`, `{app="t", app_extracted="inner"}`},
		{"empty key skipped", `{"":"x","b":"y"}`, `{app="t", b="y"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, got := runStages(t, `{app="t"} | json`, tt.line); got != tt.want {
				t.Fatalf("labels = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestLogfmtParserEdgeCases(t *testing.T) {
	tests := []struct{ name, query, line, want string }{
		{"tabs and repeated spaces", `| logfmt`, "a=1\t\tb=2   c=3", `{a="1", app="t", b="2", c="3"}`},
		{"quoted with spaces and equals", `| logfmt`, `a="x = y" b=2`, `{a="x = y", app="t", b="2"}`},
		{"escapes in quotes", `| logfmt`, `a="line\nnext \"q\" \\"`, `{a="line\nnext \"q\" \\", app="t"}`},
		{"unterminated quote skipped", `| logfmt`, `a=1 b="open`, `{a="1", app="t"}`},
		{"unterminated quote strict", `| logfmt --strict`, `a=1 b="open`, `{__error__="LogfmtParserErr", __error_details__="logfmt syntax error at pos 12 : unterminated quoted value", a="1", app="t"}`},
		{"key without value dropped", `| logfmt`, `a b=1`, `{app="t", b="1"}`},
		{"first value of a repeated key wins", `| logfmt`, `a=1 a=2`, `{a="1", app="t"}`},
		{"no key", `| logfmt`, `=x a=1`, `{a="1", app="t"}`},
		{"quote inside key", `| logfmt --strict`, `fo"o=bar`, `{__error__="LogfmtParserErr", __error_details__="logfmt syntax error at pos 3 : unexpected '\"'", app="t"}`},
		{"keep-empty and strict together", `| logfmt --strict --keep-empty`, `a b=1`, `{a="", app="t", b="1"}`},
		{"utf8 value", `| logfmt`, `msg=héllo`, `{app="t", msg="héllo"}`},
		{"renamed params", `| logfmt x="a", b`, `a=1 b=2 c=3`, `{app="t", b="2", x="1"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, got := runStages(t, `{app="t"} `+tt.query, tt.line); got != tt.want {
				t.Fatalf("labels = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestPatternMatch(t *testing.T) {
	tests := []struct {
		pattern, line string
		want          []string
		full          bool
	}{
		{"<a> <b>", "x y z", []string{"x", "y z"}, true},
		{"<_> [<level>] <msg>", "ts [warn] hello", []string{"warn", "hello"}, true},
		{"GET <path>", "POST /x", nil, false},
		{"<a>:<b>:<c>", "1:2", []string{"1"}, false},
		{"literal <x>", "literal", nil, false},
		{"<x> end", "start end", []string{"start"}, true},
	}
	for _, tt := range tests {
		p, err := parsePattern(tt.pattern)
		if err != nil {
			t.Fatal(err)
		}
		got, full := p.match(nil, []byte(tt.line))
		var gs []string
		for _, g := range got {
			gs = append(gs, string(g))
		}
		if strings.Join(gs, "|") != strings.Join(tt.want, "|") || full != tt.full {
			t.Errorf("%q on %q = %q (full %v), want %q (%v)", tt.pattern, tt.line, gs, full, tt.want, tt.full)
		}
	}
	if _, err := parsePattern("<a><b>"); err == nil {
		t.Error("consecutive captures accepted")
	}
}

func TestLineFilters(t *testing.T) {
	tests := []struct {
		filter, line string
		keep         bool
	}{
		{`|= "abc"`, "xxabcxx", true},
		{`|= "abc"`, "xxabxcx", false},
		{`!= "abc"`, "xxabxcx", true},
		{`|~ "(?i)HeLLo"`, "say hello!", true},
		{`|~ "(?i)HeLLo"`, "say HELLO!", true},
		{`|~ "(?i)HeLLo"`, "say help!", false},
		{`|~ "(?i)é"`, "É", true},
		{`|~ "a.c"`, "xabcx", true},
		{`|~ "a.c"`, "xacx", false},
		{`|~ "^abc$"`, "abc", true},
		{`|~ "^abc$"`, "abcd", false},
		{`!~ "err(or)?"`, "all good", true},
		{`|~ "foo|bar"`, "a bar", true},
		{`|~ "(foo|ba+r)"`, "a baar", true},
		{`|= "x" or "y"`, "y", true},
		{`!= "x" or "y"`, "y", false},
		{`!= "x" or "y"`, "z", true},
		{`|= ip("1.2.3.0/24")`, "from 1.2.3.77 to", true},
		{`|= ip("1.2.3.0/24")`, "from 1.2.4.77 to", false},
		{`|= ip("::1")`, "addr [::1]:80", true},
		{`|> "<_>GET<_>"`, "a GET b", true},
	}
	for _, tt := range tests {
		_, got := runStages(t, `{app="t"} `+tt.filter, tt.line)
		if (got != "dropped") != tt.keep {
			t.Errorf("%s on %q: kept=%v, want %v", tt.filter, tt.line, got != "dropped", tt.keep)
		}
	}
}

func TestFoldFilter(t *testing.T) {
	f := newFoldFilter("Error")
	for _, tt := range []struct {
		line string
		want bool
	}{{"an ERROR here", true}, {"eRrOr", true}, {"err", false}, {"", false}, {"errorerror", true}, {"e rror", false}} {
		if got := f.match([]byte(tt.line)); got != tt.want {
			t.Errorf("fold(%q) = %v", tt.line, got)
		}
	}
}

func TestIPMatcher(t *testing.T) {
	tests := []struct {
		pattern, addr string
		want          bool
	}{
		{"192.168.0.1", "192.168.0.1", true},
		{"192.168.0.1", "192.168.0.2", false},
		{"192.168.0.0/16", "192.168.255.1", true},
		{"192.168.0.0/16", "192.169.0.1", false},
		{"10.0.0.1-10.0.0.10", "10.0.0.10", true},
		{"10.0.0.1-10.0.0.10", "10.0.0.11", false},
		{"::1", "::1", true},
		{"2001:db8::/32", "2001:db8:1::1", true},
		{"10.0.0.0/8", "::ffff:10.1.1.1", true},
	}
	for _, tt := range tests {
		m, err := newIPMatcher(tt.pattern)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.matchString(tt.addr); got != tt.want {
			t.Errorf("ip(%q) on %q = %v", tt.pattern, tt.addr, got)
		}
	}
	for _, bad := range []string{"x", "10.0.0.1-", "10.0.0.5-10.0.0.1", "1.2.3.4/99"} {
		if _, err := newIPMatcher(bad); err == nil {
			t.Errorf("ip(%q) accepted", bad)
		}
	}
}

func TestParseJSONPath(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"a.b[0]", "a,b,#0", true},
		{`a["c d"].e`, "a,c d,e", true},
		{`a['x]y']`, "a,x]y", true},
		{`[1][2]`, "#1,#2", true},
		{"a..b", "", true},
		{"a[x]", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, err := parseJSONPath(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("parseJSONPath(%q) err = %v", tt.in, err)
			continue
		}
		if !tt.ok || tt.want == "" {
			continue
		}
		var parts []string
		for _, e := range got {
			if e.isIndex {
				parts = append(parts, "#"+string(rune('0'+e.index)))
			} else {
				parts = append(parts, e.key)
			}
		}
		if strings.Join(parts, ",") != tt.want {
			t.Errorf("parseJSONPath(%q) = %v, want %s", tt.in, parts, tt.want)
		}
	}
}

func FuzzParsers(f *testing.F) {
	for _, s := range []string{`{"a":{"b":[1,2,{"c":"d"}]},"e":"\u00e9"}`, `a=1 b="x y" c= d`, `{"_entry":"x","k":"v"}`, `[1`, `"`, "a=\"\\", `{"a":"\ud800"}`} {
		f.Add(s)
	}
	stages := []string{`| json`, `| json a="a.b[2].c", e`, `| logfmt`, `| logfmt --strict --keep-empty`, `| unpack`, `| pattern "<a> <b>"`, `| decolorize`}
	f.Fuzz(func(t *testing.T, line string) {
		for _, st := range stages {
			runStages(t, `{app="t"} `+st, line)
		}
	})
}

func TestParseIPv4(t *testing.T) {
	for _, tt := range []struct {
		in string
		ok bool
	}{
		{"1.2.3.4", true}, {"0.0.0.0", true}, {"255.255.255.255", true},
		{"1.2.3", false}, {"1.2.3.4.5", false}, {"256.1.1.1", false}, {"01.2.3.4", false},
		{"1..2.3", false}, {"a.b.c.d", false}, {"", false},
	} {
		a, ok := parseIPv4([]byte(tt.in))
		if ok != tt.ok || (ok && a.String() != tt.in) {
			t.Errorf("parseIPv4(%q) = %v, %v", tt.in, a, ok)
		}
	}
}
