package frontend

import (
	"net/http"
	"net/url"
	"testing"
	"time"
)

func TestFormatRoundTrip(t *testing.T) {
	for _, ns := range []int64{0, 1, 1e9, 9_999_999_999, 1e10, 1709251033500000000, 1709251033123456789} {
		got, ok := parseTime(formatTime(ns), time.Time{})
		if !ok || got.UnixNano() != ns {
			t.Errorf("time %d: %q parsed as %d", ns, formatTime(ns), got.UnixNano())
		}
	}
	for _, d := range []time.Duration{1, 1500 * time.Microsecond, time.Second, 1500 * time.Millisecond,
		433 * time.Second, time.Hour, 90 * time.Minute, 25 * time.Hour} {
		got, err := parseDuration(formatStep(d))
		if err != nil || got != d {
			t.Errorf("step %s: %q parsed as %s, %v", d, formatStep(d), got, err)
		}
	}
}

func TestParseRangeQuery(t *testing.T) {
	now := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		form  url.Values
		split bool
		check func(*rangeQuery) bool
	}{
		{"defaults", url.Values{"query": {`{a="b"}`}}, true, func(q *rangeQuery) bool {
			return q.end == now.UnixNano() && q.start == now.Add(-time.Hour).UnixNano() && q.limit == 100 && !q.metric && q.step == int64(14*time.Second)
		}},
		{"since", url.Values{"query": {`rate({a="b"}[1m])`}, "since": {"6h"}}, true, func(q *rangeQuery) bool {
			return q.start == now.Add(-6*time.Hour).UnixNano() && q.metric && q.step == int64(86*time.Second)
		}},
		{"seconds with a fraction", url.Values{"query": {`{a="b"}`}, "start": {"1709251033.1234"}, "end": {"1709254633"}}, true, func(q *rangeQuery) bool {
			return q.start == 1709251033123000000 && q.end == 1709254633000000000
		}},
		{"other parameters kept", url.Values{"query": {`{a="b"}`}, "foo": {"bar"}, "time": {"1"}}, true, func(q *rangeQuery) bool {
			return q.rest.Encode() == "foo=bar"
		}},
		{"interval on a metric query", url.Values{"query": {`rate({a="b"}[1m])`}, "interval": {"1m"}}, true, nil},
		{"interval on a log query", url.Values{"query": {`{a="b"}`}, "interval": {"1m"}}, false, nil},
		{"no query", url.Values{}, false, nil},
		{"parse error", url.Values{"query": {`{a="b"`}}, false, nil},
		{"bad limit", url.Values{"query": {`{a="b"}`}, "limit": {"0"}}, false, nil},
		{"bad direction", url.Values{"query": {`{a="b"}`}, "direction": {"sideways"}}, false, nil},
		{"bad step", url.Values{"query": {`{a="b"}`}, "step": {"0"}}, false, nil},
		{"too many steps", url.Values{"query": {`{a="b"}`}, "since": {"24h"}, "step": {"7s"}}, false, nil},
		{"end before start", url.Values{"query": {`{a="b"}`}, "start": {"20"}, "end": {"10"}}, false, nil},
		{"bad time", url.Values{"query": {`{a="b"}`}, "start": {"yesterday"}}, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, ok := parseRangeQuery(tt.form, http.Header{"X-Scope-Orgid": {"t"}}, now)
			if ok != tt.split {
				t.Fatalf("split %v, want %v", ok, tt.split)
			}
			if ok && (q.tenant != "t" || (tt.check != nil && !tt.check(q))) {
				t.Fatalf("unexpected query %+v", q)
			}
		})
	}
}
