package api

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/querier"
)

// IndexQuerier answers /index/stats and /index/volume (implemented by
// *querier.Querier).
type IndexQuerier interface {
	IndexStats(ctx context.Context, tenant string, from, through int64, ms []*labels.Matcher) (querier.IndexStats, error)
	Volume(ctx context.Context, tenant string, from, through int64, ms []*labels.Matcher, by []string, limit int) ([]querier.Volume, error)
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

// handleVolume serves /index/volume and /index/volume_range as Loki's
// vector of bytes per label set (targetLabels narrows the grouping).
func (s *Server) handleVolume(w http.ResponseWriter, r *http.Request, tenant string) {
	from, through, ms, err := s.selection(r)
	if err != nil {
		writeError(w, err)
		return
	}
	if len(ms) == 0 {
		writeError(w, badRequest("query parameter is required"))
		return
	}
	limit := 100
	if l := r.Form.Get("limit"); l != "" {
		if limit, err = strconv.Atoi(l); err != nil || limit <= 0 {
			writeError(w, badRequest("limit must be a positive value"))
			return
		}
	}
	var by []string
	if t := r.Form.Get("targetLabels"); t != "" {
		by = strings.Split(t, ",")
	}
	vols, err := s.deps.Index.Volume(r.Context(), tenant, from, through, ms, by, limit)
	if err != nil {
		writeError(w, err)
		return
	}
	type sample struct {
		Metric map[string]string `json:"metric"`
		Value  [2]any            `json:"value"`
	}
	res := make([]sample, 0, len(vols))
	ts := float64(through) / 1e9
	for _, v := range vols {
		res = append(res, sample{Metric: v.Labels.Map(), Value: [2]any{ts, strconv.FormatUint(v.Bytes, 10)}})
	}
	writeJSON(w, dataResponse{Status: "success", Data: map[string]any{"resultType": "vector", "result": res}})
}
