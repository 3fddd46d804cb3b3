package api

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	lmodel "github.com/lode-logs/lode/backend/model"
)

const (
	defaultLimit = 100
	defaultSince = time.Hour
)

// parseTime parses a time as Loki does: Unix seconds with a fraction
// ("1700000000.5"), Unix seconds as an integer of at most 10 digits, Unix
// nanoseconds as a longer integer, or RFC 3339 with optional nanoseconds.
// An empty value yields def.
func parseTime(value string, def time.Time) (time.Time, error) {
	if value == "" {
		return def, nil
	}
	if strings.Contains(value, ".") {
		if f, err := strconv.ParseFloat(value, 64); err == nil {
			s, frac := math.Modf(f)
			frac = math.Round(frac*1000) / 1000
			return time.Unix(int64(s), int64(frac*float64(time.Second))).UTC(), nil
		}
	}
	n, err := strconv.ParseInt(value, 10, 64)
	if err != nil {
		if t, err := time.Parse(time.RFC3339Nano, value); err == nil {
			return t, nil
		}
		return time.Time{}, fmt.Errorf("cannot parse %q to a valid timestamp", value)
	}
	if len(strings.TrimPrefix(value, "-")) <= 10 {
		return time.Unix(n, 0).UTC(), nil
	}
	return time.Unix(0, n).UTC(), nil
}

// parseDuration parses a duration as Prometheus and Loki do: a float
// number of seconds ("15", "0.5") or a duration string ("1m30s", "1d").
func parseDuration(value string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(value, 64); err == nil {
		ns := f * float64(time.Second)
		if ns > math.MaxInt64 || ns < math.MinInt64 || math.IsNaN(ns) {
			return 0, fmt.Errorf("cannot parse %q to a valid duration. It overflows int64", value)
		}
		return time.Duration(ns), nil
	}
	if d, err := model.ParseDuration(value); err == nil {
		return time.Duration(d), nil
	}
	if d, err := time.ParseDuration(value); err == nil {
		return d, nil
	}
	return 0, fmt.Errorf("cannot parse %q to a valid duration", value)
}

// timeRange reads start, end and since: end defaults to now, start to end
// minus since (default one hour).
func timeRange(r *http.Request, now time.Time) (start, end time.Time, err error) {
	end, err = parseTime(r.Form.Get("end"), now)
	if err != nil {
		return start, end, badRequest("invalid end: %v", err)
	}
	since := defaultSince
	if s := r.Form.Get("since"); s != "" {
		if since, err = parseDuration(s); err != nil {
			return start, end, badRequest("invalid since: %v", err)
		}
	}
	start, err = parseTime(r.Form.Get("start"), end.Add(-since))
	if err != nil {
		return start, end, badRequest("invalid start: %v", err)
	}
	if end.Before(start) {
		return start, end, badRequest("end timestamp must not be before or equal to start time")
	}
	return start, end, nil
}

func parseLimit(r *http.Request) (int, error) {
	s := r.Form.Get("limit")
	if s == "" {
		return defaultLimit, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, badRequest("invalid limit: cannot parse %q", s)
	}
	if n <= 0 {
		return 0, badRequest("limit must be a positive value")
	}
	return n, nil
}

func parseDirection(r *http.Request) (lmodel.Direction, error) {
	switch strings.ToLower(r.Form.Get("direction")) {
	case "", "backward":
		return lmodel.Backward, nil
	case "forward":
		return lmodel.Forward, nil
	default:
		return 0, badRequest("invalid direction %q: must be forward or backward", r.Form.Get("direction"))
	}
}

// defaultStep is Loki's default resolution: about 250 points per range,
// at least one second.
func defaultStep(start, end time.Time) time.Duration {
	s := int64(math.Max(math.Floor(end.Sub(start).Seconds()/250), 1))
	return time.Duration(s) * time.Second
}

func parseStep(r *http.Request, start, end time.Time) (time.Duration, error) {
	s := r.Form.Get("step")
	if s == "" {
		return defaultStep(start, end), nil
	}
	d, err := parseDuration(s)
	if err != nil {
		return 0, badRequest("invalid step: %v", err)
	}
	if d <= 0 {
		return 0, badRequest("zero or negative query resolution step widths are not accepted. Try a positive integer")
	}
	if end.Sub(start)/d > 11000 {
		return 0, badRequest("exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)")
	}
	return d, nil
}
