package api

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/querier"
)

// IndexQuerier answers /index/stats, /index/volume and /index/volume_range
// (implemented by *querier.Querier).
type IndexQuerier interface {
	IndexStats(ctx context.Context, tenant string, from, through int64, ms []*labels.Matcher) (querier.IndexStats, error)
	Volume(ctx context.Context, sel querier.VolumeSelect) ([]querier.Volume, error)
}

func (s *Server) handleIndexStats(w http.ResponseWriter, r *http.Request, tenant string) {
	from, through, ms, err := s.selection(r)
	if err != nil {
		writeError(w, err)
		return
	}
	st, err := s.deps.Index.IndexStats(r.Context(), tenant, from, through, ms)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, st)
}

// volumeSelect parses the form of /index/volume and /index/volume_range:
// the selector (required), time range, limit (default 100), targetLabels
// and aggregateBy (series or labels).
func (s *Server) volumeSelect(r *http.Request, tenant string) (querier.VolumeSelect, error) {
	from, through, ms, err := s.selection(r)
	if err != nil {
		return querier.VolumeSelect{}, err
	}
	if len(ms) == 0 {
		return querier.VolumeSelect{}, badRequest("query parameter is required")
	}
	sel := querier.VolumeSelect{Tenant: tenant, From: from, Through: through, Matchers: ms, Limit: 100}
	if l := r.Form.Get("limit"); l != "" {
		if sel.Limit, err = strconv.Atoi(l); err != nil || sel.Limit <= 0 {
			return querier.VolumeSelect{}, badRequest("limit must be a positive value")
		}
	}
	if t := r.Form.Get("targetLabels"); t != "" {
		for _, name := range strings.Split(t, ",") {
			if name = strings.TrimSpace(name); name != "" {
				sel.TargetLabels = append(sel.TargetLabels, name)
			}
		}
	}
	switch a := r.Form.Get("aggregateBy"); a {
	case "", "series":
	case "labels":
		sel.ByLabel = true
	default:
		return querier.VolumeSelect{}, badRequest("invalid aggregateBy %q: must be series or labels", a)
	}
	return sel, nil
}

// handleVolume serves /index/volume: Loki's vector of bytes per group,
// stamped with the end of the range.
func (s *Server) handleVolume(w http.ResponseWriter, r *http.Request, tenant string) {
	sel, err := s.volumeSelect(r, tenant)
	if err != nil {
		writeError(w, err)
		return
	}
	vols, err := s.deps.Index.Volume(r.Context(), sel)
	if err != nil {
		writeError(w, err)
		return
	}
	type sample struct {
		Metric map[string]string `json:"metric"`
		Value  [2]any            `json:"value"`
	}
	res := make([]sample, 0, len(vols))
	ts := float64(sel.Through) / 1e9
	for _, v := range vols {
		res = append(res, sample{Metric: v.Labels.Map(), Value: [2]any{ts, strconv.FormatUint(v.Bytes, 10)}})
	}
	writeJSON(w, dataResponse{Status: "success", Data: map[string]any{"resultType": "vector", "result": res}})
}

// handleVolumeRange serves /index/volume_range: Loki's matrix of bytes per
// group and step (steps without bytes are left out).
func (s *Server) handleVolumeRange(w http.ResponseWriter, r *http.Request, tenant string) {
	sel, err := s.volumeSelect(r, tenant)
	if err != nil {
		writeError(w, err)
		return
	}
	step, err := parseStep(r, time.Unix(0, sel.From), time.Unix(0, sel.Through))
	if err != nil {
		writeError(w, err)
		return
	}
	sel.Step = int64(step)
	vols, err := s.deps.Index.Volume(r.Context(), sel)
	if err != nil {
		writeError(w, err)
		return
	}
	type series struct {
		Metric map[string]string `json:"metric"`
		Values [][2]any          `json:"values"`
	}
	res := make([]series, 0, len(vols))
	for _, v := range vols {
		out := series{Metric: v.Labels.Map(), Values: [][2]any{}}
		for k, b := range v.Steps {
			if b > 0 {
				ts := float64(sel.From+int64(k)*sel.Step) / 1e9
				out.Values = append(out.Values, [2]any{ts, strconv.FormatUint(b, 10)})
			}
		}
		res = append(res, out)
	}
	writeJSON(w, dataResponse{Status: "success", Data: map[string]any{"resultType": "matrix", "result": res}})
}
