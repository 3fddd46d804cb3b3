package plugin

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

func TestPlanQuery(t *testing.T) {
	from := time.Unix(1700000000, 0)
	hour := from.Add(time.Hour)
	s := Settings{MaxLines: 1000}
	for _, c := range []struct {
		name     string
		js       string
		to       time.Time
		interval time.Duration
		want     plannedQuery
	}{
		{name: "log range defaults", js: `{"expr":" {a=\"b\"} "}`, to: hour, interval: 15 * time.Second,
			want: plannedQuery{Type: QueryTypeRange, Expr: `{a="b"}`, Step: 15 * time.Second, Limit: 1000, Direction: DirectionBackward, IsLogQuery: true}},
		{name: "max lines and forward", js: `{"expr":"{a=\"b\"}","maxLines":20,"direction":"forward"}`, to: hour, interval: time.Second,
			want: plannedQuery{Type: QueryTypeRange, Expr: `{a="b"}`, Step: time.Second, Limit: 20, Direction: DirectionForward, IsLogQuery: true}},
		{name: "max lines as string", js: `{"expr":"{a=\"b\"}","maxLines":"30"}`, to: hour, interval: time.Second,
			want: plannedQuery{Type: QueryTypeRange, Expr: `{a="b"}`, Step: time.Second, Limit: 30, Direction: DirectionBackward, IsLogQuery: true}},
		{name: "scan is backward", js: `{"expr":"{a=\"b\"}","direction":"scan"}`, to: hour, interval: time.Second,
			want: plannedQuery{Type: QueryTypeRange, Expr: `{a="b"}`, Step: time.Second, Limit: 1000, Direction: DirectionBackward, IsLogQuery: true}},
		{name: "step and $__auto", js: `{"expr":"rate({a=\"b\"}[$__auto])","step":"1m"}`, to: hour, interval: 15 * time.Second,
			want: plannedQuery{Type: QueryTypeRange, Expr: `rate({a="b"}[1m])`, Step: time.Minute, Limit: 1000, Direction: DirectionBackward}},
		{name: "step in seconds with resolution", js: `{"expr":"rate({a=\"b\"}[$__interval])","step":"30","resolution":2}`, to: hour, interval: 15 * time.Second,
			want: plannedQuery{Type: QueryTypeRange, Expr: `rate({a="b"}[15s])`, Step: time.Minute, Limit: 1000, Direction: DirectionBackward}},
		{name: "interval variables", js: `{"expr":"count_over_time({a=\"b\"}[${__interval}]) / $__interval_ms / $__range_s / $__range_ms / $__range"}`, to: hour, interval: 2 * time.Minute,
			want: plannedQuery{Type: QueryTypeRange, Expr: `count_over_time({a="b"}[2m]) / 120000 / 3600 / 3600000 / 3600s`, Step: 2 * time.Minute, Limit: 1000, Direction: DirectionBackward}},
		{name: "step floor of 11000 points", js: `{"expr":"rate({a=\"b\"}[1m])","step":"1s"}`, to: from.Add(30 * 24 * time.Hour), interval: time.Second,
			want: plannedQuery{Type: QueryTypeRange, Expr: `rate({a="b"}[1m])`, Step: 235637 * time.Millisecond, Limit: 1000, Direction: DirectionBackward}},
		{name: "instant $__auto is the range", js: `{"expr":"sum(count_over_time({a=\"b\"}[$__auto]))","queryType":"instant"}`, to: hour, interval: time.Minute,
			want: plannedQuery{Type: QueryTypeInstant, Expr: `sum(count_over_time({a="b"}[3600s]))`, Step: time.Minute, Limit: 1000, Direction: DirectionBackward}},
		{name: "legacy instant flag", js: `{"expr":"sum(rate({a=\"b\"}[1m]))","instant":true}`, to: hour, interval: time.Minute,
			want: plannedQuery{Type: QueryTypeInstant, Expr: `sum(rate({a="b"}[1m]))`, Step: time.Minute, Limit: 1000, Direction: DirectionBackward}},
		{name: "logs volume wraps a log query", js: `{"expr":"{a=\"b\"} |= \"x\"","supportingQueryType":"logsVolume"}`, to: hour, interval: 30 * time.Second,
			want: plannedQuery{Type: QueryTypeRange, Expr: `sum by (level) (count_over_time({a="b"} |= "x" [30s]))`, Step: 30 * time.Second, Limit: 1000, Direction: DirectionBackward, Supporting: SupportingLogsVolume}},
		{name: "logs volume keeps a metric query", js: `{"expr":"sum by (level) (count_over_time({a=\"b\"}[$__auto]))","supportingQueryType":"logsVolume"}`, to: hour, interval: 30 * time.Second,
			want: plannedQuery{Type: QueryTypeRange, Expr: `sum by (level) (count_over_time({a="b"}[30s]))`, Step: 30 * time.Second, Limit: 1000, Direction: DirectionBackward, Supporting: SupportingLogsVolume}},
		{name: "logs sample limits lines", js: `{"expr":"{a=\"b\"}","supportingQueryType":"logsSample"}`, to: hour, interval: time.Second,
			want: plannedQuery{Type: QueryTypeRange, Expr: `{a="b"}`, Step: time.Second, Limit: defaultSampleLines, Direction: DirectionBackward, IsLogQuery: true, Supporting: SupportingLogsSample}},
		{name: "stream", js: `{"expr":"{a=\"b\"}","queryType":"stream"}`, to: hour, interval: time.Second,
			want: plannedQuery{Type: QueryTypeStream, Expr: `{a="b"}`, Step: time.Second, Limit: 1000, Direction: DirectionBackward, IsLogQuery: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			q := backend.DataQuery{RefID: "A", JSON: json.RawMessage(c.js), Interval: c.interval, TimeRange: backend.TimeRange{From: from, To: c.to}}
			got, err := planQuery(q, s)
			if err != nil {
				t.Fatal(err)
			}
			c.want.RefID, c.want.Start, c.want.End = "A", from, c.to
			if got != c.want {
				t.Fatalf("\n got %+v\nwant %+v", got, c.want)
			}
		})
	}
}

func TestPlanQueryErrors(t *testing.T) {
	for _, c := range []struct{ name, js, want string }{
		{"empty", `{"expr":"  "}`, `invalid query: the query is empty: enter a LogQL query such as {app="api"}`},
		{"bad JSON", `{"expr":5}`, "invalid query: the query JSON cannot be read: json: cannot unmarshal number into Go struct field QueryModel.expr of type string"},
		{"query type", `{"expr":"{a=\"b\"}","queryType":"table"}`, `invalid query: query type "table" is unknown: use range, instant or stream`},
		{"direction", `{"expr":"{a=\"b\"}","direction":"up"}`, `invalid query: direction "up" is unknown: use backward or forward`},
		{"max lines", `{"expr":"{a=\"b\"}","maxLines":-3}`, `invalid query: max lines "-3" must be a whole number above 0`},
		{"step", `{"expr":"rate({a=\"b\"}[1m])","step":"fast"}`, `invalid query: step "fast" is not a duration such as 30s, 1m or 1h`},
		{"negative step", `{"expr":"rate({a=\"b\"}[1m])","step":"-5"}`, `invalid query: step "-5" must be above 0`},
	} {
		t.Run(c.name, func(t *testing.T) {
			q := backend.DataQuery{RefID: "A", JSON: json.RawMessage(c.js), TimeRange: backend.TimeRange{From: time.Unix(0, 0), To: time.Unix(60, 0)}}
			_, err := planQuery(q, Settings{MaxLines: 10})
			if !errors.Is(err, ErrInvalidQuery) || err.Error() != c.want {
				t.Fatalf("\n got %v\nwant %s", err, c.want)
			}
		})
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		48 * time.Hour: "2d", 90 * time.Minute: "90m", 90 * time.Second: "90s", 1500 * time.Millisecond: "1500ms", 0: "1ms",
	} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%s) = %s, want %s", d, got, want)
		}
	}
}
