package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/engine/enginetest"
	"github.com/lode-logs/lode/backend/model"
	"github.com/lode-logs/lode/backend/stats"
)

var update = flag.Bool("update", false, "rewrite golden files")

// goldenQuerier holds a fixed data set for the JSON golden files.
func goldenQuerier(t testing.TB) *enginetest.Querier {
	q := enginetest.New()
	push := func(ls string, entries ...model.Entry) {
		if err := q.Push(testTenant, ls, entries...); err != nil {
			t.Fatal(err)
		}
	}
	ts := func(sec float64) int64 { return t0.Add(time.Duration(sec * float64(time.Second))).UnixNano() }
	push(`{app="api", env="prod"}`,
		model.Entry{Timestamp: ts(1), Line: []byte(`level=info msg="GET /users" status=200 duration=15ms`)},
		model.Entry{Timestamp: ts(2), Line: []byte(`level=error msg="GET /orders" status=500 duration=1.5s`)},
		model.Entry{Timestamp: ts(65), Line: []byte("bytes \xff\xfe <html> & \u2028 \t\x01 \"quoted\" \\ é")},
	)
	push(`{app="web", env="prod"}`,
		model.Entry{Timestamp: ts(30), Line: []byte(`{"level":"warn","path":"/index.html","latency_ms":12}`), Metadata: labels.FromStrings("trace_id", "t-1")},
	)
	return q
}

func TestResultJSONGolden(t *testing.T) {
	tests := []struct {
		name string
		p    Params
	}{
		{"streams", Params{Query: `{env="prod"}`, Start: t0, End: t0.Add(2 * time.Minute)}},
		{"streams_forward_filtered", Params{Query: `{app="api"} |= "GET"`, Start: t0, End: t0.Add(2 * time.Minute), Direction: model.Forward}},
		{"streams_logfmt_labels", Params{Query: `{app="api"} | logfmt | status >= 500`, Start: t0, End: t0.Add(2 * time.Minute)}},
		{"streams_categorized", Params{Query: `{env="prod"} | json | __error__=""`, Start: t0, End: t0.Add(2 * time.Minute), CategorizeLabels: true}},
		{"streams_empty", Params{Query: `{app="none"}`, Start: t0, End: t0.Add(time.Minute)}},
		{"matrix", Params{Query: `count_over_time({env="prod"}[1m])`, Start: t0, End: t0.Add(2 * time.Minute), Step: time.Minute}},
		{"matrix_rate_fraction", Params{Query: `sum by (app) (rate({env="prod"}[1m]))`, Start: t0.Add(1500 * time.Millisecond), End: t0.Add(2 * time.Minute), Step: 30 * time.Second}},
		{"matrix_empty", Params{Query: `count_over_time({app="none"}[1m])`, Start: t0, End: t0.Add(time.Minute), Step: time.Minute}},
		{"vector", Params{Query: `sum by (app) (count_over_time({env="prod"}[5m]))`, End: t0.Add(2 * time.Minute), Instant: true}},
		{"vector_special_values", Params{Query: `sum(count_over_time({env="prod"}[5m])) / 0 or label_replace(vector(2) ^ 1024, "x", "inf", "", "")`, End: t0.Add(2 * time.Minute), Instant: true}},
		{"scalar", Params{Query: `1 + 2.5`, End: t0.Add(90 * time.Second), Instant: true}},
	}
	eng := New(goldenQuerier(t), Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.p.Tenant = testTenant
			res, err := eng.Query(context.Background(), tt.p)
			if err != nil {
				t.Fatal(err)
			}
			res.Stats = stats.Result{} // times vary; the stats shape has its own golden file
			got := res.AppendJSON(nil)
			if !json.Valid(got) {
				t.Fatalf("invalid JSON: %s", got)
			}
			path := filepath.Join("testdata", "golden", tt.name+".json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(bytes.TrimSpace(want), got) {
				t.Fatalf("JSON differs from %s\n got: %s\nwant: %s", path, got, want)
			}
		})
	}
}

func TestAppendJSONString(t *testing.T) {
	tests := []struct {
		name, in string
		html     bool
		want     string
	}{
		{"plain", "abc", true, `"abc"`},
		{"quotes and backslash", `a"b\c`, true, `"a\"b\\c"`},
		{"control", "a\nb\r\tc\x00\x1f", true, `"a\nb\r\tc\u0000\u001f"`},
		{"html escaped in lines", "<a>&", true, `"\u003ca\u003e\u0026"`},
		{"html kept in labels", "<a>&", false, `"<a>&"`},
		{"invalid utf8 replaced in lines", "a\xffb", true, `"a\ufffdb"`},
		{"invalid utf8 passed in labels", "a\xffb", false, "\"a\xffb\""},
		{"line separators", "a\u2028b\u2029", true, `"a\u2028b\u2029"`},
		{"multibyte", "é日本", true, `"é日本"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(appendJSONString(nil, []byte(tt.in), tt.html)); got != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestAppendPoint(t *testing.T) {
	tests := []struct {
		t    int64
		v    float64
		want string
	}{
		{1700000000 * 1e9, 1, `[1700000000,"1"]`},
		{1700000000*1e9 + 500*1e6, 0.25, `[1700000000.5,"0.25"]`},
		{1700000000*1e9 + 123456789, 1e21, `[1700000000.123,"1000000000000000000000"]`},
		{0, -2.5, `[0,"-2.5"]`},
	}
	for _, tt := range tests {
		if got := string(appendPoint(nil, tt.t, tt.v)); got != tt.want {
			t.Errorf("appendPoint(%d, %v) = %s, want %s", tt.t, tt.v, got, tt.want)
		}
	}
}

func TestResultEmptyLabelsJSON(t *testing.T) {
	r := &Result{Type: TypeVector, Vector: []Sample{{Metric: labels.EmptyLabels(), T: 0, V: 1}}}
	want := `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[0,"1"]}],"stats":`
	if got := string(r.AppendJSON(nil)); !bytes.HasPrefix([]byte(got), []byte(want)) {
		t.Fatalf("got %s", got)
	}
}
