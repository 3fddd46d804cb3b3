package api

import (
	"net/http/httptest"
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	def := time.Unix(42, 0).UTC()
	cases := []struct {
		in   string
		want time.Time
		err  bool
	}{
		{"", def, false},
		{"1700000000", time.Unix(1700000000, 0), false},
		{"1700000000.5", time.Unix(1700000000, 500_000_000), false},
		{"1700000000123456789", time.Unix(0, 1700000000123456789), false},
		{"2023-11-14T22:13:20Z", time.Unix(1700000000, 0), false},
		{"2023-11-14T22:13:20.25+01:00", time.Unix(1699996400, 250_000_000), false},
		{"yesterday", time.Time{}, true},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			got, err := parseTime(c.in, def)
			if (err != nil) != c.err {
				t.Fatalf("error %v, want error %v", err, c.err)
			}
			if !c.err && !got.Equal(c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestTimeRangeDefaultsAndSince(t *testing.T) {
	now := time.Unix(1700000000, 0)
	cases := []struct {
		query      string
		start, end time.Time
		err        string
	}{
		{"", now.Add(-time.Hour), now, ""},
		{"since=15m", now.Add(-15 * time.Minute), now, ""},
		{"since=90", now.Add(-90 * time.Second), now, ""},
		{"end=1700000100&since=1h", time.Unix(1700000100-3600, 0), time.Unix(1700000100, 0), ""},
		{"start=1699999000&end=1700000000", time.Unix(1699999000, 0), now, ""},
		{"start=1700000001&end=1700000000", time.Time{}, time.Time{}, "end timestamp must not be before or equal to start time"},
		{"since=soon", time.Time{}, time.Time{}, `invalid since: cannot parse "soon" to a valid duration`},
	}
	for _, c := range cases {
		t.Run(c.query, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/?"+c.query, nil)
			_ = r.ParseForm()
			start, end, err := timeRange(r, now)
			if c.err != "" {
				if err == nil || err.Error() != c.err {
					t.Fatalf("error %v, want %q", err, c.err)
				}
				return
			}
			if err != nil || !start.Equal(c.start) || !end.Equal(c.end) {
				t.Fatalf("got %v..%v (%v), want %v..%v", start, end, err, c.start, c.end)
			}
		})
	}
}

func TestStepDefaultsAndLimits(t *testing.T) {
	start := time.Unix(0, 0)
	cases := []struct {
		query string
		end   time.Time
		want  time.Duration
		err   bool
	}{
		{"", start.Add(time.Hour), 14 * time.Second, false}, // 3600/250 floored
		{"", start.Add(time.Minute), time.Second, false},
		{"step=30s", start.Add(time.Hour), 30 * time.Second, false},
		{"step=15", start.Add(time.Hour), 15 * time.Second, false},
		{"step=0", start.Add(time.Hour), 0, true},
		{"step=1s", start.Add(24 * time.Hour), 0, true}, // 86400 points > 11000
	}
	for _, c := range cases {
		t.Run(c.query, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/?"+c.query, nil)
			_ = r.ParseForm()
			got, err := parseStep(r, start, c.end)
			if (err != nil) != c.err || got != c.want {
				t.Fatalf("got %v (%v), want %v (error %v)", got, err, c.want, c.err)
			}
		})
	}
}

func TestTenant(t *testing.T) {
	on := New(Options{AuthEnabled: true}, Deps{})
	off := New(Options{}, Deps{})
	r := httptest.NewRequest("GET", "/", nil)
	if got, err := off.tenant(r); err != nil || got != DefaultTenant {
		t.Fatalf("auth off: %q %v", got, err)
	}
	if _, err := on.tenant(r); err == nil || statusOf(err) != 401 {
		t.Fatalf("auth on without header: %v", err)
	}
	r.Header.Set("X-Scope-OrgID", "team/a")
	if _, err := on.tenant(r); err == nil || statusOf(err) != 400 {
		t.Fatalf("auth on with bad tenant: %v", err)
	}
	r.Header.Set("X-Scope-OrgID", "team-a")
	if got, err := on.tenant(r); err != nil || got != "team-a" {
		t.Fatalf("auth on: %q %v", got, err)
	}
}
