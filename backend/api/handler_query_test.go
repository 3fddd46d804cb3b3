package api

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	pmodel "github.com/prometheus/common/model"

	"github.com/lode-logs/lode/backend/engine"
	"github.com/lode-logs/lode/backend/engine/enginetest"
	"github.com/lode-logs/lode/backend/limits"
	"github.com/lode-logs/lode/backend/model"
)

// limitsServer serves an engine over three streams of tenants "small"
// (tight overrides), "open" (every query limit off) and "other" (the flag
// defaults), with auth enabled.
func limitsServer(t *testing.T, t0 time.Time) *httptest.Server {
	t.Helper()
	var cfg limits.Config
	f := flag.NewFlagSet("limits", flag.ContinueOnError)
	cfg.RegisterFlags(f)
	if err := f.Parse(nil); err != nil {
		t.Fatal(err)
	}
	small, open, timeout := cfg.Tenant, cfg.Tenant, cfg.Tenant
	small.MaxEntriesLimitPerQuery, small.MaxQuerySeries, small.MaxQueryLength = 10, 1, pmodel.Duration(time.Hour)
	open.MaxEntriesLimitPerQuery, open.MaxQuerySeries, open.MaxQueryLength = 0, 0, 0
	timeout.QueryTimeout = pmodel.Duration(time.Nanosecond)
	cfg.Overrides = map[string]limits.Tenant{"small": small, "open": open, "timeout": timeout}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	q := enginetest.New()
	for _, tenant := range []string{"small", "open", "other", "timeout"} {
		for i := range 3 {
			e := model.Entry{Timestamp: t0.Add(time.Duration(i) * time.Second).UnixNano(), Line: []byte("line")}
			if err := q.Push(tenant, fmt.Sprintf(`{app="a%d"}`, i), e); err != nil {
				t.Fatal(err)
			}
		}
	}
	srv := New(Options{AuthEnabled: true}, Deps{
		Engine: engine.New(q, engine.Options{}),
		Limits: limits.NewOverrides(cfg),
	})
	s := httptest.NewServer(srv)
	t.Cleanup(s.Close)
	return s
}

func TestQueryLimitsPerTenant(t *testing.T) {
	t0 := time.Unix(1700000000, 0)
	s := limitsServer(t, t0)
	start, end := fmt.Sprint(t0.UnixNano()), fmt.Sprint(t0.Add(time.Minute).UnixNano())
	tests := []struct {
		name, tenant, query, limit, start string
		status                            int
		want                              string
	}{
		{"limit over the tenant's max entries", "small", `{app=~"a.*"}`, "11", start, 400,
			"max entries limit per query exceeded, limit > max_entries_limit_per_query (11 > 10)"},
		{"limit at the tenant's max entries", "small", `{app=~"a.*"}`, "10", start, 200, `"resultType":"streams"`},
		{"default max entries", "other", `{app=~"a.*"}`, "5001", start, 400, "max_entries_limit_per_query (5001 > 5000)"},
		{"max entries off", "open", `{app=~"a.*"}`, "1000000", start, 200, `"resultType":"streams"`},
		{"series over the tenant's max", "small", `count_over_time({app=~"a.*"}[1m])`, "", start, 400,
			"maximum number of series reached for a single query (max_query_series: 1)"},
		{"entries limit ignored by metric queries", "small", `sum(count_over_time({app=~"a.*"}[1m]))`, "100", start, 200, `"resultType":"matrix"`},
		{"series within the defaults", "other", `count_over_time({app=~"a.*"}[1m])`, "", start, 200, `"resultType":"matrix"`},
		{"series limit off", "open", `count_over_time({app=~"a.*"}[1m])`, "", start, 200, `"resultType":"matrix"`},
		{"range over the tenant's max length", "small", `{app=~"a.*"}`, "", fmt.Sprint(t0.Add(-2 * time.Hour).UnixNano()), 400,
			"the query time range exceeds the limit (query length: 2h1m0s, max_query_length: 1h0m0s)"},
		{"range within the tenant's max length", "small", `{app=~"a.*"}`, "10", fmt.Sprint(t0.Add(-59 * time.Minute).UnixNano()), 200, `"resultType":"streams"`},
		{"query length off", "open", `{app=~"a.*"}`, "", fmt.Sprint(t0.Add(-10000 * time.Hour).UnixNano()), 200, `"resultType":"streams"`},
		{"tenant query timeout", "timeout", `{app=~"a.*"}`, "", start, 504, "context deadline exceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := url.Values{"query": {tt.query}, "start": {tt.start}, "end": {end}}
			if tt.limit != "" {
				v.Set("limit", tt.limit)
			}
			req, _ := http.NewRequest(http.MethodGet, s.URL+"/loki/api/v1/query_range?"+v.Encode(), nil)
			req.Header.Set("X-Scope-OrgID", tt.tenant)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status || !strings.Contains(string(body), tt.want) {
				t.Fatalf("got %d %s\nwant %d containing %q", resp.StatusCode, body, tt.status, tt.want)
			}
		})
	}
}
