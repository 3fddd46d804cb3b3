package plugin

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/prometheus/prometheus/promql/parser"
)

// mappedMatcher is a metrics label matcher carried over to logs.
type mappedMatcher struct {
	Label string `json:"label"`
	Op    string `json:"op"`
	Value string `json:"value"`
	From  string `json:"from,omitempty"` // the metrics label, when the mapping renamed it
}

// droppedMatcher is a metrics label matcher that has no logs counterpart.
type droppedMatcher struct {
	Label  string `json:"label"`
	Reason string `json:"reason"`
}

// metricsToLogsResult is the answer of the metrics-to-logs resource.
type metricsToLogsResult struct {
	// Selector is the LogQL stream selector, or "" when no kept matcher selects anything.
	Selector string           `json:"selector"`
	Matchers []mappedMatcher  `json:"matchers"`
	Dropped  []droppedMatcher `json:"dropped"`
}

// metricsToLogs turns a Prometheus selector (param "selector", e.g. up{kubernetes_namespace="a"})
// into a LogQL stream selector: the metric name and internal labels are dropped, labels are
// renamed by the datasource's label mapping, and only labels lode knows in the time range
// (params start/end/since, as for labels) are kept.
func (d *Datasource) metricsToLogs(ctx context.Context, q url.Values) (*metricsToLogsResult, error) {
	sel := strings.TrimSpace(q.Get("selector"))
	if sel == "" {
		return nil, fmt.Errorf("%w: parameter \"selector\" is required, e.g. {job=\"api\"}", ErrInvalidQuery)
	}
	ms, err := parser.NewParser(parser.Options{EnableUnquotedUTF8Names: true}).ParseMetricSelector(sel)
	if err != nil {
		return nil, fmt.Errorf("%w: %q is not a Prometheus selector: %v", ErrInvalidQuery, sel, err)
	}
	params := url.Values{}
	for _, p := range []string{"start", "end", "since"} {
		if v := q.Get(p); v != "" {
			params.Set(p, v)
		}
	}
	body, err := d.api.Get(ctx, ResourceLabels, params)
	if err != nil {
		return nil, err
	}
	var labels struct {
		Data []string `json:"data"`
	}
	if err := json.Unmarshal(body, &labels); err != nil {
		return nil, fmt.Errorf("decode labels: %w", err)
	}
	known := make(map[string]bool, len(labels.Data))
	for _, l := range labels.Data {
		known[l] = true
	}
	res := &metricsToLogsResult{Matchers: []mappedMatcher{}, Dropped: []droppedMatcher{}}
	selects := false
	var parts []string
	for _, m := range ms {
		if strings.HasPrefix(m.Name, "__") {
			res.Dropped = append(res.Dropped, droppedMatcher{Label: m.Name, Reason: "the metric name and internal labels do not apply to logs"})
			continue
		}
		name, from := d.settings.logsLabel(m.Name), ""
		if name != m.Name {
			from = m.Name
		}
		if !known[name] {
			res.Dropped = append(res.Dropped, droppedMatcher{Label: m.Name, Reason: fmt.Sprintf("lode has no label %q in this time range", name)})
			continue
		}
		res.Matchers = append(res.Matchers, mappedMatcher{Label: name, Op: m.Type.String(), Value: m.Value, From: from})
		parts = append(parts, name+m.Type.String()+strconv.Quote(m.Value))
		selects = selects || !m.Matches("")
	}
	if selects {
		res.Selector = "{" + strings.Join(parts, ", ") + "}"
	}
	return res, nil
}

// logsLabel maps a metrics label name through the label mapping.
func (s Settings) logsLabel(metricsLabel string) string {
	for _, m := range s.LabelMapping {
		if m.MetricsLabel == metricsLabel {
			return m.LogsLabel
		}
	}
	return metricsLabel
}
