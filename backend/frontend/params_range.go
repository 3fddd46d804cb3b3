package frontend

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	pmodel "github.com/prometheus/common/model"

	"github.com/lode-logs/lode/backend/logql"
	"github.com/lode-logs/lode/backend/model"
)

// Request parameters are read exactly as backend/api reads them, so that a
// split query asks its parts for what the whole query would have asked.
const (
	defaultLimit   = 100
	defaultSince   = time.Hour
	maxPoints      = 11000 // the API's and the engine's limit of steps per series
	maxFormBytes   = 10 << 20
	queryRangePath = "/loki/api/v1/query_range"
)

// rangeQuery is a query_range request the frontend can split.
type rangeQuery struct {
	query  string
	expr   logql.Expr
	norm   string // expr printed canonically, for cache keys
	metric bool
	// start and end are Unix ns. A log query reads [start, end); a metric
	// query is evaluated at start, start+step, ... <= end.
	start, end int64
	step       int64 // ns; metric queries only
	limit      int   // log queries only
	dir        model.Direction
	// rest holds the request's other parameters, forwarded unchanged.
	rest   url.Values
	tenant string
	flags  string // X-Loki-Response-Encoding-Flags
	// maxSeries is the tenant's max_query_series (0: not applied).
	maxSeries int
}

// readForm returns the request's parameters (URL query, and the urlencoded
// body of a POST) without consuming r: a POST body is read and put back.
func readForm(r *http.Request) (url.Values, error) {
	if r.Method != http.MethodPost || r.Body == nil || r.Body == http.NoBody {
		return url.ParseQuery(r.URL.RawQuery)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxFormBytes+1))
	_ = r.Body.Close()
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("read form: %w", err)
	}
	if len(body) > maxFormBytes {
		return nil, fmt.Errorf("read form: body over %d bytes", maxFormBytes)
	}
	c := r.Clone(r.Context())
	c.Body = io.NopCloser(bytes.NewReader(body))
	c.Form, c.PostForm = nil, nil
	if err := c.ParseForm(); err != nil {
		return nil, fmt.Errorf("parse form: %w", err)
	}
	return c.Form, nil
}

// parseRangeQuery reads a query_range request. ok is false when the
// request is one the frontend leaves to the downstream unchanged: invalid
// parameters (the downstream answers the error), or parameters splitting
// cannot preserve (interval on log queries).
func parseRangeQuery(form url.Values, h http.Header, now time.Time) (*rangeQuery, bool) {
	q := &rangeQuery{query: form.Get("query"), tenant: h.Get("X-Scope-OrgID"),
		flags: h.Get("X-Loki-Response-Encoding-Flags")}
	if q.query == "" {
		return nil, false
	}
	expr, err := logql.Parse(q.query)
	if err != nil {
		return nil, false
	}
	q.expr = expr
	_, q.metric = expr.(logql.SampleExpr)
	start, end, ok := timeRange(form, now)
	if !ok {
		return nil, false
	}
	q.start, q.end = start.UnixNano(), end.UnixNano()
	if q.limit, ok = parseLimit(form.Get("limit")); !ok {
		return nil, false
	}
	if q.dir, ok = parseDirection(form.Get("direction")); !ok {
		return nil, false
	}
	step, ok := parseStep(form.Get("step"), start, end)
	if !ok {
		return nil, false
	}
	q.step = step.Nanoseconds()
	if iv := form.Get("interval"); iv != "" {
		if _, err := parseDuration(iv); err != nil || !q.metric {
			return nil, false
		}
	}
	q.rest = url.Values{}
	for k, v := range form {
		switch k {
		case "query", "start", "end", "since", "step", "limit", "direction", "time":
		default:
			q.rest[k] = v
		}
	}
	return q, true
}

// parseTime parses a time as the API does: Unix seconds with a fraction
// (rounded to ms), Unix seconds as an integer of at most 10 digits, Unix ns
// as a longer integer, or RFC 3339. An empty value yields def.
func parseTime(value string, def time.Time) (time.Time, bool) {
	if value == "" {
		return def, true
	}
	if strings.Contains(value, ".") {
		if f, err := strconv.ParseFloat(value, 64); err == nil {
			s, frac := math.Modf(f)
			frac = math.Round(frac*1000) / 1000
			return time.Unix(int64(s), int64(frac*float64(time.Second))).UTC(), true
		}
	}
	n, err := strconv.ParseInt(value, 10, 64)
	if err != nil {
		t, err := time.Parse(time.RFC3339Nano, value)
		return t, err == nil
	}
	if len(strings.TrimPrefix(value, "-")) <= 10 {
		return time.Unix(n, 0).UTC(), true
	}
	return time.Unix(0, n).UTC(), true
}

// parseDuration parses a float number of seconds or a duration string, as
// the API does.
func parseDuration(value string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(value, 64); err == nil {
		ns := f * float64(time.Second)
		if ns > math.MaxInt64 || ns < math.MinInt64 || math.IsNaN(ns) {
			return 0, fmt.Errorf("duration %q overflows", value)
		}
		return time.Duration(ns), nil
	}
	if d, err := pmodel.ParseDuration(value); err == nil {
		return time.Duration(d), nil
	}
	return time.ParseDuration(value)
}

func timeRange(form url.Values, now time.Time) (start, end time.Time, ok bool) {
	if end, ok = parseTime(form.Get("end"), now); !ok {
		return start, end, false
	}
	since := defaultSince
	if s := form.Get("since"); s != "" {
		var err error
		if since, err = parseDuration(s); err != nil {
			return start, end, false
		}
	}
	if start, ok = parseTime(form.Get("start"), end.Add(-since)); !ok {
		return start, end, false
	}
	return start, end, !end.Before(start)
}

func parseLimit(s string) (int, bool) {
	if s == "" {
		return defaultLimit, true
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n > 0
}

func parseDirection(s string) (model.Direction, bool) {
	switch strings.ToLower(s) {
	case "", "backward":
		return model.Backward, true
	case "forward":
		return model.Forward, true
	}
	return 0, false
}

// parseStep returns the explicit step or the API's default (about 250
// points, in whole seconds, at least 1s). ok is false for an invalid step
// and for one giving more points than the API and the engine accept.
func parseStep(s string, start, end time.Time) (time.Duration, bool) {
	var d time.Duration
	if s == "" {
		d = time.Duration(max(math.Floor(end.Sub(start).Seconds()/250), 1)) * time.Second
	} else {
		var err error
		if d, err = parseDuration(s); err != nil || d <= 0 {
			return 0, false
		}
	}
	return d, int64(end.Sub(start)/d)+1 <= maxPoints
}

// formatTime writes a Unix ns time so that parseTime reads it back exactly.
func formatTime(ns int64) string {
	if ns >= 1e10 {
		return strconv.FormatInt(ns, 10)
	}
	return time.Unix(0, ns).UTC().Format(time.RFC3339Nano)
}

// formatStep writes a step so that parseDuration reads it back exactly.
func formatStep(d time.Duration) string {
	if d%time.Millisecond == 0 {
		return pmodel.Duration(d).String()
	}
	return d.String()
}
