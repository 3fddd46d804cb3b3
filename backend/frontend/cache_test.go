package frontend

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/lode-logs/lode/backend/stats"
)

// metricValue reads a counter or gauge.
func metricValue(t *testing.T, m prometheus.Metric) float64 {
	t.Helper()
	var out dto.Metric
	if err := m.Write(&out); err != nil {
		t.Fatal(err)
	}
	if out.Counter != nil {
		return out.Counter.GetValue()
	}
	return out.Gauge.GetValue()
}

func resultCacheStats(t *testing.T, body []byte) stats.Cache {
	t.Helper()
	var r struct {
		Data struct {
			Stats stats.Result `json:"stats"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatal(err)
	}
	return r.Data.Stats.Caches.Result
}

func TestCacheHitOnRepeatedOldQuery(t *testing.T) {
	d := sharedDownstream(t)
	start, end := ns(t0), ns(t0.Add(6*time.Hour))
	tests := []struct {
		name   string
		params url.Values
		parts  int
	}{
		{"metric", url.Values{"query": {`sum by (app) (rate({env="prod"}[5m]))`}, "start": {start}, "end": {end}, "step": {"60"}}, 7},
		{"logs", url.Values{"query": {`{env="prod"} |= "GET"`}, "start": {start}, "end": {end}, "limit": {"5000"}}, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder(d.api)
			f := testFrontend(t, rec, time.Hour, 64)
			first := serve(f, rangeRequest(tt.params))
			if first.status != http.StatusOK || rec.calls.Load() != int64(tt.parts) {
				t.Fatalf("first run: status %d, %d sub-queries, want %d", first.status, rec.calls.Load(), tt.parts)
			}
			if c := resultCacheStats(t, first.body); c.EntriesRequested != int32(tt.parts) || c.EntriesFound != 0 || c.EntriesStored != int32(tt.parts) {
				t.Fatalf("first run cache stats: %+v", c)
			}
			second := serve(f, rangeRequest(tt.params))
			if n := rec.calls.Load(); n != int64(tt.parts) {
				t.Fatalf("second run made %d sub-queries, want none", n-int64(tt.parts))
			}
			if withoutStats(t, first.body) != withoutStats(t, second.body) {
				t.Fatal("cached answer differs")
			}
			if c := resultCacheStats(t, second.body); c.EntriesFound != int32(tt.parts) || c.BytesReceived <= 0 {
				t.Fatalf("second run cache stats: %+v", c)
			}
			if got := metricValue(t, f.m.cacheHits); got != float64(tt.parts) {
				t.Fatalf("cache hits metric %g, want %d", got, tt.parts)
			}
			if got := metricValue(t, f.m.cacheMisses); got != float64(tt.parts) {
				t.Fatalf("cache misses metric %g, want %d", got, tt.parts)
			}
			if metricValue(t, f.m.cacheBytes) <= 0 || metricValue(t, f.m.cacheEntries) != float64(tt.parts) {
				t.Fatal("cache size gauges not set")
			}
			// Another tenant, a new query: the cache is keyed by both.
			other := rangeRequest(tt.params)
			other.Header.Set("X-Scope-OrgID", "team-b")
			serve(f, other)
			if n := rec.calls.Load(); n != int64(2*tt.parts) {
				t.Fatalf("%d sub-queries after another tenant's query, want %d", n, 2*tt.parts)
			}
			changed := url.Values{}
			for k, v := range tt.params {
				changed[k] = v
			}
			if tt.name == "metric" {
				changed.Set("step", "120")
			} else {
				changed.Set("query", tt.params.Get("query")+` != "nothing"`)
			}
			serve(f, rangeRequest(changed))
			if n := rec.calls.Load(); n != int64(3*tt.parts) {
				t.Fatalf("%d sub-queries after a changed query, want %d", n, 3*tt.parts)
			}
		})
	}
}

// TestCacheFreshness runs queries ending at "now": parts ending within the
// freshness window are asked again every time.
func TestCacheFreshness(t *testing.T) {
	d := sharedDownstream(t)
	start, end := ns(t0), ns(t0.Add(6*time.Hour))
	tests := []struct {
		name       string
		params     url.Values
		parts      int
		freshParts int // parts ending after now - 10m
	}{
		// Steps 0..5h59m in six parts and 6h alone: the last two end
		// after 5h55m.
		{"metric", url.Values{"query": {`count_over_time({env="prod"}[5m])`}, "start": {start}, "end": {end}, "step": {"60"}}, 7, 2},
		// [5h, 6h) ends after 5h55m.
		{"logs", url.Values{"query": {`{env="prod"}`}, "start": {start}, "end": {end}, "limit": {"5000"}, "direction": {"forward"}}, 6, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder(d.api)
			f := testFrontend(t, rec, time.Hour, 64)
			f.now = func() time.Time { return t0.Add(6*time.Hour + 5*time.Minute) }
			want := serve(testFrontend(t, d.api, 0, 0), rangeRequest(tt.params))
			for run := range 3 {
				before := rec.calls.Load()
				got := serve(f, rangeRequest(tt.params))
				calls := rec.calls.Load() - before
				wantCalls := int64(tt.parts)
				if run > 0 {
					wantCalls = int64(tt.freshParts)
				}
				if calls != wantCalls {
					t.Fatalf("run %d: %d sub-queries, want %d", run, calls, wantCalls)
				}
				if withoutStats(t, got.body) != withoutStats(t, want.body) {
					t.Fatalf("run %d: answer differs from the unsplit one", run)
				}
			}
		})
	}
}

// TestSinglePart: a range inside one interval goes downstream unchanged
// unless its part can be cached.
func TestSinglePart(t *testing.T) {
	d := sharedDownstream(t)
	rec := newRecorder(d.api)
	f := testFrontend(t, rec, time.Hour, 64)
	p := url.Values{"query": {`{app="db"}`}, "start": {ns(t0.Add(10 * time.Minute))}, "end": {ns(t0.Add(50 * time.Minute))}}
	f.now = func() time.Time { return t0.Add(55 * time.Minute) } // recent: not cacheable
	serve(f, rangeRequest(p))
	if metricValue(t, f.m.passthrough) != 1 || metricValue(t, f.m.splitQueries) != 0 {
		t.Fatal("a recent single-part query was not passed through")
	}
	f.now = func() time.Time { return t0.Add(24 * time.Hour) }
	serve(f, rangeRequest(p))
	serve(f, rangeRequest(p))
	if metricValue(t, f.m.splitQueries) != 2 || metricValue(t, f.m.cacheHits) != 1 || rec.calls.Load() != 2 {
		t.Fatalf("an old single-part query was not cached: %d sub-queries", rec.calls.Load())
	}
}

func TestResultCacheLRU(t *testing.T) {
	m, _ := newMetrics(nil)
	body := func(n int) []byte { return make([]byte, n) }
	// Room for three entries of 100 bytes and 1-byte keys.
	c := newResultCache(3*(100+1+entryOverhead), m)
	c.put("a", body(100))
	c.put("b", body(100))
	c.put("c", body(100))
	if _, ok := c.get("a"); !ok { // a is now the most recent
		t.Fatal("a missing")
	}
	c.put("d", body(100)) // evicts b, the least recently used
	for k, want := range map[string]bool{"a": true, "b": false, "c": true, "d": true} {
		if _, ok := c.get(k); ok != want {
			t.Fatalf("get(%s) = %v, want %v", k, ok, want)
		}
	}
	c.put("c", body(10)) // replacing shrinks
	if c.used != 2*(100+1+entryOverhead)+(10+1+entryOverhead) {
		t.Fatalf("used %d after replace", c.used)
	}
	if c.put("huge", body(int(c.max))) {
		t.Fatal("an entry larger than the cache was stored")
	}
	if metricValue(t, m.cacheEvictions) != 1 || metricValue(t, m.cacheEntries) != 3 {
		t.Fatalf("evictions %g, entries %g", metricValue(t, m.cacheEvictions), metricValue(t, m.cacheEntries))
	}
}
