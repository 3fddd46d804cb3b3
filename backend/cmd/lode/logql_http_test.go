package main

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lode-logs/lode/backend/internal/testutil/lodetest"
	"github.com/lode-logs/lode/backend/push"
)

// pushLogQLData pushes the streams the LogQL HTTP tests read, relative to b:
//
//	{app="api", env="prod"}    logfmt lines at b+10s, b+20s, b+40s, b+70s
//	{app="web", env="prod"}    JSON lines at b+15s, b+45s, and "not json" at b+50s
//	{app="worker", env="batch"} plain lines at b+5s, b+65s
//	{app="many", env="load"}   501 logfmt lines n=0..500 at b+100s+n ms
func pushLogQLData(t *testing.T, p *lodetest.Process, b time.Time) {
	t.Helper()
	at := func(d time.Duration) int64 { return b.Add(d).UnixNano() }
	many := make([]push.Entry, 501)
	for i := range many {
		many[i] = push.Entry{Timestamp: at(100*time.Second + time.Duration(i)*time.Millisecond), Line: fmt.Appendf(nil, "n=%d", i)}
	}
	req := &push.Request{Streams: []push.Stream{
		{Labels: `{app="api", env="prod"}`, Entries: []push.Entry{
			{Timestamp: at(10 * time.Second), Line: []byte("level=info status=200 took=12ms")},
			{Timestamp: at(20 * time.Second), Line: []byte("level=error status=500 took=3ms")},
			{Timestamp: at(40 * time.Second), Line: []byte("level=info status=200 took=8ms")},
			{Timestamp: at(70 * time.Second), Line: []byte("level=warn status=404 took=1ms")},
		}},
		{Labels: `{app="web", env="prod"}`, Entries: []push.Entry{
			{Timestamp: at(15 * time.Second), Line: []byte(`{"status":200,"path":"/a"}`)},
			{Timestamp: at(45 * time.Second), Line: []byte(`{"status":503,"path":"/b"}`)},
			{Timestamp: at(50 * time.Second), Line: []byte("not json")},
		}},
		{Labels: `{app="worker", env="batch"}`, Entries: []push.Entry{
			{Timestamp: at(5 * time.Second), Line: []byte("job 1 started")},
			{Timestamp: at(65 * time.Second), Line: []byte("job 1 done")},
		}},
		{Labels: `{app="many", env="load"}`, Entries: many},
	}}
	if r, err := p.PushProto(req); err != nil || r.Status != http.StatusNoContent {
		t.Fatalf("push: %v %d %s", err, r.Status, r.Body)
	}
}

// secondsTimestamp is a sample time of a metric result: Unix seconds with
// up to millisecond decimals, as the first element of a JSON pair.
var secondsTimestamp = regexp.MustCompile(`\[(1[0-9]{9}(?:\.[0-9]{1,3})?),`)

// secondsToBase rewrites the sample times of a metric answer as offsets
// from b ("BASE+30s"), which golden leaves alone, so that golden files do
// not depend on the day the test runs.
func secondsToBase(body []byte, b time.Time) []byte {
	return secondsTimestamp.ReplaceAllFunc(body, func(m []byte) []byte {
		sec, err := strconv.ParseFloat(string(m[1:len(m)-1]), 64)
		if err != nil {
			return m
		}
		d := time.Duration(math.Round(sec*1000))*time.Millisecond - time.Duration(b.UnixMilli())*time.Millisecond
		return []byte(`["BASE+` + d.String() + `",`)
	})
}

// get runs a GET on path with params and returns the answer.
func get(t *testing.T, p *lodetest.Process, path string, params url.Values) lodetest.Response {
	t.Helper()
	r, err := p.Do(http.MethodGet, path+"?"+params.Encode(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// querySummary is the part of stats this file checks.
type querySummary struct {
	Data struct {
		Stats struct {
			Summary struct {
				TotalBytesProcessed int64 `json:"totalBytesProcessed"`
				TotalLinesProcessed int64 `json:"totalLinesProcessed"`
			} `json:"summary"`
			Querier struct {
				Store struct {
					TotalChunksRef int64 `json:"totalChunksRef"`
					Chunk          struct {
						DecompressedLines int64 `json:"decompressedLines"`
						DecompressedBytes int64 `json:"decompressedBytes"`
					} `json:"chunk"`
				} `json:"store"`
			} `json:"querier"`
			Ingester struct {
				Store struct {
					Chunk struct {
						HeadChunkLines int64 `json:"headChunkLines"`
						HeadChunkBytes int64 `json:"headChunkBytes"`
					} `json:"chunk"`
				} `json:"store"`
			} `json:"ingester"`
		} `json:"stats"`
	} `json:"data"`
}

func TestLogQLOverHTTP(t *testing.T) {
	// No results cache: the stats subtest reads the same old range before
	// and after a flush and checks where the lines came from.
	p := lodetest.Start(t, lodetest.Options{Args: []string{"-frontend.cache-mb=0"}})
	b := base()
	pushLogQLData(t, p, b)
	rng := func(v url.Values) url.Values {
		v.Set("start", ns(b))
		v.Set("end", ns(b.Add(2*time.Minute)))
		return v
	}

	t.Run("parse errors", func(t *testing.T) {
		tests := []struct{ query, want string }{
			{`{app="api"} |= `, "parse error at line 1, col 16: syntax error: unexpected $end, expecting STRING or ip"},
			{`{app="api"`, "parse error at line 1, col 11: syntax error: unexpected $end, expecting } or ,"},
			{`sum(count_over_time({app="api"}))`, "parse error at line 1, col 32: syntax error: unexpected ), expecting RANGE"},
			{"{app=\"api\"}\n| json | x > ", "parse error at line 2, col 14: syntax error: unexpected $end"},
			{`{}`, "parse error at line 1, col 1: queries require at least one regexp or equality matcher"},
		}
		for _, tt := range tests {
			t.Run(tt.query, func(t *testing.T) {
				for _, path := range []string{"/loki/api/v1/query_range", "/loki/api/v1/query"} {
					r := get(t, p, path, rng(url.Values{"query": {tt.query}}))
					if r.Status != http.StatusBadRequest || !strings.HasPrefix(string(r.Body), tt.want) {
						t.Fatalf("%s: got %d %q, want 400 starting with %q", path, r.Status, r.Body, tt.want)
					}
				}
			})
		}
	})

	t.Run("metric shapes", func(t *testing.T) {
		tests := []struct {
			name, path string
			params     url.Values
		}{
			{"logql_matrix.json", "/loki/api/v1/query_range", rng(url.Values{
				"query": {`sum by (env) (count_over_time({env=~"prod|batch"}[1m]))`}, "step": {"30s"}})},
			{"logql_matrix_unwrap.json", "/loki/api/v1/query_range", rng(url.Values{
				"query": {`max_over_time({app="api"} | logfmt | unwrap duration(took) [30s]) by (level)`}, "step": {"30"}})},
			{"logql_vector.json", "/loki/api/v1/query", url.Values{
				"query": {`sort_desc(sum by (app) (count_over_time({env="prod"}[2m])))`}, "time": {ns(b.Add(2 * time.Minute))}}},
			{"logql_vector_binary.json", "/loki/api/v1/query", url.Values{
				"query": {`sum(count_over_time({app="api"} |= "status=200" [2m])) / sum(count_over_time({app="api"}[2m]))`},
				"time":  {ns(b.Add(2 * time.Minute))}}},
			{"logql_scalar.json", "/loki/api/v1/query", url.Values{"query": {`2 * 3 + 1`}, "time": {ns(b.Add(time.Minute))}}},
			{"logql_scalar_range.json", "/loki/api/v1/query_range", rng(url.Values{"query": {`4 / 2`}, "step": {"1m"}})},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := get(t, p, tt.path, tt.params)
				if r.Status != http.StatusOK {
					t.Fatalf("%d %s", r.Status, r.Body)
				}
				golden(t, tt.name, secondsToBase(resultOnly(t, r.Body), b), b)
			})
		}
	})

	t.Run("pipeline error sets __error__", func(t *testing.T) {
		r := get(t, p, "/loki/api/v1/query_range", rng(url.Values{"query": {`{app="web"} | json`}, "direction": {"forward"}}))
		if r.Status != http.StatusOK {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		golden(t, "logql_json_error.json", resultOnly(t, r.Body), b)
		// Filtering the error out leaves the parsed lines only.
		r = get(t, p, "/loki/api/v1/query_range", rng(url.Values{"query": {`{app="web"} | json | __error__ = ""`}}))
		if r.Status != http.StatusOK || strings.Contains(string(r.Body), "not json") || !strings.Contains(string(r.Body), `"path":"/b"`) {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		// A metric query over lines carrying __error__ fails, as in Loki.
		r = get(t, p, "/loki/api/v1/query_range", rng(url.Values{"query": {`sum(count_over_time({app="web"} | json [1m]))`}}))
		if r.Status != http.StatusBadRequest || !strings.HasPrefix(string(r.Body), `pipeline error: 'JSONParserErr' for series: '{__error__="JSONParserErr"`) {
			t.Fatalf("metric query over __error__: %d %s", r.Status, r.Body)
		}
	})

	t.Run("label endpoints with queries", func(t *testing.T) {
		tests := []struct {
			name, path string
			params     url.Values
		}{
			{"logql_labels_query.json", "/loki/api/v1/labels", rng(url.Values{"query": {`{env="batch"}`}})},
			{"logql_labels_all.json", "/loki/api/v1/labels", rng(url.Values{})},
			{"logql_label_values_query.json", "/loki/api/v1/label/app/values", rng(url.Values{"query": {`{env="prod"}`}})},
			{"logql_label_values_regex.json", "/loki/api/v1/label/env/values", rng(url.Values{"query": {`{app=~"w.*"}`}})},
			{"logql_series_many.json", "/loki/api/v1/series", rng(url.Values{
				"match[]": {`{app="api"}`, `{env="batch"}`, `{app=~"api|web"}`}})},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := get(t, p, tt.path, tt.params)
				if r.Status != http.StatusOK {
					t.Fatalf("%d %s", r.Status, r.Body)
				}
				golden(t, tt.name, r.Body, b)
			})
		}
		r := get(t, p, "/loki/api/v1/series", rng(url.Values{}))
		if r.Status != http.StatusBadRequest {
			t.Fatalf("series without match[]: %d %s", r.Status, r.Body)
		}
		r = get(t, p, "/loki/api/v1/labels", rng(url.Values{"query": {`{app=`}}))
		if r.Status != http.StatusBadRequest || !strings.HasPrefix(string(r.Body), "parse error at line 1, col 6") {
			t.Fatalf("labels with a bad query: %d %s", r.Status, r.Body)
		}
	})

	t.Run("limits", func(t *testing.T) {
		tests := []struct {
			name   string
			path   string
			params url.Values
			want   string
		}{
			{"max entries", "/loki/api/v1/query_range", rng(url.Values{"query": {`{app="api"}`}, "limit": {"5001"}}),
				"max entries limit per query exceeded, limit > max_entries_limit_per_query (5001 > 5000)"},
			{"max series of a range query", "/loki/api/v1/query_range", rng(url.Values{"query": {`sum by (n) (count_over_time({app="many"} | logfmt [1m]))`}}),
				"maximum number of series reached for a single query (max_query_series: 500)"},
			{"max series of an instant query", "/loki/api/v1/query", url.Values{"query": {`count_over_time({app="many"} | logfmt [5m])`}, "time": {ns(b.Add(2 * time.Minute))}},
				"maximum number of series reached for a single query (max_query_series: 500)"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := get(t, p, tt.path, tt.params)
				if r.Status != http.StatusBadRequest || strings.TrimSpace(string(r.Body)) != tt.want {
					t.Fatalf("got %d %q, want 400 %q", r.Status, r.Body, tt.want)
				}
			})
		}
		// 500 series are within the limit.
		r := get(t, p, "/loki/api/v1/query", url.Values{"query": {`count_over_time({app="many"} | logfmt | n < 500 [5m])`}, "time": {ns(b.Add(2 * time.Minute))}})
		if r.Status != http.StatusOK || strings.Count(string(r.Body), `"metric"`) != 500 {
			t.Fatalf("500 series: %d %.300s", r.Status, r.Body)
		}
	})

	// Runs last: it flushes the ingester to object storage.
	t.Run("stats from ingester and chunks", func(t *testing.T) {
		queries := []string{`{env=~"prod|batch"}`, `sum(count_over_time({env=~"prod|batch"}[1m]))`}
		summaries := func() []querySummary {
			var out []querySummary
			for _, q := range queries {
				r := get(t, p, "/loki/api/v1/query_range", rng(url.Values{"query": {q}}))
				var s querySummary
				if r.Status != http.StatusOK || json.Unmarshal(r.Body, &s) != nil {
					t.Fatalf("%s: %d %s", q, r.Status, r.Body)
				}
				out = append(out, s)
			}
			return out
		}
		for i, s := range summaries() {
			st := s.Data.Stats
			// 9 lines of the prod and batch streams, read from the ingester.
			if st.Summary.TotalLinesProcessed != 9 || st.Summary.TotalBytesProcessed == 0 ||
				st.Ingester.Store.Chunk.HeadChunkLines != 9 || st.Ingester.Store.Chunk.HeadChunkBytes == 0 {
				t.Errorf("%s before flush: %+v", queries[i], st)
			}
		}
		if r, err := p.Do(http.MethodPost, "/flush", nil, nil); err != nil || r.Status != http.StatusNoContent {
			t.Fatalf("flush: %v %d %s", err, r.Status, r.Body)
		}
		for i, s := range summaries() {
			st := s.Data.Stats
			if st.Summary.TotalLinesProcessed < 9 || st.Summary.TotalBytesProcessed == 0 ||
				st.Querier.Store.TotalChunksRef < 3 || st.Querier.Store.Chunk.DecompressedLines < 9 ||
				st.Querier.Store.Chunk.DecompressedBytes == 0 {
				t.Errorf("%s after flush: %+v", queries[i], st)
			}
		}
	})
}
