package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/lode-logs/lode/pkg/plugin/internal/lokiapi"
)

// Resource paths served to the editor (GET /api/datasources/uid/<uid>/resources/<path>).
// Nothing else is proxied to lode.
const (
	ResourceLabels        = "labels"
	ResourceSeries        = "series"
	ResourceIndexStats    = "index/stats"
	ResourceIndexVolume   = "index/volume"
	ResourceVolumeRange   = "index/volume_range"
	ResourceValidate      = "validate"
	ResourceMetricsToLogs = "metrics-to-logs"
	// label values: "label/<name>/values"
)

// resourceRoute is one allowed lode endpoint: the query parameters passed through and the
// ones that must be present.
type resourceRoute struct {
	params   []string
	required []string
}

// lodeRoute returns the route for a pass-through path, with the lode path to call.
func lodeRoute(path string) (string, resourceRoute, bool) {
	timeParams := []string{"start", "end", "since"}
	switch path {
	case ResourceLabels:
		return path, resourceRoute{params: append(timeParams, "query")}, true
	case ResourceSeries:
		return path, resourceRoute{params: append(timeParams, "match[]"), required: []string{"match[]"}}, true
	case ResourceIndexStats:
		return path, resourceRoute{params: append(timeParams, "query"), required: []string{"query"}}, true
	case ResourceIndexVolume, ResourceVolumeRange:
		return path, resourceRoute{params: append(timeParams, "query", "limit", "step", "targetLabels", "aggregateBy"), required: []string{"query"}}, true
	}
	if name, ok := labelValuesPath(path); ok {
		return "label/" + name + "/values", resourceRoute{params: append(timeParams, "query")}, true
	}
	return "", resourceRoute{}, false
}

// labelValuesPath matches "label/<name>/values" with a valid label name.
func labelValuesPath(path string) (string, bool) {
	rest, ok := strings.CutPrefix(path, "label/")
	if !ok {
		return "", false
	}
	name, ok := strings.CutSuffix(rest, "/values")
	if !ok || !labelNameRE.MatchString(name) {
		return "", false
	}
	return name, true
}

// CallResource serves the editor's GET requests from an allow-list: labels, label values
// (optionally narrowed by a selector in "query"), series, index stats, volume and volume over time, query
// validation and the metrics-to-logs label mapping. Only listed query parameters reach lode;
// headers from the browser never do, so the tenant and credentials stay the datasource's.
func (d *Datasource) CallResource(ctx context.Context, req *backend.CallResourceRequest, sender backend.CallResourceResponseSender) error {
	path := strings.Trim(req.Path, "/")
	if req.Method != "" && req.Method != http.MethodGet {
		return sendError(sender, http.StatusMethodNotAllowed, fmt.Sprintf("method %s is not allowed: resources are read with GET", req.Method))
	}
	if d.settingsErr != nil {
		return sendError(sender, http.StatusBadRequest, d.settingsErr.Error())
	}
	query := url.Values{}
	if u, err := url.Parse(req.URL); err == nil {
		query = u.Query()
	}
	switch path {
	case ResourceValidate:
		return sendJSON(sender, http.StatusOK, validateQuery(query.Get("query")))
	case ResourceMetricsToLogs:
		res, err := d.metricsToLogs(ctx, query)
		if err != nil {
			return d.sendLodeError(sender, err)
		}
		return sendJSON(sender, http.StatusOK, res)
	}
	lodePath, route, ok := lodeRoute(path)
	if !ok {
		return sendError(sender, http.StatusNotFound, fmt.Sprintf("unknown resource %q: the plugin serves labels, label/<name>/values, series, index/stats, index/volume, index/volume_range, validate and metrics-to-logs", path))
	}
	params := url.Values{}
	for _, p := range route.params {
		for _, v := range query[p] {
			if v != "" { // an empty selector or time means "not given", as the editor sends it
				params.Add(p, v)
			}
		}
	}
	for _, p := range route.required {
		if len(params[p]) == 0 || params.Get(p) == "" {
			return sendError(sender, http.StatusBadRequest, fmt.Sprintf("parameter %q is required for %s", p, path))
		}
	}
	body, err := d.api.Get(ctx, lodePath, params)
	if err != nil {
		return d.sendLodeError(sender, err)
	}
	return sender.Send(&backend.CallResourceResponse{
		Status:  http.StatusOK,
		Headers: map[string][]string{"Content-Type": {"application/json"}},
		Body:    body,
	})
}

// sendLodeError answers with lode's status (or 502) and a described message.
func (d *Datasource) sendLodeError(sender backend.CallResourceResponseSender, err error) error {
	status := http.StatusBadGateway
	var se *lokiapi.StatusError
	switch {
	case errors.As(err, &se):
		status = se.Code
	case errors.Is(err, ErrInvalidQuery):
		status = http.StatusBadRequest
	}
	return sendError(sender, status, d.describe(err))
}

func sendError(sender backend.CallResourceResponseSender, status int, msg string) error {
	return sendJSON(sender, status, map[string]string{"error": msg})
}

func sendJSON(sender backend.CallResourceResponseSender, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode resource response: %w", err)
	}
	return sender.Send(&backend.CallResourceResponse{
		Status:  status,
		Headers: map[string][]string{"Content-Type": {"application/json"}},
		Body:    b,
	})
}
