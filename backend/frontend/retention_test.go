package frontend

import (
	"net/http"
	"testing"
	"time"
)

// A tenant's queries start within its retention period: log queries at
// its bound, metric queries at their first step within it; a query wholly
// past it goes to the downstream (which answers it empty).
func TestRetentionBoundsQueryStart(t *testing.T) {
	f := testFrontend(t, http.NotFoundHandler(), time.Hour, 0)
	now := f.now()
	min := now.Add(-48 * time.Hour).UnixNano()
	step := time.Minute.Nanoseconds()
	cases := []struct {
		name       string
		tenant     string
		metric     bool
		start, end int64
		ok         bool
		wantStart  int64
	}{
		{"log query", keptTenant, false, min - 3*step, now.UnixNano(), true, min},
		{"metric query", keptTenant, true, min - 3*step - 7, now.UnixNano(), true, min - 7 + step},
		{"within retention", keptTenant, true, min + 5, now.UnixNano(), true, min + 5},
		{"past retention", keptTenant, false, min - 10*step, min - step, false, 0},
		{"tenant keeping everything", testTenant, false, min - 3*step, now.UnixNano(), true, min - 3*step},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := &rangeQuery{tenant: c.tenant, metric: c.metric, start: c.start, end: c.end}
			if c.metric {
				q.step = step
			}
			if ok := f.applyLimits(q); ok != c.ok || (ok && q.start != c.wantStart) {
				t.Fatalf("applyLimits: %v, start %d (min+%d); want %v, %d", ok, q.start, q.start-min, c.ok, c.wantStart)
			}
		})
	}
}
