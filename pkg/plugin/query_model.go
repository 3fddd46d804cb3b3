package plugin

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/gtime"
)

// Query types (queryType), as in Grafana's Loki datasource.
const (
	QueryTypeRange   = "range"
	QueryTypeInstant = "instant"
	QueryTypeStream  = "stream"
)

// Supporting query types (supportingQueryType) that Explore sends next to the main query.
const (
	SupportingLogsVolume     = "logsVolume"
	SupportingLogsSample     = "logsSample"
	SupportingDataSample     = "dataSample"
	SupportingInfiniteScroll = "infiniteScroll"
)

// Directions of a log query.
const (
	DirectionBackward = "backward"
	DirectionForward  = "forward"
	directionScan     = "scan"
)

const (
	// maxPointsPerSeries is the most samples per series a range query may ask for (as Loki).
	maxPointsPerSeries = 11000
	// defaultSampleLines is maxLines of a logs sample query that does not set one.
	defaultSampleLines = 100
	// volumeTemplate wraps a log query into the logs volume query.
	volumeTemplate = "sum by (level) (count_over_time(%s [$__auto]))"
)

// QueryModel is one query as Grafana sends it. Field names are those of Grafana's Loki
// datasource, so dashboards built on Loki keep working when switched to Lode.
type QueryModel struct {
	Expr                string          `json:"expr"`
	QueryType           string          `json:"queryType,omitempty"`
	MaxLines            json.RawMessage `json:"maxLines,omitempty"`
	Direction           string          `json:"direction,omitempty"`
	LegendFormat        string          `json:"legendFormat,omitempty"`
	Step                json.RawMessage `json:"step,omitempty"`
	Resolution          int             `json:"resolution,omitempty"`
	Instant             bool            `json:"instant,omitempty"` // legacy form of queryType instant
	Range               bool            `json:"range,omitempty"`   // legacy form of queryType range
	SupportingQueryType string          `json:"supportingQueryType,omitempty"`
}

// plannedQuery is a query made ready to send: variables interpolated, step and limits chosen.
type plannedQuery struct {
	RefID        string
	Type         string // QueryTypeRange, QueryTypeInstant or QueryTypeStream
	Expr         string
	Start, End   time.Time
	Step         time.Duration // range queries only
	Limit        int
	Direction    string
	LegendFormat string
	Supporting   string
	IsLogQuery   bool
}

// planQuery parses one backend.DataQuery against the datasource settings.
func planQuery(q backend.DataQuery, s Settings) (plannedQuery, error) {
	var m QueryModel
	if err := json.Unmarshal(q.JSON, &m); err != nil {
		return plannedQuery{}, fmt.Errorf("%w: the query JSON cannot be read: %v", ErrInvalidQuery, err)
	}
	p := plannedQuery{
		RefID:        q.RefID,
		Start:        q.TimeRange.From,
		End:          q.TimeRange.To,
		LegendFormat: m.LegendFormat,
		Supporting:   m.SupportingQueryType,
	}
	expr := strings.TrimSpace(m.Expr)
	if expr == "" {
		return p, fmt.Errorf("%w: the query is empty: enter a LogQL query such as {app=\"api\"}", ErrInvalidQuery)
	}
	p.IsLogQuery = isLogQuery(expr)
	if p.Supporting == SupportingLogsVolume && p.IsLogQuery {
		expr, p.IsLogQuery = fmt.Sprintf(volumeTemplate, expr), false
	}
	var err error
	if p.Type, err = queryType(m, q.QueryType); err != nil {
		return p, err
	}
	if p.Direction, err = direction(m.Direction); err != nil {
		return p, err
	}
	if p.Limit, err = maxLines(m.MaxLines, p.Supporting, s.MaxLines); err != nil {
		return p, err
	}
	if p.End.Before(p.Start) {
		return p, fmt.Errorf("%w: the time range ends before it starts", ErrInvalidQuery)
	}
	if p.Step, err = queryStep(m, q, p.End.Sub(p.Start)); err != nil {
		return p, err
	}
	p.Expr = interpolate(expr, q.Interval, p.End.Sub(p.Start), p.Type, p.Step)
	return p, nil
}

// isLogQuery reports whether a LogQL expression selects log lines (it starts with a stream
// selector) rather than computing samples.
func isLogQuery(expr string) bool {
	return strings.HasPrefix(strings.TrimSpace(expr), "{")
}

func queryType(m QueryModel, fromRequest string) (string, error) {
	t := m.QueryType
	if t == "" {
		t = fromRequest
	}
	switch {
	case t == "" && m.Instant && !m.Range:
		return QueryTypeInstant, nil
	case t == "":
		return QueryTypeRange, nil
	case t == QueryTypeRange || t == QueryTypeInstant || t == QueryTypeStream:
		return t, nil
	}
	return "", fmt.Errorf("%w: query type %q is unknown: use range, instant or stream", ErrInvalidQuery, t)
}

func direction(d string) (string, error) {
	switch d {
	case "", DirectionBackward, directionScan:
		return DirectionBackward, nil
	case DirectionForward:
		return DirectionForward, nil
	}
	return "", fmt.Errorf("%w: direction %q is unknown: use backward or forward", ErrInvalidQuery, d)
}

func maxLines(raw json.RawMessage, supporting string, def int) (int, error) {
	txt, ok := scalarText(raw)
	if !ok {
		if supporting == SupportingLogsSample {
			return min(defaultSampleLines, def), nil
		}
		return def, nil
	}
	n, err := strconv.Atoi(txt)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%w: max lines %q must be a whole number above 0", ErrInvalidQuery, txt)
	}
	return n, nil
}

// queryStep chooses the step of a range query: the query's step (a duration, a number of
// seconds or $__interval / $__auto), else the request interval, times the resolution factor,
// and never so small that a series would exceed maxPointsPerSeries.
func queryStep(m QueryModel, q backend.DataQuery, rng time.Duration) (time.Duration, error) {
	interval := q.Interval
	if interval <= 0 && q.MaxDataPoints > 0 {
		interval = rng / time.Duration(q.MaxDataPoints)
	}
	step := interval
	if txt, ok := scalarText(m.Step); ok {
		txt = strings.NewReplacer("${__interval}", "$__interval", "${__auto}", "$__auto").Replace(txt)
		switch txt {
		case "$__interval", "$__auto":
		default:
			d, err := parseStep(txt)
			if err != nil {
				return 0, err
			}
			step = d
		}
	}
	if m.Resolution > 1 && m.Resolution <= 5 {
		step *= time.Duration(m.Resolution)
	}
	if safe := (rng + maxPointsPerSeries - 1) / maxPointsPerSeries; step < safe {
		step = safe
	}
	if step < time.Millisecond {
		step = time.Millisecond
	}
	// Round up, so that rounding never takes a series over maxPointsPerSeries.
	return (step + time.Millisecond - 1).Truncate(time.Millisecond), nil
}

func parseStep(txt string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(txt, 64); err == nil {
		if f <= 0 {
			return 0, fmt.Errorf("%w: step %q must be above 0", ErrInvalidQuery, txt)
		}
		return time.Duration(f * float64(time.Second)), nil
	}
	d, err := gtime.ParseIntervalStringToTimeDuration(txt)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%w: step %q is not a duration such as 30s, 1m or 1h", ErrInvalidQuery, txt)
	}
	return d, nil
}

// interpolate replaces Grafana's global interval and range variables, as Grafana's Loki
// datasource does on its backend: $__auto is the step for range queries and the whole range
// for instant queries.
func interpolate(expr string, interval, rng time.Duration, typ string, step time.Duration) string {
	if !strings.Contains(expr, "$") {
		return expr
	}
	rangeS := int64((rng + time.Second/2) / time.Second)
	auto := formatDuration(step)
	if typ == QueryTypeInstant {
		auto = strconv.FormatInt(rangeS, 10) + "s"
	}
	if interval <= 0 {
		interval = step
	}
	// Longer names first, so that $__interval does not eat $__interval_ms.
	return strings.NewReplacer(
		"${__interval_ms}", strconv.FormatInt(interval.Milliseconds(), 10),
		"$__interval_ms", strconv.FormatInt(interval.Milliseconds(), 10),
		"${__interval}", formatDuration(interval),
		"$__interval", formatDuration(interval),
		"${__range_ms}", strconv.FormatInt(rng.Milliseconds(), 10),
		"$__range_ms", strconv.FormatInt(rng.Milliseconds(), 10),
		"${__range_s}", strconv.FormatInt(rangeS, 10),
		"$__range_s", strconv.FormatInt(rangeS, 10),
		"${__range}", strconv.FormatInt(rangeS, 10)+"s",
		"$__range", strconv.FormatInt(rangeS, 10)+"s",
		"${__auto}", auto,
		"$__auto", auto,
	).Replace(expr)
}

// formatDuration renders d in the largest LogQL unit that divides it exactly ("1h", "90s", "250ms").
func formatDuration(d time.Duration) string {
	if d <= 0 {
		return "1ms"
	}
	for _, u := range []struct {
		d    time.Duration
		name string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}} {
		if d%u.d == 0 {
			return strconv.FormatInt(int64(d/u.d), 10) + u.name
		}
	}
	return strconv.FormatInt(max(d.Milliseconds(), 1), 10) + "ms"
}
