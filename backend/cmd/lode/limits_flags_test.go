package main

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lode-logs/lode/backend/internal/testutil/lodetest"
)

// TestQueryLimitFlags runs lode with tight query limits and checks each
// over-limit query answers 400 naming the limit.
func TestQueryLimitFlags(t *testing.T) {
	p := lodetest.Start(t, lodetest.Options{Args: []string{
		"-validation.max-entries-limit=10", "-querier.max-query-series=1", "-store.max-query-length=1h"}})
	b := base()
	pushLogQLData(t, p, b)
	tests := []struct {
		name   string
		params url.Values
		status int
		want   string
	}{
		{"max entries", url.Values{"query": {`{app="api"}`}, "limit": {"11"}, "start": {ns(b)}, "end": {ns(b.Add(time.Minute))}},
			400, "max entries limit per query exceeded, limit > max_entries_limit_per_query (11 > 10)"},
		{"max series", url.Values{"query": {`count_over_time({env="prod"}[1m])`}, "start": {ns(b)}, "end": {ns(b.Add(2 * time.Minute))}},
			400, "maximum number of series reached for a single query (max_query_series: 1)"},
		{"max query length", url.Values{"query": {`{app="api"}`}, "limit": {"5"}, "start": {ns(b.Add(-2 * time.Hour))}, "end": {ns(b)}},
			400, "the query time range exceeds the limit (query length: 2h0m0s, max_query_length: 1h0m0s)"},
		{"within the limits", url.Values{"query": {`sum(count_over_time({env="prod"}[1m]))`}, "limit": {"10"}, "start": {ns(b)}, "end": {ns(b.Add(time.Hour))}},
			200, `"resultType":"matrix"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := get(t, p, "/loki/api/v1/query_range", tt.params)
			if r.Status != tt.status || !strings.Contains(string(r.Body), tt.want) {
				t.Fatalf("got %d %s, want %d containing %q", r.Status, r.Body, tt.status, tt.want)
			}
		})
	}
}
