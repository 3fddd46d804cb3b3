package api

import (
	"context"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/engine"
	"github.com/lode-logs/lode/backend/index"
	"github.com/lode-logs/lode/backend/limits"
	"github.com/lode-logs/lode/backend/logql"
)

// TenantLimits gives the limits of a tenant (*limits.Overrides implements
// it). Tenant is called once per query, from any goroutine.
type TenantLimits interface {
	Tenant(id string) limits.Tenant
}

// queryLimits are the engine limits and the timeout of tenant's queries.
// A limit of 0 (unlimited) becomes the largest value, so that the engine's
// own defaults do not apply.
func (s *Server) queryLimits(tenant string) (engine.Limits, time.Duration) {
	if s.deps.Limits == nil {
		return engine.Limits{}, 0
	}
	t := s.deps.Limits.Tenant(tenant)
	unlimited := func(n int) int {
		if n <= 0 {
			return math.MaxInt
		}
		return n
	}
	l := engine.Limits{
		MaxEntriesLimitPerQuery: unlimited(t.MaxEntriesLimitPerQuery),
		MaxQuerySeries:          unlimited(t.MaxQuerySeries),
		MaxQueryRange:           time.Duration(t.MaxQueryLength),
	}
	if l.MaxQueryRange <= 0 {
		l.MaxQueryRange = math.MaxInt64
	}
	return l, time.Duration(t.QueryTimeout)
}

// handleQueryRange serves /loki/api/v1/query_range.
func (s *Server) handleQueryRange(w http.ResponseWriter, r *http.Request, tenant string) {
	if err := r.ParseForm(); err != nil {
		writeError(w, badRequest("invalid form: %v", err))
		return
	}
	p, err := s.rangeParams(r, tenant)
	if err != nil {
		writeError(w, err)
		return
	}
	s.runQuery(w, r, p)
}

// handleQuery serves /loki/api/v1/query (an instant query).
func (s *Server) handleQuery(w http.ResponseWriter, r *http.Request, tenant string) {
	if err := r.ParseForm(); err != nil {
		writeError(w, badRequest("invalid form: %v", err))
		return
	}
	p := engine.Params{Tenant: tenant, Query: r.Form.Get("query"), Instant: true}
	at, err := parseTime(r.Form.Get("time"), s.now())
	if err != nil {
		writeError(w, badRequest("invalid time: %v", err))
		return
	}
	p.Start, p.End = at, at
	if p.Limit, err = parseLimit(r); err != nil {
		writeError(w, err)
		return
	}
	if p.Direction, err = parseDirection(r); err != nil {
		writeError(w, err)
		return
	}
	s.runQuery(w, r, p)
}

func (s *Server) rangeParams(r *http.Request, tenant string) (engine.Params, error) {
	p := engine.Params{Tenant: tenant, Query: r.Form.Get("query")}
	var err error
	if p.Start, p.End, err = timeRange(r, s.now()); err != nil {
		return p, err
	}
	if p.Limit, err = parseLimit(r); err != nil {
		return p, err
	}
	if p.Direction, err = parseDirection(r); err != nil {
		return p, err
	}
	if p.Step, err = parseStep(r, p.Start, p.End); err != nil {
		return p, err
	}
	if iv := r.Form.Get("interval"); iv != "" {
		if p.Interval, err = parseDuration(iv); err != nil {
			return p, badRequest("invalid interval: %v", err)
		}
	}
	return p, nil
}

func (s *Server) runQuery(w http.ResponseWriter, r *http.Request, p engine.Params) {
	if p.Query == "" {
		writeError(w, badRequest("query parameter is required"))
		return
	}
	for _, f := range strings.Split(r.Header.Get("X-Loki-Response-Encoding-Flags"), ",") {
		if strings.TrimSpace(f) == "categorize-labels" {
			p.CategorizeLabels = true
		}
	}
	ctx := r.Context()
	lim, timeout := s.queryLimits(p.Tenant)
	p.Limits = lim
	// The tenant's timeout and the server's both apply: the shorter wins.
	for _, d := range []time.Duration{s.opts.MaxQueryTimeout, timeout} {
		if d > 0 {
			var cancel func()
			ctx, cancel = context.WithTimeout(ctx, d)
			defer cancel()
		}
	}
	res, err := s.deps.Engine.Query(ctx, p)
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(res.AppendJSON(nil))
}

// selectorParam parses the optional query= of the label endpoints into
// matchers.
func selectorParam(r *http.Request, name string) ([]*labels.Matcher, error) {
	q := r.Form.Get(name)
	if q == "" {
		return nil, nil
	}
	expr, err := logql.Parse(q)
	if err != nil {
		return nil, err
	}
	ms := logql.Matchers(expr)
	if len(ms) == 0 {
		return nil, nil
	}
	return ms[0], nil
}

// labelRange is the time range of the label endpoints: start/end/since as
// for queries, as int64 nanoseconds with an inclusive end.
func (s *Server) labelRange(r *http.Request) (int64, int64, error) {
	start, end, err := timeRange(r, s.now())
	if err != nil {
		return 0, 0, err
	}
	return start.UnixNano(), end.UnixNano(), nil
}

// selection parses the form of the label and index endpoints: the time
// range and the optional query= selector.
func (s *Server) selection(r *http.Request) (from, through int64, ms []*labels.Matcher, err error) {
	if err = r.ParseForm(); err != nil {
		return 0, 0, nil, badRequest("invalid form: %v", err)
	}
	if from, through, err = s.labelRange(r); err != nil {
		return 0, 0, nil, err
	}
	ms, err = selectorParam(r, "query")
	return from, through, ms, err
}

func (s *Server) handleLabels(w http.ResponseWriter, r *http.Request, tenant string) {
	from, through, ms, err := s.selection(r)
	if err != nil {
		writeError(w, err)
		return
	}
	names, err := s.deps.Querier.LabelNames(r.Context(), tenant, from, through, ms)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, dataResponse{Status: "success", Data: nonNil(names)})
}

func (s *Server) handleLabelValues(w http.ResponseWriter, r *http.Request, tenant string) {
	from, through, ms, err := s.selection(r)
	if err != nil {
		writeError(w, err)
		return
	}
	values, err := s.deps.Querier.LabelValues(r.Context(), tenant, r.PathValue("name"), from, through, ms)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, dataResponse{Status: "success", Data: nonNil(values)})
}

func (s *Server) handleSeries(w http.ResponseWriter, r *http.Request, tenant string) {
	if err := r.ParseForm(); err != nil {
		writeError(w, badRequest("invalid form: %v", err))
		return
	}
	from, through, err := s.labelRange(r)
	if err != nil {
		writeError(w, err)
		return
	}
	selectors := r.Form["match[]"]
	if len(selectors) == 0 {
		selectors = r.Form["match"]
	}
	if len(selectors) == 0 {
		writeError(w, badRequest("0 matchers provided: at least one match[] selector is required"))
		return
	}
	var all []index.Stream
	for _, sel := range selectors {
		expr, err := logql.Parse(sel)
		if err != nil {
			writeError(w, err)
			return
		}
		for _, ms := range logql.Matchers(expr) {
			streams, err := s.deps.Querier.Series(r.Context(), tenant, from, through, ms)
			if err != nil {
				writeError(w, err)
				return
			}
			all = append(all, streams...)
		}
	}
	slices.SortFunc(all, func(a, b index.Stream) int { return labels.Compare(a.Labels, b.Labels) })
	all = slices.CompactFunc(all, func(a, b index.Stream) bool { return a.Fingerprint == b.Fingerprint })
	out := make([]map[string]string, 0, len(all))
	for _, st := range all {
		out = append(out, st.Labels.Map())
	}
	writeJSON(w, dataResponse{Status: "success", Data: out})
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
