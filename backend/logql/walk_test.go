package logql

import (
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestNeedles(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{`{a="b"}`, nil},
		{`{a="b"} |= "x"`, []string{"x"}},
		{`{a="b"} |= "x" |= "y" |= "x"`, []string{"x", "y"}},
		{`{a="b"} |= ""`, nil},
		{`{a="b"} |= "x" or "y"`, nil},
		{`{a="b"} != "x" |~ "y" |> "<_> z"`, nil},
		{`{a="b"} |= ip("1.2.3.4")`, nil},
		{`{a="b"} |= "(?i)x"`, []string{"(?i)x"}},
		{`{a="b"} | json | level="error" |= "x" | logfmt | drop a | label_format c=d |= "y"`, []string{"x", "y"}},
		{`{a="b"} |= "x" | line_format "{{.y}}" |= "y"`, []string{"x"}},
		{`{a="b"} |= "x" | decolorize |= "y"`, []string{"x"}},
		{`{a="b"} |= "x" | unpack |= "y"`, []string{"x"}},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			le, err := ParseLogExpr(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := le.Needles(); !slices.Equal(got, tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestMatchersAndWalk(t *testing.T) {
	e := MustParse(`sum by (x) (rate({a="1"}[1m])) / on (x) label_replace(sum by (x) (rate({b="2", c=~"3.*"}[1m])), "y", "$1", "x", "(.*)") > bool vector(1)`)
	var sels []string
	for _, ms := range Matchers(e) {
		sels = append(sels, SelectorString(ms))
	}
	if want := []string{`{a="1"}`, `{b="2", c=~"3.*"}`}; !slices.Equal(sels, want) {
		t.Fatalf("Matchers: got %q, want %q", sels, want)
	}
	var kinds []string
	Walk(e, func(e Expr) bool {
		kinds = append(kinds, reflect.TypeOf(e).Elem().Name())
		return true
	})
	want := []string{"BinaryExpr", "BinaryExpr", "VectorAggregation", "RangeAggregation", "LogExpr",
		"LabelReplace", "VectorAggregation", "RangeAggregation", "LogExpr", "VectorExpr"}
	if !slices.Equal(kinds, want) {
		t.Fatalf("Walk order:\n got %v\nwant %v", kinds, want)
	}
	n := 0
	Walk(e, func(e Expr) bool {
		n++
		_, isAgg := e.(*VectorAggregation)
		return !isAgg
	})
	if n != 6 {
		t.Fatalf("Walk visited %d nodes when pruning aggregations, want 6", n)
	}
	if got := Matchers(MustParse(`1 + 2`)); len(got) != 0 {
		t.Fatalf("a scalar query has selectors %v", got)
	}
}

func TestParseKinds(t *testing.T) {
	if _, err := ParseLogExpr(`rate({a="b"}[1m])`); err == nil || !strings.Contains(err.Error(), "only log queries") {
		t.Fatalf("ParseLogExpr of a metric query: %v", err)
	}
	if _, err := ParseSampleExpr(`{a="b"}`); err == nil || !strings.Contains(err.Error(), "only metric queries") {
		t.Fatalf("ParseSampleExpr of a log query: %v", err)
	}
	if _, err := ParseSampleExpr(`rate({a="b"}[1m])`); err != nil {
		t.Fatal(err)
	}
	ms, err := ParseSelector(`{a=~".*", b!=""}`)
	if err != nil || len(ms) != 2 {
		t.Fatalf("ParseSelector: %v %v", ms, err)
	}
	if _, err := ParseSelector(`{a="b"} |= "x"`); err == nil {
		t.Fatal("ParseSelector accepted a pipeline")
	}
}

func TestJSONPath(t *testing.T) {
	k := func(s string) JSONPathElem { return JSONPathElem{Key: s} }
	i := func(n int) JSONPathElem { return JSONPathElem{Index: n, IsIndex: true} }
	tests := []struct {
		in   string
		want []JSONPathElem
		err  string
	}{
		{in: "a", want: []JSONPathElem{k("a")}},
		{in: "a.b.c_1", want: []JSONPathElem{k("a"), k("b"), k("c_1")}},
		{in: "a[0].b", want: []JSONPathElem{k("a"), i(0), k("b")}},
		{in: `["a b"][12]["c.d"]`, want: []JSONPathElem{k("a b"), i(12), k("c.d")}},
		{in: `a . b [ 1 ]`, want: []JSONPathElem{k("a"), k("b"), i(1)}},
		{in: "", err: "empty expression"},
		{in: ".a", err: `unexpected char '.' in ".a"`},
		{in: "a..b", err: `unexpected char at 2 in "a..b"`},
		{in: "a[1.5]", err: "cannot use float as array index"},
		{in: "a[-1]", err: `expected a key or an index after '[' in "a[-1]"`},
		{in: `a["b"`, err: `missing ']' in "a[\"b\""`},
		{in: `a["b`, err: `unterminated key in "a[\"b"`},
		{in: "1a", err: `unexpected char '1' in "1a"`},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseJSONPath(tc.in)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("got %v, %v; want error %q", got, err, tc.err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestParsePattern(t *testing.T) {
	got := ParsePattern(`<ip> - <_> "<method> <uri>" <a-b> <1x> <`)
	want := []PatternPart{
		{Capture: "ip"}, {Literal: " - "}, {Capture: "_"}, {Literal: ` "`}, {Capture: "method"},
		{Literal: " "}, {Capture: "uri"}, {Literal: `" <a-b> <1x> <`},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
}

func TestIPPattern(t *testing.T) {
	tests := []struct {
		pattern string
		in, out []string
	}{
		{"192.168.0.1", []string{"192.168.0.1", "::ffff:192.168.0.1"}, []string{"192.168.0.2", "::1"}},
		{"10.0.0.0/8", []string{"10.0.0.0", "10.255.255.255"}, []string{"11.0.0.0", "9.255.255.255"}},
		{"10.1.2.3/8", []string{"10.200.0.1"}, []string{"11.0.0.0"}},
		{"192.168.0.10-192.168.0.20", []string{"192.168.0.10", "192.168.0.15", "192.168.0.20"}, []string{"192.168.0.9", "192.168.0.21", "::1"}},
		{"::1", []string{"::1"}, []string{"::2", "127.0.0.1"}},
		{"2001:db8::/32", []string{"2001:db8::1"}, []string{"2001:db9::1"}},
		{"2001:db8::1-2001:db8::ff", []string{"2001:db8::80"}, []string{"2001:db8::100"}},
	}
	for _, tc := range tests {
		t.Run(tc.pattern, func(t *testing.T) {
			p, err := ParseIPPattern(tc.pattern)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range tc.in {
				if !p.Contains(netip.MustParseAddr(s)) {
					t.Errorf("%s should contain %s", tc.pattern, s)
				}
			}
			for _, s := range tc.out {
				if p.Contains(netip.MustParseAddr(s)) {
					t.Errorf("%s should not contain %s", tc.pattern, s)
				}
			}
		})
	}
	for _, bad := range []string{"", "x", "300.0.0.1", "10.0.0.0/33", "10.0.0.2-10.0.0.1", "10.0.0.1-::1"} {
		if _, err := ParseIPPattern(bad); err == nil {
			t.Errorf("ParseIPPattern(%q) accepted", bad)
		}
	}
}

func TestTemplateFuncNames(t *testing.T) {
	names := TemplateFuncNames()
	for _, want := range []string{"__line__", "__timestamp__", "regexReplaceAll", "toDateInZone", "alignLeft", "default"} {
		if !slices.Contains(names, want) {
			t.Errorf("missing %s", want)
		}
	}
	names[0] = "changed"
	if TemplateFuncNames()[0] == "changed" {
		t.Fatal("TemplateFuncNames returns shared state")
	}
}
