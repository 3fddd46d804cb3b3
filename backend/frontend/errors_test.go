package frontend

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestErrorsEqualUnsplit: requests the downstream refuses get the same
// answer through the split frontend (passed through, or from a part).
func TestErrorsEqualUnsplit(t *testing.T) {
	d := sharedDownstream(t)
	whole := testFrontend(t, d.api, 0, 0)
	split := testFrontend(t, d.api, time.Hour, 0)
	start, end := ns(t0), ns(t0.Add(6*time.Hour))
	tests := []struct {
		name   string
		tenant string
		params url.Values
		status int
	}{
		{"limit over max entries", testTenant, url.Values{"query": {`{env="prod"}`}, "start": {start}, "end": {end}, "limit": {"5001"}}, 400},
		{"parse error", testTenant, url.Values{"query": {`{env="prod"`}, "start": {start}, "end": {end}}, 400},
		{"too many steps", testTenant, url.Values{"query": {`count_over_time({env="prod"}[1m])`}, "start": {start}, "end": {end}, "step": {"1"}}, 400},
		{"end before start", testTenant, url.Values{"query": {`{env="prod"}`}, "start": {end}, "end": {start}}, 400},
		{"bad direction", testTenant, url.Values{"query": {`{env="prod"}`}, "start": {start}, "end": {end}, "direction": {"up"}}, 400},
		{"negative step", testTenant, url.Values{"query": {`rate({env="prod"}[1m])`}, "start": {start}, "end": {end}, "step": {"-5"}}, 400},
		{"no tenant", "", url.Values{"query": {`{env="prod"}`}, "start": {start}, "end": {end}}, 401},
		{"tenant max query length", smallTenant, url.Values{"query": {`{env="prod"}`}, "start": {start}, "end": {end}}, 400},
		{"tenant max series over the merged matrix", smallTenant, url.Values{
			"query": {`count_over_time({env="prod"}[10m])`}, "start": {ns(t0.Add(time.Hour))}, "end": {ns(t0.Add(3 * time.Hour))}, "step": {"60"}}, 400},
		{"log query with interval", testTenant, url.Values{"query": {`{env="prod"}`}, "start": {start}, "end": {end}, "interval": {"1m"}}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := func() *http.Request {
				r := rangeRequest(tt.params)
				r.Header.Del("X-Scope-OrgID")
				if tt.tenant != "" {
					r.Header.Set("X-Scope-OrgID", tt.tenant)
				}
				return r
			}
			want, got := serve(whole, req()), serve(split, req())
			if want.status != tt.status {
				t.Fatalf("whole query: %d %s, want status %d", want.status, want.body, tt.status)
			}
			if got.status != want.status || comparable(t, got) != comparable(t, want) {
				t.Fatalf("split: %d %.300q\nwhole: %d %.300q", got.status, got.body, want.status, want.body)
			}
			if ct := got.header.Get("Content-Type"); ct != want.header.Get("Content-Type") {
				t.Fatalf("content type %q, want %q", ct, want.header.Get("Content-Type"))
			}
		})
	}
}

// comparable is an answer's body, without stats when it is a query result.
func comparable(t *testing.T, r response) string {
	if r.status == http.StatusOK && strings.Contains(string(r.body), `,"stats":`) {
		return withoutStats(t, r.body)
	}
	return string(r.body)
}

// TestPartErrorCancelsOthers: a failing part's answer is the query's
// answer, and parts still running are canceled.
func TestPartErrorCancelsOthers(t *testing.T) {
	d := sharedDownstream(t)
	tests := []struct {
		name   string
		params url.Values
		// failAt and blockAt are the start of the part that fails and of
		// one that blocks until canceled (0: none).
		failAt, blockAt time.Duration
	}{
		{"metric", url.Values{"query": {`count_over_time({env="prod"}[5m])`}, "step": {"60"}}, 2 * time.Hour, 4 * time.Hour},
		{"logs backward first part", url.Values{"query": {`{env="prod"}`}, "limit": {"5000"}}, 5 * time.Hour, 0},
		{"logs forward later part", url.Values{"query": {`{env="prod"}`}, "limit": {"5000"}, "direction": {"forward"}}, 3 * time.Hour, 4 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder(d.api)
			var canceled atomic.Bool
			arrived := make(chan struct{})
			rec.hook = func(w http.ResponseWriter, r *http.Request) bool {
				start, _ := parseTime(r.URL.Query().Get("start"), time.Time{})
				switch start.Sub(t0) {
				case tt.failAt:
					if tt.blockAt != 0 {
						select { // fail only once the other part is running
						case <-arrived:
						case <-time.After(10 * time.Second):
						}
					}
					w.Header().Set("Content-Type", "text/plain; charset=utf-8")
					w.WriteHeader(http.StatusServiceUnavailable)
					_, _ = w.Write([]byte("part failed: boom\n"))
					return true
				case tt.blockAt:
					if tt.blockAt == 0 {
						return false
					}
					close(arrived)
					select {
					case <-r.Context().Done():
						canceled.Store(true)
					case <-time.After(10 * time.Second):
					}
					http.Error(w, "canceled", 499)
					return true
				}
				return false
			}
			f := testFrontend(t, rec, time.Hour, 0)
			p := url.Values{"start": {ns(t0)}, "end": {ns(t0.Add(6 * time.Hour))}}
			for k, v := range tt.params {
				p[k] = v
			}
			got := serve(f, rangeRequest(p))
			if got.status != http.StatusServiceUnavailable || string(got.body) != "part failed: boom\n" {
				t.Fatalf("got %d %q", got.status, got.body)
			}
			if tt.blockAt != 0 && !canceled.Load() {
				t.Fatal("the blocked part was not canceled")
			}
		})
	}
}

// TestClientGone: a query whose client went away stops and answers 499.
func TestClientGone(t *testing.T) {
	d := sharedDownstream(t)
	f := testFrontend(t, d.api, time.Hour, 0)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p := url.Values{"query": {`count_over_time({env="prod"}[5m])`}, "start": {ns(t0)}, "end": {ns(t0.Add(6 * time.Hour))}}
	got := serve(f, rangeRequest(p).WithContext(ctx))
	if got.status != 499 {
		t.Fatalf("got %d %s, want 499", got.status, got.body)
	}
}

// TestTenantForwarded: every sub-query carries the request's tenant, and
// so do requests passed through.
func TestTenantForwarded(t *testing.T) {
	d := sharedDownstream(t)
	rec := newRecorder(d.api)
	f := testFrontend(t, rec, time.Hour, 64)
	p := url.Values{"query": {`sum(count_over_time({env="prod"}[5m]))`}, "start": {ns(t0)}, "end": {ns(t0.Add(6 * time.Hour))}, "step": {"300"}}
	r := rangeRequest(p)
	r.Header.Set("X-Scope-OrgID", "team-b")
	got := serve(f, r)
	if got.status != http.StatusOK || !strings.Contains(string(got.body), `"result":[]`) {
		t.Fatalf("team-b has no data, got %d %.200s", got.status, got.body)
	}
	labels := httptest.NewRequest(http.MethodGet, "/loki/api/v1/labels?"+url.Values{"start": {ns(t0)}, "end": {ns(t0.Add(time.Hour))}}.Encode(), nil)
	labels.Header.Set("X-Scope-OrgID", "team-b")
	serve(f, labels)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if n := rec.tenants[queryRangePath+" team-b"]; n != 7 || len(rec.tenants) != 2 || rec.tenants["/loki/api/v1/labels team-b"] != 1 {
		t.Fatalf("requests by path and tenant: %v", rec.tenants)
	}
}

// TestPassthroughUnchanged: other endpoints, and POST bodies of requests
// that are not split, reach the downstream intact.
func TestPassthroughUnchanged(t *testing.T) {
	d := sharedDownstream(t)
	f := testFrontend(t, d.api, time.Hour, 64)
	rng := url.Values{"start": {ns(t0)}, "end": {ns(t0.Add(6 * time.Hour))}}
	tests := []struct {
		name, method, path string
		form               url.Values
	}{
		{"labels", http.MethodGet, "/loki/api/v1/labels", rng},
		{"label values", http.MethodGet, "/loki/api/v1/label/app/values", rng},
		{"series", http.MethodPost, "/loki/api/v1/series", url.Values{"match[]": {`{env="prod"}`}, "start": rng["start"], "end": rng["end"]}},
		{"instant query", http.MethodGet, "/loki/api/v1/query", url.Values{"query": {`sum(count_over_time({env="prod"}[6h]))`}, "time": rng["end"]}},
		{"POST log query with interval", http.MethodPost, queryRangePath, url.Values{"query": {`{app="db"}`}, "interval": {"5m"}, "start": rng["start"], "end": rng["end"]}},
		{"PUT query_range", http.MethodPut, queryRangePath, url.Values{"query": {`{app="db"}`}, "start": rng["start"], "end": rng["end"]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := func() *http.Request {
				var r *http.Request
				if tt.method == http.MethodGet {
					r = httptest.NewRequest(tt.method, tt.path+"?"+tt.form.Encode(), nil)
				} else {
					r = httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.form.Encode()))
					r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				}
				r.Header.Set("X-Scope-OrgID", testTenant)
				return r
			}
			want, got := serve(d.api, req()), serve(f, req())
			if got.status != want.status || comparable(t, got) != comparable(t, want) {
				t.Fatalf("got %d %.300s\nwant %d %.300s", got.status, got.body, want.status, want.body)
			}
			if metricValue(t, f.m.splitQueries) != 0 {
				t.Fatal("request was split")
			}
		})
	}
}
