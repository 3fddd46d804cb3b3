package frontend

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lode-logs/lode/backend/stats"
)

// countProd counts the env="prod" entries with from <= ts < to.
func countProd(d *downstream, from, to int64) int {
	n := 0
	for _, e := range d.entries {
		if e.labels.Get("env") == "prod" && e.ts >= from && e.ts < to {
			n++
		}
	}
	return n
}

type queryCase struct {
	name       string
	params     url.Values
	minCalls   int64 // sub-queries the split query must have made at least
	categorize bool
}

func logCases(d *downstream) []queryCase {
	start, end := t0, t0.Add(6*time.Hour)
	five := t0.Add(5 * time.Hour).UnixNano()
	// Limits that end exactly at, or inside, ties: the three entries on the
	// 5h boundary, the bursts, and the first part's last entry.
	atBoundary := countProd(d, five, end.UnixNano())
	newerThanBurst := countProd(d, burstNew+1, end.UnixNano())
	olderThanBurst := countProd(d, start.UnixNano(), burstOld)
	all := countProd(d, start.UnixNano(), end.UnixNano())
	// Limits cutting inside ties in a later part, which the frontend must
	// ask again with the remaining limit.
	b2, b4 := t0.Add(2*time.Hour).UnixNano(), t0.Add(4*time.Hour).UnixNano()
	tieBackward := []int{countProd(d, b4, end.UnixNano()) - 1, countProd(d, burstOld+1, end.UnixNano()) + 5}
	tieForward := []int{countProd(d, start.UnixNano(), b2+1) - 1, countProd(d, start.UnixNano(), burstNew) + 5}
	type lq struct {
		query, dir string
		limits     []int
		minCalls   int64
	}
	qs := []lq{
		{`{env="prod"}`, "backward", []int{1, 7, 100, atBoundary - 2, atBoundary - 1, atBoundary, atBoundary + 1,
			newerThanBurst + 1, newerThanBurst + 13, newerThanBurst + 40, 1500, tieBackward[0], tieBackward[1], all - 1, all, 5000}, 1},
		{`{env="prod"}`, "forward", []int{1, 99, olderThanBurst, olderThanBurst + 1, olderThanBurst + 25, 2222, tieForward[0], tieForward[1], all, 5000}, 1},
		{`{app="api"}`, "backward", []int{100, 1000}, 1},
		{`{env="prod"} |= "status=500"`, "backward", []int{50, 400}, 1},
		{`{env="prod"} |~ "POST|DELETE" != "healthz"`, "forward", []int{300, 5000}, 1},
		{`{env="prod"} | logfmt | status >= 400 | line_format "{{.method}} {{.path}} {{.status}}"`, "backward", []int{200, 5000}, 1},
		{`{app="json"} | json | level="error" | keep app, level`, "forward", []int{20, 5000}, 1},
		{`{env=~"prod|dev"} | logfmt | drop pod, bytes`, "backward", []int{777, 5000}, 1},
	}
	var out []queryCase
	for _, q := range qs {
		for _, limit := range q.limits {
			out = append(out, queryCase{
				name: fmt.Sprintf("%s %s limit %d", q.query, q.dir, limit),
				params: url.Values{"query": {q.query}, "start": {ns(start)}, "end": {ns(end)},
					"limit": {fmt.Sprint(limit)}, "direction": {q.dir}},
				minCalls: q.minCalls,
			})
		}
	}
	if all < 2500 || all >= 5000 {
		panic(fmt.Sprintf("test data has %d prod entries, want 2500..4999", all))
	}
	// Odd bounds in seconds with a fraction, and a range ending mid-hour.
	out = append(out, queryCase{name: "odd bounds backward", minCalls: 5, params: url.Values{
		"query": {`{env="prod"}`}, "start": {"1709252233.123"}, "end": {"1709270000"}, "limit": {"5000"}}})
	out = append(out, queryCase{name: "categorized labels", minCalls: 6, categorize: true, params: url.Values{
		"query": {`{app="json"} | json | status >= 500`}, "start": {ns(start)}, "end": {ns(end)}, "limit": {"5000"}}})
	return out
}

func metricCases() []queryCase {
	start, end := ns(t0), ns(t0.Add(6*time.Hour))
	oddStart := "1709251033.5" // t0 + 17m13.5s
	qs := []struct {
		query, start, step string
	}{
		{`count_over_time({env="prod"}[5m])`, start, "60"},
		{`rate({app="api"}[1m])`, oddStart, "30s"},
		{`sum by (app) (count_over_time({env="prod"} |= "GET" [10m]))`, start, "5m"},
		{`topk(2, sum by (pod) (sum_over_time({env="prod"} | logfmt | unwrap bytes [15m])))`, oddStart, "10m"},
		{`quantile_over_time(0.9, {env="prod"} | logfmt | unwrap latency_ms [10m]) by (app)`, start, "2m"},
		{`sum(bytes_over_time({env="prod"}[1h]))`, start, ""},
		{`count_over_time({env="prod"}[2h])`, oddStart, "7m13s"},
		{`sum by (status) (count_over_time({env="prod"} | logfmt [30m] offset 10m))`, start, "90m"},
		{`avg_over_time({app="json"} | json | unwrap latency_ms [20m]) by (level)`, oddStart, "1m"},
		{`sum(rate({env="prod"}[5m])) / sum(rate({env="prod"}[5m] offset 1h))`, start, "15m"},
		{`max_over_time({env="prod"} | logfmt | unwrap bytes [1h]) by (pod) > 60000`, ns(t0.Add(3 * time.Hour)), "1500ms"},
		{`sum(count_over_time({env="prod"}[1m])) by (app) * 2`, "1709262000.25", "1s"}, // t0+3h20m0.25s
		{`vector(1) + count_over_time({app="db"}[10m])`, start, "20m"},
	}
	var out []queryCase
	for _, q := range qs {
		p := url.Values{"query": {q.query}, "start": {q.start}, "end": {end}}
		if q.step != "" {
			p.Set("step", q.step)
		}
		// At least one sub-query per hour of the range and per step.
		st, _ := parseTime(q.start, time.Time{})
		step, _ := parseStep(q.step, st, t0.Add(6*time.Hour))
		calls := min(int64(t0.Add(6*time.Hour).Sub(st)/time.Hour), int64(t0.Add(6*time.Hour).Sub(st)/step)+1)
		out = append(out, queryCase{name: q.query + " step " + q.step, params: p, minCalls: calls})
	}
	return out
}

// TestSplitEqualsUnsplit compares, for a table of queries, the answer of
// the split frontend with the downstream's own answer to the whole query:
// they must be byte-identical but for the stats.
func TestSplitEqualsUnsplit(t *testing.T) {
	d := sharedDownstream(t)
	whole := testFrontend(t, d.api, 0, 0)
	rec := newRecorder(d.api)
	split := testFrontend(t, rec, time.Hour, 0)
	for _, tc := range append(logCases(d), metricCases()...) {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			t.Run(method+" "+tc.name, func(t *testing.T) {
				build := func() *http.Request {
					r := rangeRequest(tc.params)
					if method == http.MethodPost {
						r = httptest.NewRequest(http.MethodPost, queryRangePath, strings.NewReader(tc.params.Encode()))
						r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
						r.Header.Set("X-Scope-OrgID", testTenant)
					}
					if tc.categorize {
						r.Header.Set("X-Loki-Response-Encoding-Flags", "categorize-labels")
					}
					return r
				}
				want := serve(whole, build())
				before := rec.calls.Load()
				got := serve(split, build())
				calls := rec.calls.Load() - before
				if want.status != http.StatusOK || got.status != http.StatusOK {
					t.Fatalf("status: whole %d %s, split %d %s", want.status, want.body, got.status, got.body)
				}
				if w, g := withoutStats(t, want.body), withoutStats(t, got.body); w != g {
					t.Fatalf("split answer differs (%d sub-queries): %s", calls, diffAnswers(want.body, got.body))
				}
				if calls < tc.minCalls {
					t.Fatalf("%d sub-queries, want at least %d", calls, tc.minCalls)
				}
				checkStats(t, got.body, calls)
			})
		}
	}
}

// checkStats decodes the stats of a split answer and checks the frontend's
// fields.
func checkStats(t *testing.T, body []byte, calls int64) {
	t.Helper()
	var r struct {
		Data struct {
			Stats stats.Result `json:"stats"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("decode answer: %v", err)
	}
	s := r.Data.Stats.Summary
	if s.Subqueries != calls || s.Splits < 2 || s.ExecTime <= 0 {
		t.Fatalf("summary: subqueries %d (want %d), splits %d, execTime %g", s.Subqueries, calls, s.Splits, s.ExecTime)
	}
	if calls > 0 && s.TotalLinesProcessed <= 0 {
		t.Fatalf("summary has no lines processed: %+v", s)
	}
}
