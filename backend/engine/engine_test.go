package engine

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lode-logs/lode/backend/engine/enginetest"
	"github.com/lode-logs/lode/backend/logql"
	"github.com/lode-logs/lode/backend/model"
	"github.com/lode-logs/lode/backend/stats"
)

func newTestEngine(t *testing.T, opts Options) (*Engine, *enginetest.Querier) {
	t.Helper()
	q := newTestStore(t)
	return New(q, opts), q
}

// newMergedTestEngine reads the store of newTestEngine through SelectLogs
// only, as storage without the optional abilities.
func newMergedTestEngine(t *testing.T, opts Options) (*Engine, *enginetest.Querier) {
	t.Helper()
	q := newTestStore(t)
	return New(logsOnly{q}, opts), q
}

func newTestStore(t *testing.T) *enginetest.Querier {
	t.Helper()
	q := enginetest.New()
	for i, ls := range []string{`{app="a", pod="1"}`, `{app="a", pod="2"}`, `{app="b", pod="3"}`} {
		var es []model.Entry
		for s := 0; s < 10; s++ {
			es = append(es, model.Entry{Timestamp: t0.Add(time.Duration(s) * time.Second).UnixNano(), Line: []byte("line error " + strings.Repeat("x", i))})
		}
		if err := q.Push(testTenant, ls, es...); err != nil {
			t.Fatal(err)
		}
	}
	return q
}

func TestSelectHints(t *testing.T) {
	tests := []struct {
		name      string
		query     string
		instant   bool
		needles   []string
		tsOnly    bool
		limit     int
		direction model.Direction
	}{
		{name: "log query pushes the limit down", query: `{app="a"}`, limit: 100},
		{name: "filters keep the limit in the engine", query: `{app="a"} |= "error" != "debug"`, needles: []string{"error"}},
		{name: "contains filters until the line is rewritten are needles", query: `{app="a"} |= "a" |~ "b.c" |= "c" or "d" |~ "(?i)x" | json |= "e" | line_format "x" |= "f"`, needles: []string{"a", "e"}},
		{name: "literal regexps are needles", query: `{app="a"} |~ "error" |~ ".*time out.*"`, needles: []string{"error", "time out"}},
		{name: "line_format does not drop lines", query: `{app="a"} | line_format "x"`, limit: 100},
		{name: "count over a bare selector needs timestamps and metadata only", query: `count_over_time({app="a"}[1m])`, instant: true, tsOnly: true, direction: model.Forward},
		{name: "sum of counts needs timestamps only", query: `sum(count_over_time({app="a"}[1m]))`, instant: true, tsOnly: true, direction: model.Forward},
		{name: "sum by () of rates needs timestamps only", query: `sum by () (rate({app="a"}[1m]))`, instant: true, tsOnly: true, direction: model.Forward},
		{name: "sum by labels may group by metadata, which timestamps-only reads keep", query: `sum by (app) (rate({app="a"}[1m]))`, instant: true, tsOnly: true, direction: model.Forward},
		{name: "rate with a filter needs lines", query: `rate({app="a"} |= "error" [1m])`, instant: true, needles: []string{"error"}, direction: model.Forward},
		{name: "bytes need lines", query: `bytes_over_time({app="a"}[1m])`, instant: true, direction: model.Forward},
		{name: "absent needs timestamps only", query: `absent_over_time({app="a"}[1m])`, instant: true, tsOnly: true, direction: model.Forward},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng, q := newMergedTestEngine(t, Options{})
			_, err := eng.Query(context.Background(), Params{Tenant: testTenant, Query: tt.query, Start: t0, End: t0.Add(time.Minute), Limit: 100, Instant: tt.instant})
			if err != nil {
				t.Fatal(err)
			}
			if len(q.Selects) != 1 {
				t.Fatalf("%d selects", len(q.Selects))
			}
			sel := q.Selects[0]
			var got []string
			for _, n := range sel.Needles {
				got = append(got, string(n))
			}
			if strings.Join(got, ",") != strings.Join(tt.needles, ",") || sel.TimestampsOnly != tt.tsOnly || sel.Limit != tt.limit || sel.Direction != tt.direction {
				t.Fatalf("select = needles %q tsOnly %v limit %d dir %v", got, sel.TimestampsOnly, sel.Limit, sel.Direction)
			}
		})
	}
}

func TestMetricSelectBounds(t *testing.T) {
	eng, q := newMergedTestEngine(t, Options{})
	start, end := t0.Add(10*time.Minute), t0.Add(20*time.Minute)
	_, err := eng.Query(context.Background(), Params{Tenant: testTenant, Query: `count_over_time({app="a"}[5m] offset 1m)`, Start: start, End: end, Step: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	sel := q.Selects[0]
	// Windows (t-6m, t-1m] for t in [start, end]: read (start-6m, end-1m].
	if want := start.Add(-6*time.Minute).UnixNano() + 1; sel.Start != want {
		t.Errorf("start = %d, want %d", sel.Start, want)
	}
	if want := end.Add(-time.Minute).UnixNano() + 1; sel.End != want {
		t.Errorf("end = %d, want %d", sel.End, want)
	}
}

func TestLimits(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		p    Params
		want error
	}{
		{"max entries", Options{MaxEntriesLimitPerQuery: 10}, Params{Query: `{app="a"}`, Limit: 11}, ErrMaxEntriesLimit},
		{"max series", Options{MaxQuerySeries: 2}, Params{Query: `count_over_time({app=~".+"}[1m])`, Step: time.Second}, ErrMaxSeries},
		{"max series instant", Options{MaxQuerySeries: 2}, Params{Query: `count_over_time({app=~".+"}[1m])`, Instant: true}, ErrMaxSeries},
		{"max query range", Options{MaxQueryRange: 30 * time.Second}, Params{Query: `{app="a"}`}, ErrMaxQueryRange},
		{"too many points", Options{}, Params{Query: `count_over_time({app="a"}[1m])`, Step: time.Millisecond}, ErrInvalidParams},
		{"negative limit", Options{}, Params{Query: `{app="a"}`, Limit: -1}, ErrInvalidParams},
		{"pipeline error", Options{}, Params{Query: `count_over_time({app="a"} | json [1m])`, Step: time.Second}, ErrPipeline},
		{"instant log query", Options{}, Params{Query: `{app="a"}`, Instant: true}, ErrLogQueryInstant},
		{"tenant max series", Options{}, Params{Query: `count_over_time({app=~".+"}[1m])`, Instant: true, Limits: Limits{MaxQuerySeries: 1}}, ErrMaxSeries},
		{"tenant max entries", Options{}, Params{Query: `{app="a"}`, Limit: 101, Limits: Limits{MaxEntriesLimitPerQuery: 100}}, ErrMaxEntriesLimit},
		{"tenant max query range", Options{}, Params{Query: `{app="a"}`, Limits: Limits{MaxQueryRange: time.Second}}, ErrMaxQueryRange},
		// Loki: "entry limit does not apply to metric queries".
		{"max entries ignored by metric queries", Options{}, Params{Query: `count_over_time({app="a"}[1m])`, Limit: 101, Limits: Limits{MaxEntriesLimitPerQuery: 100}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng, _ := newTestEngine(t, tt.opts)
			tt.p.Tenant, tt.p.Start, tt.p.End = testTenant, t0, t0.Add(time.Minute)
			_, err := eng.Query(context.Background(), tt.p)
			if tt.want == nil && err != nil {
				t.Fatalf("err = %v, want none", err)
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestLimitMessagesNameTheLimit(t *testing.T) {
	eng, _ := newTestEngine(t, Options{MaxEntriesLimitPerQuery: 10, MaxQuerySeries: 1})
	_, err := eng.Query(context.Background(), Params{Tenant: testTenant, Query: `{app="a"}`, Start: t0, End: t0.Add(time.Minute), Limit: 20})
	if err == nil || !strings.Contains(err.Error(), "max_entries_limit_per_query (20 > 10)") {
		t.Fatalf("err = %v", err)
	}
	_, err = eng.Query(context.Background(), Params{Tenant: testTenant, Query: `count_over_time({app=~".+"}[1m])`, Start: t0, End: t0.Add(time.Minute), Instant: true})
	if err == nil || !strings.Contains(err.Error(), "(max_query_series: 1)") {
		t.Fatalf("err = %v", err)
	}
	eng, _ = newTestEngine(t, Options{MaxQueryRange: time.Minute})
	_, err = eng.Query(context.Background(), Params{Tenant: testTenant, Query: `{app="a"}`, Start: t0, End: t0.Add(time.Hour)})
	if err == nil || err.Error() != "the query time range exceeds the limit (query length: 1h0m0s, max_query_length: 1m0s)" {
		t.Fatalf("err = %v", err)
	}
}

func TestInstantLogQueryWithLookback(t *testing.T) {
	eng, _ := newTestEngine(t, Options{LookbackDelta: 3 * time.Second})
	res, err := eng.Query(context.Background(), Params{Tenant: testTenant, Query: `{pod="1"}`, End: t0.Add(5 * time.Second), Instant: true})
	if err != nil {
		t.Fatal(err)
	}
	// (t-3s, t]: entries at 3s, 4s and 5s.
	if len(res.Streams) != 1 || len(res.Streams[0].Entries) != 3 || res.Streams[0].Entries[0].Timestamp != t0.Add(5*time.Second).UnixNano() {
		t.Fatalf("got %s", res.AppendJSON(nil))
	}
}

func TestStatsFilled(t *testing.T) {
	eng, _ := newTestEngine(t, Options{})
	st, ctx := stats.NewContext(context.Background())
	res, err := eng.Query(ctx, Params{Tenant: testTenant, Query: `{app="a"} |= "x"`, Start: t0, End: t0.Add(time.Minute), Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	if st == nil || res.Stats.Summary.TotalEntriesReturned != 5 || res.Stats.Summary.TotalPostFilterLines != 5 {
		t.Fatalf("summary = %+v", res.Stats.Summary)
	}
	if res.Stats.Summary.TotalLinesProcessed == 0 || res.Stats.Summary.TotalBytesProcessed == 0 || res.Stats.Summary.ExecTime <= 0 {
		t.Fatalf("summary = %+v", res.Stats.Summary)
	}
}

func TestContextCancelled(t *testing.T) {
	eng, _ := newTestEngine(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := eng.Query(ctx, Params{Tenant: testTenant, Query: `{app="a"}`, Start: t0, End: t0.Add(time.Minute)})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

func TestDefaultStep(t *testing.T) {
	tests := []struct {
		rng  time.Duration
		want time.Duration
	}{
		{time.Minute, time.Second},
		{time.Hour, 14 * time.Second},
		{24 * time.Hour, 345 * time.Second},
		{0, time.Second},
	}
	for _, tt := range tests {
		if got := DefaultStep(t0, t0.Add(tt.rng)); got != tt.want {
			t.Errorf("DefaultStep(%v) = %v, want %v", tt.rng, got, tt.want)
		}
	}
}

func TestSubstituteIntervals(t *testing.T) {
	tests := []struct {
		in, want string
		iv, rng  time.Duration
	}{
		{`rate({a="b"}[$__interval])`, `rate({a="b"}[15s])`, 15 * time.Second, time.Hour},
		{`rate({a="b"}[$__auto])`, `rate({a="b"}[1500ms])`, 1500 * time.Millisecond, time.Hour},
		{`count_over_time({a="b"}[$__range]) / $__range_s`, `count_over_time({a="b"}[3600s]) / 3600`, time.Second, time.Hour},
		{`x $__interval_ms $__range_ms`, `x 2000 60000`, 2 * time.Second, time.Minute},
		{`{a="b"}`, `{a="b"}`, time.Second, time.Minute},
	}
	for _, tt := range tests {
		if got := SubstituteIntervals(tt.in, tt.iv, tt.rng); got != tt.want {
			t.Errorf("SubstituteIntervals(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestStepTimes(t *testing.T) {
	p := Params{Start: t0, End: t0.Add(10 * time.Second), Step: 3 * time.Second}
	got := stepTimes(p)
	if len(got) != 4 || got[3] != t0.Add(9*time.Second).UnixNano() {
		t.Fatalf("steps = %v", got)
	}
}

func TestTemplateFuncsCoverParser(t *testing.T) {
	funcs := templateFuncs()
	for _, name := range logql.TemplateFuncNames() {
		if name == "__line__" || name == "__timestamp__" {
			continue
		}
		if _, ok := funcs[name]; !ok {
			t.Errorf("template function %q accepted by the parser is missing", name)
		}
	}
}
