package push

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

func TestAppendParsedLabels(t *testing.T) {
	tests := []struct {
		in      string
		want    []LabelPair
		wantErr string
	}{
		{in: `{}`, want: nil},
		{in: ` { } `, want: nil},
		{in: `{app="api"}`, want: []LabelPair{{"app", "api"}}},
		{in: `{app="api", env="prod"}`, want: []LabelPair{{"app", "api"}, {"env", "prod"}}},
		{in: "{\n\tb = 'x' ,a=`raw\\n`,\n}", want: []LabelPair{{"b", "x"}, {"a", `raw\n`}}},
		{in: `{a="q\"uote\\ \n \u00e9 \x41 \101"}`, want: []LabelPair{{"a", "q\"uote\\ \n é A A"}}},
		{in: `{a="", b="dup", b="dup2"}`, want: []LabelPair{{"a", ""}, {"b", "dup"}, {"b", "dup2"}}},
		{in: `{_under_score9="ü"}`, want: []LabelPair{{"_under_score9", "ü"}}},
		{in: ``, wantErr: `0: expected '{'`},
		{in: `app="api"`, wantErr: `0: expected '{'`},
		{in: `foo{a="b"}`, wantErr: `0: expected '{'`},
		{in: `{app="api"`, wantErr: `10: missing closing '}'`},
		{in: `{app="api}`, wantErr: `5: unterminated quoted label value`},
		{in: `{app=api}`, wantErr: `5: expected a quoted label value, got 'a'`},
		{in: `{app}`, wantErr: `4: expected '=' after label name "app"`},
		{in: `{app="a" env="b"}`, wantErr: `9: expected ',' or '}', got 'e'`},
		{in: `{foo-bar="x"}`, wantErr: `1: invalid label name "foo-bar"`},
		{in: `{1abc="x"}`, wantErr: `1: invalid label name "1abc"`},
		{in: `{a.b="x"}`, wantErr: `1: invalid label name "a.b"`},
		{in: `{="x"}`, wantErr: `1: expected a label name`},
		{in: `{a=~"x"}`, wantErr: `3: expected a quoted label value, got '~'`},
		{in: `{a!="x"}`, wantErr: `1: invalid label name "a!"`},
		{in: `{a="x"} trailing`, wantErr: `8: unexpected text after '}'`},
		{in: `{a="\q"}`, wantErr: `4: invalid escape in label value: invalid syntax`},
		{in: "{a=\"\xff\"}", wantErr: `4: label value is not valid UTF-8`},
		{in: `{a="\xff"}`, wantErr: `4: label value is not valid UTF-8`},
		{in: `{a="x",,b="y"}`, wantErr: `7: expected a label name`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := AppendParsedLabels(nil, tt.in)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("no error, got %v", got)
				}
				if err.Error() != tt.wantErr {
					t.Fatalf("error %q, want %q", err, tt.wantErr)
				}
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("error is not ErrMalformed")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestParseLabelsAgreesWithPrometheus checks the hand-written parser against
// Prometheus' ParseMetric (what Loki uses) on inputs inside the grammar both
// accept: same verdict, same labels.
func TestParseLabelsAgreesWithPrometheus(t *testing.T) {
	p := parser.NewParser(parser.Options{})
	inputs := []string{
		`{}`, `{a="b"}`, `{a="b",}`, `{ a = "b" , c = 'd' }`, "{a=`x\\y`}",
		`{a="\n\t\"\\"}`, `{a="\u00e9\U0001F600"}`, `{a="\x41"}`, `{a="\101"}`,
		`{__name__="x", job="y"}`, `{_a="1", A9="2"}`,
		`{a="b"`, `{a="b}`, `{a=b}`, `{a}`, `{1a="b"}`, `{a-b="c"}`,
		`{a="b" c="d"}`, `{a="b"} x`, `{a="\q"}`, `{,}`, `{a="b",,}`,
	}
	for _, in := range inputs {
		t.Run(in, func(t *testing.T) {
			pairs, err := AppendParsedLabels(nil, in)
			promLabels, promErr := p.ParseMetric(in)
			if (err == nil) != (promErr == nil) {
				t.Fatalf("verdicts differ: ours %v, Prometheus %v", err, promErr)
			}
			if err != nil {
				return
			}
			var b labels.ScratchBuilder
			for _, p := range pairs {
				b.Add(p.Name, p.Value)
			}
			b.Sort()
			if got := b.Labels(); !labels.Equal(got, promLabels) {
				t.Fatalf("labels %s, Prometheus %s", got, promLabels)
			}
		})
	}
}

func TestAppendLabelsStringRoundTrip(t *testing.T) {
	pairs := []LabelPair{{"app", "api"}, {"msg", "quote \" backslash \\ newline \n é"}, {"empty", ""}}
	s := string(AppendLabelsString(nil, pairs))
	if want := `{app="api", msg="quote \" backslash \\ newline \n é", empty=""}`; s != want {
		t.Fatalf("got %s, want %s", s, want)
	}
	got, err := AppendParsedLabels(nil, s)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, pairs) {
		t.Fatalf("round trip %q, want %q", got, pairs)
	}
	// The same form as Prometheus' labels.Labels.String for sorted labels.
	ls := labels.FromStrings("a", "1", "b", "x\"y")
	if got := string(AppendLabelsString(nil, []LabelPair{{"a", "1"}, {"b", "x\"y"}})); got != ls.String() {
		t.Fatalf("got %s, labels.String() %s", got, ls.String())
	}
}

func FuzzAppendParsedLabels(f *testing.F) {
	for _, s := range []string{`{a="b"}`, `{a='b', c="\x41"}`, "{a=`b`}", `{}`, `{a="\u00e9"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		pairs, err := AppendParsedLabels(nil, s)
		if err != nil {
			return
		}
		again, err := AppendParsedLabels(nil, string(AppendLabelsString(nil, pairs)))
		if err != nil {
			t.Fatalf("formatted labels do not parse: %v", err)
		}
		if !slices.Equal(again, pairs) && !(len(again) == 0 && len(pairs) == 0) {
			t.Fatalf("round trip %q != %q", again, pairs)
		}
		for _, p := range pairs {
			if !ValidLabelName(p.Name) || strings.ContainsRune(p.Name, 0) {
				t.Fatalf("invalid name %q accepted", p.Name)
			}
		}
	})
}
