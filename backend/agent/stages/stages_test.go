package stages

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/prometheus/model/labels"
	"gopkg.in/yaml.v3"

	"github.com/lode-logs/lode/backend/agent/ack"
)

var now = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

func compile(t *testing.T, src string, reg prometheus.Registerer, dropped *prometheus.CounterVec) *Pipeline {
	t.Helper()
	var nodes []yaml.Node
	if err := yaml.Unmarshal([]byte(src), &nodes); err != nil {
		t.Fatal(err)
	}
	p, err := New(nodes, "pipeline_stages", Options{Now: func() time.Time { return now }, Registerer: reg, Dropped: dropped})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

type out struct {
	line, labels, tenant string
	ts                   int64
	md                   string
}

// run feeds lines through a fresh instance and returns what came out,
// flushing held entries at the end.
func run(p *Pipeline, in []string, lbls labels.Labels) []out {
	inst := p.Instance()
	var got []out
	sink := func(e *Entry) {
		var md []string
		for _, m := range e.Metadata {
			md = append(md, m.Name+"="+m.Value)
		}
		got = append(got, out{line: string(e.Line), labels: e.Labels.String(), tenant: e.Tenant, ts: e.Timestamp, md: strings.Join(md, ",")})
	}
	for _, l := range in {
		e := &Entry{Timestamp: 1, Line: []byte(l), Labels: lbls}
		inst.Process(e, sink)
	}
	inst.Flush(now, true, sink)
	return got
}

func TestStages(t *testing.T) {
	base := labels.FromStrings("job", "app")
	tests := []struct {
		name     string
		pipeline string
		in       []string
		want     []out
	}{
		{"docker", `[{docker: {}}]`,
			[]string{`{"log":"hello\n","stream":"stderr","time":"2019-04-30T02:12:41.8443515Z"}`, `not json`},
			[]out{{line: "hello", labels: `{job="app", stream="stderr"}`, ts: 1556590361844351500}, {line: "not json", labels: `{job="app"}`, ts: 1}}},
		{"cri full and partial", `[{cri: {}}]`,
			[]string{"2019-01-01T01:00:00.000000001Z stdout F full line", "2019-01-01T01:00:00.000000002Z stderr P part1 ", "2019-01-01T01:00:00.000000003Z stderr P part2 ", "2019-01-01T01:00:00.000000004Z stderr F end"},
			[]out{{line: "full line", labels: `{job="app", stream="stdout"}`, ts: 1546304400000000001}, {line: "part1 part2 end", labels: `{job="app", stream="stderr"}`, ts: 1546304400000000002}}},
		{"regex and labels", `[{regex: {expression: '^(?P<level>\w+) (?P<msg>.*)$'}}, {labels: {level: ""}}]`,
			[]string{"warn disk full", "!!"},
			[]out{{line: "warn disk full", labels: `{job="app", level="warn"}`, ts: 1}, {line: "!!", labels: `{job="app"}`, ts: 1}}},
		{"json jmespath and output", `[{json: {expressions: {msg: "", user: "ctx.user", tags: "tags"}}}, {output: {source: msg}}, {labels: {user: ""}}]`,
			[]string{`{"msg":"hi","ctx":{"user":"ann"},"tags":["a"]}`},
			[]out{{line: "hi", labels: `{job="app", user="ann"}`, ts: 1}}},
		{"logfmt", `[{logfmt: {mapping: {lvl: level, m: msg}}}, {template: {source: out, template: '{{ .lvl }}: {{ .m }}'}}, {output: {source: out}}]`,
			[]string{`level=error msg="disk \"sda\" full" other=1`},
			[]out{{line: `error: disk "sda" full`, labels: `{job="app"}`, ts: 1}}},
		{"replace", `[{replace: {expression: 'password=(\S+)', replace: '****'}}]`,
			[]string{"login user=a password=secret ok"},
			[]out{{line: "login user=a password=**** ok", labels: `{job="app"}`, ts: 1}}},
		{"template functions", `[{regex: {expression: '(?P<app>\w+)'}}, {template: {source: app, template: '{{ ToUpper .Value }}-{{ Replace .Entry " " "_" -1 }}'}}, {output: {source: app}}]`,
			[]string{"loki says hi"},
			[]out{{line: "LOKI-loki_says_hi", labels: `{job="app"}`, ts: 1}}},
		{"labeldrop labelallow static_labels", `[{static_labels: {env: prod, team: a}}, {labeldrop: [team]}, {labelallow: [env, job]}]`,
			[]string{"x"}, []out{{line: "x", labels: `{env="prod", job="app"}`, ts: 1}}},
		{"timestamp formats and location", `[{regex: {expression: '^(?P<ts>\S+ \S+) '}}, {timestamp: {source: ts, format: "2006-01-02 15:04:05", location: "Europe/Paris"}}]`,
			[]string{"2024-01-02 10:00:00 msg"},
			[]out{{line: "2024-01-02 10:00:00 msg", labels: `{job="app"}`, ts: time.Date(2024, 1, 2, 9, 0, 0, 0, time.UTC).UnixNano()}}},
		{"timestamp unix and fudge", `[{regex: {expression: '^(?P<ts>\S+)'}}, {timestamp: {source: ts, format: UnixMs}}]`,
			[]string{"1700000000123 a", "garbage b"},
			[]out{{line: "1700000000123 a", labels: `{job="app"}`, ts: 1700000000123000000}, {line: "garbage b", labels: `{job="app"}`, ts: 1700000000123000001}}},
		{"timestamp without year", `[{regex: {expression: '^(?P<ts>\w+ +\d+ [\d:]+)'}}, {timestamp: {source: ts, format: Stamp}}]`,
			[]string{"Mar  3 04:05:06 x"},
			[]out{{line: "Mar  3 04:05:06 x", labels: `{job="app"}`, ts: time.Date(2024, 3, 3, 4, 5, 6, 0, time.UTC).UnixNano()}}},
		{"match keep with line filter", `[{match: {selector: '{job="app"} |= "error"', stages: [{static_labels: {hit: "yes"}}]}}]`,
			[]string{"an error", "fine"},
			[]out{{line: "an error", labels: `{hit="yes", job="app"}`, ts: 1}, {line: "fine", labels: `{job="app"}`, ts: 1}}},
		{"match drop", `[{match: {selector: '{job=~"a.*"} !~ "keep"', action: drop}}]`,
			[]string{"drop me", "keep me"}, []out{{line: "keep me", labels: `{job="app"}`, ts: 1}}},
		{"drop by value, expression and length", `[{regex: {expression: '^(?P<level>\w+)'}}, {drop: {source: level, value: debug}}, {drop: {expression: 'healthz'}}, {drop: {longer_than: 10}}]`,
			[]string{"debug x", "info /healthz", "info this is too long", "info ok"},
			[]out{{line: "info ok", labels: `{job="app"}`, ts: 1}}},
		{"drop older_than", `[{drop: {older_than: 1h}}]`, []string{"old"}, nil},
		{"multiline", `[{multiline: {firstline: '^\d', max_lines: 3}}]`,
			[]string{"1 start", "  at a", "  at b", "  at c", "2 next"},
			[]out{{line: "1 start\n  at a\n  at b", labels: `{job="app"}`, ts: 1}, {line: "  at c", labels: `{job="app"}`, ts: 1}, {line: "2 next", labels: `{job="app"}`, ts: 1}}},
		{"structured_metadata", `[{regex: {expression: 'trace=(?P<trace_id>\w+)'}}, {structured_metadata: {trace_id: ""}}]`,
			[]string{"x trace=abc"}, []out{{line: "x trace=abc", labels: `{job="app"}`, ts: 1, md: "trace_id=abc"}}},
		{"tenant", `[{regex: {expression: 'org=(?P<org>\w+)'}}, {tenant: {source: org}}]`,
			[]string{"org=acme"}, []out{{line: "org=acme", labels: `{job="app"}`, tenant: "acme", ts: 1}}},
		{"decolorize", `[{decolorize: {}}]`,
			[]string{"\x1b[31mred\x1b[0m plain"}, []out{{line: "red plain", labels: `{job="app"}`, ts: 1}}},
		{"limit drop", `[{limit: {rate: 1, burst: 2, drop: true}}]`,
			[]string{"a", "b", "c"}, []out{{line: "a", labels: `{job="app"}`, ts: 1}, {line: "b", labels: `{job="app"}`, ts: 1}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := run(compile(t, tc.pipeline, nil, nil), tc.in, base)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d entries %+v, want %d", len(got), got, len(tc.want))
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("entry %d: got %+v, want %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

// TestAcks: dropped and merged lines release their tokens, so the file's
// committed offset moves past them; a merged block keeps its first token.
func TestAcks(t *testing.T) {
	p := compile(t, `[{multiline: {firstline: '^\d'}}, {drop: {expression: '^9'}}]`, nil, nil)
	inst := p.Instance()
	tr := ack.NewTracker(0)
	var kept []ack.Token
	sink := func(e *Entry) { kept = append(kept, e.Ack) }
	off := int64(0)
	for _, l := range []string{"1 a", " b", "9 dropped", "2 c"} {
		e := &Entry{Line: []byte(l), Ack: tr.Add(off, off+int64(len(l))+1)}
		off += int64(len(l)) + 1
		inst.Process(e, sink)
	}
	// "1 a\n b" was emitted when "9" started a block; "9" is held.
	if len(kept) != 1 || tr.Committed() != 0 {
		t.Fatalf("kept %d, committed %d", len(kept), tr.Committed())
	}
	kept[0].Done()
	// "1 a\n b\n" acknowledged, "9 dropped" dropped when "2" started a
	// block, "2 c" still held by multiline.
	if got := tr.Committed(); got != 17 {
		t.Fatalf("committed %d, want 17", got)
	}
	inst.Flush(now, true, sink)
	if len(kept) != 2 {
		t.Fatalf("kept %d", len(kept))
	}
	kept[1].Done()
	if got := tr.Committed(); got != off {
		t.Fatalf("committed %d, want %d", got, off)
	}
}

func TestMetricsStage(t *testing.T) {
	reg := prometheus.NewRegistry()
	p := compile(t, `
- regex: {expression: '^(?P<level>\w+) (?P<dur>[\d.]+)'}
- metrics:
    lines_total: {type: Counter, config: {match_all: true, action: inc}}
    errors_total: {type: Counter, source: level, config: {value: error, action: inc}}
    bytes_total: {type: Counter, config: {match_all: true, count_entry_bytes: true, action: add}}
    last_duration: {type: Gauge, source: dur, config: {action: set}}
    duration_seconds: {type: Histogram, source: dur, config: {buckets: [0.1, 1]}}
`, reg, nil)
	run(p, []string{"error 0.5", "info 2", "error 0.05"}, labels.FromStrings("job", "app"))
	for _, tc := range []struct {
		name string
		want float64
	}{
		{"promtail_custom_lines_total", 3}, {"promtail_custom_errors_total", 2},
		{"promtail_custom_bytes_total", 25}, {"promtail_custom_last_duration", 0.05},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mfs, _ := reg.Gather()
			for _, mf := range mfs {
				if mf.GetName() == tc.name {
					m := mf.GetMetric()[0]
					v := m.GetCounter().GetValue() + m.GetGauge().GetValue()
					if v != tc.want {
						t.Fatalf("%s = %v, want %v", tc.name, v, tc.want)
					}
					return
				}
			}
			t.Fatalf("%s not exposed", tc.name)
		})
	}
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() == "promtail_custom_duration_seconds" {
			h := mf.GetMetric()[0].GetHistogram()
			if h.GetSampleCount() != 3 || h.GetBucket()[0].GetCumulativeCount() != 1 || h.GetBucket()[1].GetCumulativeCount() != 2 {
				t.Fatalf("histogram %v", h)
			}
			return
		}
	}
	t.Fatal("histogram not exposed")
}

func TestDropCounted(t *testing.T) {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "d"}, []string{"reason"})
	p := compile(t, `[{drop: {expression: x, drop_counter_reason: noisy}}, {json: {expressions: {a: ""}, drop_malformed: true}}]`, nil, c)
	run(p, []string{"x", "{bad", `{"a":1}`}, labels.EmptyLabels())
	if v := counterValue(c.WithLabelValues("noisy")); v != 1 {
		t.Fatalf("noisy %v", v)
	}
	if v := counterValue(c.WithLabelValues(ReasonMalformedJSON)); v != 1 {
		t.Fatalf("malformed %v", v)
	}
}

func TestInvalidStages(t *testing.T) {
	tests := []struct {
		src, want string
	}{
		{"- regex:\n    expresion: x\n", `line 2: pipeline_stages[0].regex: unknown key "expresion"`},
		{"- nosuch: {}\n", `line 1: pipeline_stages[0].nosuch: unknown stage "nosuch"`},
		{"- regex:\n    expression: '(?P<a>'\n", `line 2: pipeline_stages[0].regex.expression: error parsing regexp`},
		{"- timestamp: {source: t, format: RFC3339, action_on_failure: explode}\n", `pipeline_stages[0].timestamp.action_on_failure: must be fudge or skip`},
		{"- match:\n    selector: 'app=x'\n    stages: [{docker: {}}]\n", `pipeline_stages[0].match.selector: invalid selector`},
		{"- match:\n    selector: '{a=\"b\"}'\n    stages:\n      - labels: {\"bad-name\": \"\"}\n", `line 4: pipeline_stages[0].match.stages[0].labels: invalid label name "bad-name"`},
		{"- metrics: {m: {type: Summary}}\n", `type must be Counter, Gauge or Histogram`},
		{"- tenant: {label: a, value: b}\n", `exactly one of label, source and value`},
		{"- regex: {expression: x}\n  json: {}\n", `exactly one key`},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			var nodes []yaml.Node
			if err := yaml.Unmarshal([]byte(tc.src), &nodes); err != nil {
				t.Fatal(err)
			}
			_, err := New(nodes, "pipeline_stages", Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	_ = c.Write(&m)
	return m.GetCounter().GetValue()
}
