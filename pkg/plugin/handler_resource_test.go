package plugin

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

// callResource runs one resource call and returns its status and body.
func callResource(t *testing.T, d *Datasource, method, url string, header map[string][]string) (int, string) {
	t.Helper()
	path, _, _ := strings.Cut(url, "?")
	var res *backend.CallResourceResponse
	err := d.CallResource(context.Background(), &backend.CallResourceRequest{Path: path, Method: method, URL: url, Headers: header},
		backend.CallResourceResponseSenderFunc(func(r *backend.CallResourceResponse) error {
			res = r
			return nil
		}))
	if err != nil {
		t.Fatal(err)
	}
	if res == nil {
		t.Fatal("no response sent")
	}
	return res.Status, string(res.Body)
}

func TestCallResourcePassThrough(t *testing.T) {
	lode := newFakeLode(t)
	lode.reply("/loki/api/v1/labels", 200, `{"status":"success","data":["app","level"]}`)
	lode.reply("/loki/api/v1/label/app/values", 200, `{"status":"success","data":["api","web"]}`)
	lode.reply("/loki/api/v1/series", 200, `{"status":"success","data":[{"app":"api"}]}`)
	lode.reply("/loki/api/v1/index/stats", 200, `{"streams":2,"chunks":5,"entries":100,"bytes":2048}`)
	lode.reply("/loki/api/v1/index/volume", 200, `{"status":"success","data":{"resultType":"vector","result":[]}}`)
	lode.reply("/loki/api/v1/index/volume_range", 200, `{"status":"success","data":{"resultType":"matrix","result":[]}}`)
	d := newTestDatasource(t, instance(lode.URL, `{"tenant":"team-a"}`, nil), Options{})
	browser := map[string][]string{"X-Scope-OrgID": {"evil"}, "Authorization": {"Bearer stolen"}, "Cookie": {"grafana_session=x"}}
	for _, c := range []struct {
		name, url, lodePath, body string
		wantParams                map[string]string
		dropped                   []string
	}{
		{"labels", "labels?start=1&end=2&query=%7Bapp%3D%22x%22%7D&tenant=evil", "/loki/api/v1/labels", `{"status":"success","data":["app","level"]}`,
			map[string]string{"start": "1", "end": "2", "query": `{app="x"}`}, []string{"tenant"}},
		{"empty values dropped", "labels?start=1&query=&end=", "/loki/api/v1/labels", `{"status":"success","data":["app","level"]}`,
			map[string]string{"start": "1"}, []string{"query", "end"}},
		{"label values", "label/app/values?query=%7Bns%3D%22a%22%7D&limit=5", "/loki/api/v1/label/app/values", `{"status":"success","data":["api","web"]}`,
			map[string]string{"query": `{ns="a"}`}, []string{"limit"}},
		{"series", "series?match[]=%7Bapp%3D%22api%22%7D&start=1", "/loki/api/v1/series", `{"status":"success","data":[{"app":"api"}]}`,
			map[string]string{"match[]": `{app="api"}`, "start": "1"}, nil},
		{"index stats", "index/stats?query=%7Bapp%3D%22api%22%7D&start=1&end=2", "/loki/api/v1/index/stats", `{"streams":2,"chunks":5,"entries":100,"bytes":2048}`,
			map[string]string{"query": `{app="api"}`, "end": "2"}, nil},
		{"index volume", "/index/volume/?query=%7Bapp%3D%22api%22%7D&aggregateBy=labels", "/loki/api/v1/index/volume", `{"status":"success","data":{"resultType":"vector","result":[]}}`,
			map[string]string{"query": `{app="api"}`, "aggregateBy": "labels"}, nil},
		{"index volume range", "index/volume_range?query=%7Bapp%3D%22api%22%7D&step=60&targetLabels=level&direction=x", "/loki/api/v1/index/volume_range", `{"status":"success","data":{"resultType":"matrix","result":[]}}`,
			map[string]string{"query": `{app="api"}`, "step": "60", "targetLabels": "level"}, []string{"direction"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, body := callResource(t, d, "GET", c.url, browser)
			if status != 200 || body != c.body {
				t.Fatalf("%d %s", status, body)
			}
			req := lode.last(t)
			if req.Path != c.lodePath {
				t.Fatalf("lode path %s", req.Path)
			}
			for k, v := range c.wantParams {
				if req.Query.Get(k) != v {
					t.Errorf("param %s = %q, want %q", k, req.Query.Get(k), v)
				}
			}
			for _, k := range c.dropped {
				if req.Query.Has(k) {
					t.Errorf("param %s reached lode", k)
				}
			}
			if req.Header.Get("X-Scope-OrgID") != "team-a" || req.Header.Get("Authorization") != "" || req.Header.Get("Cookie") != "" {
				t.Errorf("browser headers reached lode: %v", req.Header)
			}
		})
	}
}

func TestCallResourceRefusals(t *testing.T) {
	lode := newFakeLode(t)
	lode.reply("/loki/api/v1/labels", 500, "index unavailable")
	d := newTestDatasource(t, instance(lode.URL, "", nil), Options{})
	for _, c := range []struct {
		name, method, url string
		status            int
		body              string
	}{
		{"unknown path", "GET", "push", 404, `{"error":"unknown resource \"push\": the plugin serves labels, label/\u003cname\u003e/values, series, index/stats, index/volume, index/volume_range, validate and metrics-to-logs"}`},
		{"path traversal", "GET", "label/../../push/values", 404, ""},
		{"bad label name", "GET", "label/a-b/values", 404, ""},
		{"POST", "POST", "labels", 405, `{"error":"method POST is not allowed: resources are read with GET"}`},
		{"series needs match", "GET", "series?start=1", 400, `{"error":"parameter \"match[]\" is required for series"}`},
		{"stats needs query", "GET", "index/stats", 400, `{"error":"parameter \"query\" is required for index/stats"}`},
		{"lode error", "GET", "labels", 500, `{"error":"lode returned 500 Internal Server Error: index unavailable"}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			n := len(lode.requests())
			status, body := callResource(t, d, c.method, c.url, nil)
			if status != c.status || (c.body != "" && body != c.body) {
				t.Fatalf("%d %s", status, body)
			}
			if c.status != 500 && len(lode.requests()) != n {
				t.Fatal("a refused call reached lode")
			}
		})
	}
}

func TestCallResourceValidate(t *testing.T) {
	d := newTestDatasource(t, instance("http://lode", "", nil), Options{})
	for _, c := range []struct {
		name, query string
		want        validationResult
	}{
		{"log query", `{app="api"} |= "x" | logfmt`, validationResult{Valid: true, Kind: "logs"}},
		{"metric query with variables", `sum by (level) (count_over_time({app="api"}[$__auto])) / $__range_s`, validationResult{Valid: true, Kind: "metric"}},
		{"braced variable", `rate({app="api"}[${__interval}])`, validationResult{Valid: true, Kind: "metric"}},
		{"empty", " ", validationResult{Error: "the query is empty", Message: "the query is empty", Line: 1, Column: 1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, body := callResource(t, d, "GET", "validate?query="+urlQueryEscape(c.query), nil)
			var got validationResult
			if status != 200 || json.Unmarshal([]byte(body), &got) != nil || got != c.want {
				t.Fatalf("%d %s, want %+v", status, body, c.want)
			}
		})
	}
	t.Run("error position", func(t *testing.T) {
		// The variable before the error keeps its length, so the column is the typed one.
		q := "sum(rate({app=\"api\"}[$__auto]))\n  | bad"
		_, body := callResource(t, d, "GET", "validate?query="+urlQueryEscape(q), nil)
		var got validationResult
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Fatal(err)
		}
		if got.Valid || got.Line != 2 || got.Column != 3 || got.Message == "" || !strings.HasPrefix(got.Error, "parse error at line 2, col 3: ") {
			t.Fatalf("%+v", got)
		}
	})
}

func TestCallResourceMetricsToLogs(t *testing.T) {
	lode := newFakeLode(t)
	lode.reply("/loki/api/v1/labels", 200, `{"status":"success","data":["namespace","app","pod"]}`)
	d := newTestDatasource(t, instance(lode.URL, `{"labelMapping":[{"metricsLabel":"kubernetes_namespace","logsLabel":"namespace"}]}`, nil), Options{})
	sel := `http_requests_total{kubernetes_namespace="prod", app=~"api|web", instance="10.0.0.1:80", pod!="x"}`
	status, body := callResource(t, d, "GET", "metrics-to-logs?start=5&selector="+urlQueryEscape(sel), nil)
	if status != 200 {
		t.Fatalf("%d %s", status, body)
	}
	var got metricsToLogsResult
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if got.Selector != `{namespace="prod", app=~"api|web", pod!="x"}` {
		t.Fatalf("selector %q", got.Selector)
	}
	if len(got.Matchers) != 3 || got.Matchers[0].From != "kubernetes_namespace" || len(got.Dropped) != 2 ||
		got.Dropped[0].Label != "instance" || got.Dropped[1].Label != "__name__" {
		t.Fatalf("%+v", got)
	}
	if lode.last(t).Query.Get("start") != "5" {
		t.Fatal("time range not passed to labels")
	}
	// Only empty-matching matchers left: no selector.
	_, body = callResource(t, d, "GET", "metrics-to-logs?selector="+urlQueryEscape(`{pod!="x", job="a"}`), nil)
	if err := json.Unmarshal([]byte(body), &got); err != nil || got.Selector != "" {
		t.Fatalf("%s", body)
	}
	status, body = callResource(t, d, "GET", "metrics-to-logs?selector="+urlQueryEscape(`{a=`), nil)
	if status != http.StatusBadRequest || !strings.Contains(body, "is not a Prometheus selector") {
		t.Fatalf("%d %s", status, body)
	}
}

func urlQueryEscape(s string) string {
	r := strings.NewReplacer("%", "%25", "&", "%26", "+", "%2B", " ", "%20", "#", "%23", "\n", "%0A", "=", "%3D", "?", "%3F")
	return r.Replace(s)
}
