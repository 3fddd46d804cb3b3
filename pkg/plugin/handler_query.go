package plugin

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/grafana/grafana-plugin-sdk-go/live"

	"github.com/lode-logs/lode/pkg/plugin/internal/lokiapi"
)

// QueryData runs every query of the request, at most Settings.QueryConcurrency at a time, and
// answers each with frames or with its own error; one failing query never fails the others.
// Requests from alert rules (FromAlert header) get numeric frames only.
func (d *Datasource) QueryData(ctx context.Context, req *backend.QueryDataRequest) (*backend.QueryDataResponse, error) {
	resp := backend.NewQueryDataResponse()
	env := queryEnv{fromAlert: isFromAlert(req)}
	if s := req.PluginContext.DataSourceInstanceSettings; s != nil {
		env.uid = s.UID
	}
	workers := min(max(d.settings.QueryConcurrency, 1), len(req.Queries))
	jobs := make(chan backend.DataQuery)
	var mu sync.Mutex // guards resp.Responses
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for q := range jobs {
				r := d.safeRunQuery(ctx, q, env)
				mu.Lock()
				resp.Responses[q.RefID] = r
				mu.Unlock()
			}
		}()
	}
	for _, q := range req.Queries {
		jobs <- q
	}
	close(jobs)
	wg.Wait()
	return resp, nil
}

// queryEnv is what every query of one request shares.
type queryEnv struct {
	fromAlert bool
	uid       string
}

func isFromAlert(req *backend.QueryDataRequest) bool {
	if v, ok := req.Headers[backend.FromAlertHeaderName]; ok {
		return v == "true"
	}
	return req.GetHTTPHeader(backend.FromAlertHeaderName) == "true"
}

// safeRunQuery turns a panic in one query into that query's error instead of a crash.
func (d *Datasource) safeRunQuery(ctx context.Context, q backend.DataQuery, env queryEnv) (r backend.DataResponse) {
	defer func() {
		if p := recover(); p != nil {
			d.logger.Error("Query panicked", "refId", q.RefID, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			r = backend.ErrDataResponseWithSource(backend.StatusInternal, backend.ErrorSourcePlugin, "internal error in the Lode plugin while running this query")
		}
	}()
	return d.runQuery(ctx, q, env)
}

func (d *Datasource) runQuery(ctx context.Context, q backend.DataQuery, env queryEnv) backend.DataResponse {
	if d.settingsErr != nil {
		return d.errorResponse(d.settingsErr)
	}
	p, err := planQuery(q, d.settings)
	if err != nil {
		return d.errorResponse(err)
	}
	if env.fromAlert && (p.IsLogQuery || p.Type == QueryTypeStream) {
		return d.errorResponse(fmt.Errorf("%w: %s returns log lines; count them instead, e.g. sum(count_over_time(%s [5m]))", ErrNotMetricQuery, p.Expr, p.Expr))
	}
	var res *lokiapi.QueryResponse
	switch p.Type {
	case QueryTypeStream:
		return d.streamResponse(p, env.uid)
	case QueryTypeInstant:
		res, err = d.api.QueryInstant(ctx, lokiapi.InstantQuery{Query: p.Expr, Time: p.End, Limit: p.Limit, Direction: p.Direction})
	default:
		rq := lokiapi.RangeQuery{Query: p.Expr, Start: p.Start, End: p.End, Limit: p.Limit, Direction: p.Direction}
		if !p.IsLogQuery {
			rq.Step = p.Step
		}
		res, err = d.api.QueryRange(ctx, rq)
	}
	if err != nil {
		d.logger.FromContext(ctx).Debug("Query failed", "refId", p.RefID, "error", d.describe(err))
		return d.errorResponse(err)
	}
	frames, err := d.frames(res, p, env)
	if err != nil {
		return d.errorResponse(err)
	}
	return backend.DataResponse{Frames: frames}
}

// frames converts a query result into data frames and attaches stats to the first frame.
func (d *Datasource) frames(res *lokiapi.QueryResponse, p plannedQuery, env queryEnv) (data.Frames, error) {
	executed := "Expr: " + p.Expr
	if p.Type == QueryTypeRange && !p.IsLogQuery {
		executed += "\nStep: " + formatDuration(p.Step)
	}
	mo := metricFrameOptions{RefID: p.RefID, Expr: p.Expr, LegendFormat: p.LegendFormat, Executed: executed}
	if p.Type == QueryTypeRange {
		mo.Step = p.Step
	}
	var frames data.Frames
	switch res.ResultType {
	case lokiapi.ResultStreams:
		if env.fromAlert {
			return nil, fmt.Errorf("%w: the query returned log lines", ErrNotMetricQuery)
		}
		frames = data.Frames{newLogsFrame(res.Streams, logsFrameOptions{
			RefID: p.RefID, Direction: p.Direction, Derived: d.settings.DerivedFields, Executed: executed,
		})}
	case lokiapi.ResultMatrix:
		frames = newMatrixFrames(res.Matrix, mo)
	case lokiapi.ResultVector:
		frames = newVectorFrames(res.Vector, mo)
	case lokiapi.ResultScalar:
		frames = newScalarFrames(res.Scalar, mo)
	}
	if len(frames) > 0 {
		frames[0].Meta.Stats = queryStats(res.Stats)
	}
	return frames, nil
}

// streamResponse answers a live (queryType stream) query with an empty logs frame whose
// channel Grafana subscribes to; RunStream then sends the lines.
func (d *Datasource) streamResponse(p plannedQuery, uid string) backend.DataResponse {
	if !p.IsLogQuery {
		return d.errorResponse(fmt.Errorf("%w: live tail needs a log query such as {app=\"api\"} |= \"error\", not a metric query", ErrInvalidQuery))
	}
	if uid == "" {
		return d.errorResponse(fmt.Errorf("%w: live tail needs the datasource UID in the request", ErrInvalidQuery))
	}
	key := d.channels.key(tailRequest{Expr: p.Expr, Limit: p.Limit})
	f := newEmptyLogsFrame(p.RefID)
	f.Meta.Channel = live.Channel{Scope: live.ScopeDatasource, Namespace: uid, Path: tailPathPrefix + key}.String()
	f.Meta.ExecutedQueryString = "Expr: " + p.Expr
	return backend.DataResponse{Frames: data.Frames{f}}
}
