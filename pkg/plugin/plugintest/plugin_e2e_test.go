package plugintest

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
)

const token = "e2e-token-6d1f0c2b9a"

// pluginBinary is the gpx_lode binary built once by TestMain for every test here.
var pluginBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gpx-lode-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if pluginBinary, err = BuildInto(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// settingsFor builds datasource settings. Grafana marks every save with a new Updated time,
// which is what makes the plugin rebuild its instance; different settings here get different
// times for the same reason.
func settingsFor(url, jsonData string, secure map[string]string) backend.DataSourceInstanceSettings {
	h := fnv.New32a()
	_, _ = h.Write([]byte(url + jsonData + fmt.Sprint(secure)))
	return backend.DataSourceInstanceSettings{
		ID: 1, UID: "lode-e2e", Name: "Lode", URL: url, JSONData: json.RawMessage(jsonData),
		DecryptedSecureJSONData: secure, Updated: time.Unix(1700000000+int64(h.Sum32()), 0),
	}
}

func query(refID, js string, from, to time.Time) backend.DataQuery {
	return backend.DataQuery{RefID: refID, JSON: json.RawMessage(js), TimeRange: backend.TimeRange{From: from, To: to},
		Interval: 10 * time.Second, MaxDataPoints: 500}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return c
}

// TestPluginOverGRPC launches the built plugin binary as Grafana does and drives every
// service against FakeLode.
func TestPluginOverGRPC(t *testing.T) {
	p := Launch(t, pluginBinary)
	lode := NewFakeLode(t)
	pc := Context(settingsFor(lode.URL, `{"tenant":"team-a","authType":"bearer"}`, map[string]string{"bearerToken": token}))
	from, to := time.Unix(1700000000, 0), time.Unix(1700003600, 0)

	t.Run("CheckHealth", func(t *testing.T) {
		lode.Reply("/loki/api/v1/labels", 200, `{"status":"success","data":["app","level"]}`)
		lode.Reply("/loki/api/v1/query_range", 200, `{"status":"success","data":{"resultType":"streams","result":[]}}`)
		res, err := p.CheckHealth(ctx(t), pc)
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != backend.HealthStatusOk || !strings.Contains(res.Message, `tenant "team-a" (2 labels in the last hour)`) {
			t.Fatalf("%v %s", res.Status, res.Message)
		}
		r := lode.Requests("/loki/api/v1/labels")[0]
		if r.Header.Get("X-Scope-OrgID") != "team-a" || r.Header.Get("Authorization") != "Bearer "+token {
			t.Fatalf("identity headers %v", r.Header)
		}
	})

	t.Run("QueryData logs, metric and error in one request", func(t *testing.T) {
		lode.Reply("/loki/api/v1/query_range", 200, `{"status":"success","data":{"resultType":"streams","result":[
			{"stream":{"app":"api","level":"error"},"values":[["1700000002000000000","boom"],["1700000001000000000","ünïcode ✓"]]}]}}`)
		lode.Reply("/loki/api/v1/query", 400, "parse error at line 1, col 6: syntax error: unexpected )")
		resp, err := p.QueryData(ctx(t), &backend.QueryDataRequest{PluginContext: pc, Queries: []backend.DataQuery{
			query("A", `{"expr":"{app=\"api\"}","maxLines":50}`, from, to),
			query("B", `{"expr":"sum(x))","queryType":"instant"}`, from, to),
		}})
		if err != nil {
			t.Fatal(err)
		}
		a := resp.Responses["A"]
		if a.Error != nil || len(a.Frames) != 1 || a.Frames[0].Meta.Type != data.FrameTypeLogLines || a.Frames[0].Rows() != 2 {
			t.Fatalf("A: %v %+v", a.Error, a.Frames)
		}
		if body := a.Frames[0].Fields[2]; body.At(0) != "boom" || body.At(1) != "ünïcode ✓" {
			t.Fatalf("lines %v %v", body.At(0), body.At(1))
		}
		if sev := a.Frames[0].Fields[3].At(0); sev != "error" {
			t.Fatalf("severity %v", sev)
		}
		b := resp.Responses["B"]
		if b.Error == nil || b.Error.Error() != "lode returned 400 Bad Request: parse error at line 1, col 6: syntax error: unexpected )" {
			t.Fatalf("B: %v", b.Error)
		}
	})

	t.Run("QueryData logs volume", func(t *testing.T) {
		lode.Reply("/loki/api/v1/query_range", 200, `{"status":"success","data":{"resultType":"matrix","result":[
			{"metric":{"level":"error"},"values":[[1700000000,"2"],[1700000010,"1"]]},{"metric":{"level":"info"},"values":[[1700000000,"7"]]}]}}`)
		resp, err := p.QueryData(ctx(t), &backend.QueryDataRequest{PluginContext: pc, Queries: []backend.DataQuery{
			query("V", `{"expr":"{app=\"api\"} |= \"x\"","supportingQueryType":"logsVolume"}`, from, to),
		}})
		if err != nil {
			t.Fatal(err)
		}
		v := resp.Responses["V"]
		if v.Error != nil || len(v.Frames) != 2 || v.Frames[0].Fields[1].Labels["level"] != "error" {
			t.Fatalf("volume: %v %+v", v.Error, v.Frames)
		}
		rs := lode.Requests("/loki/api/v1/query_range")
		if q := rs[len(rs)-1].Params; q.Get("query") != `sum by (level) (count_over_time({app="api"} |= "x" [10s]))` || q.Get("step") != "10" {
			t.Fatalf("volume request %v", q)
		}
	})

	t.Run("QueryData from an alert rule", func(t *testing.T) {
		resp, err := p.QueryData(ctx(t), &backend.QueryDataRequest{PluginContext: pc, Headers: map[string]string{"FromAlert": "true"},
			Queries: []backend.DataQuery{query("A", `{"expr":"{app=\"api\"}"}`, from, to)}})
		if err != nil {
			t.Fatal(err)
		}
		if e := resp.Responses["A"].Error; e == nil || !strings.HasPrefix(e.Error(), "alert rules need a metric query") {
			t.Fatalf("log query from an alert: %v", e)
		}
	})

	t.Run("CallResource", func(t *testing.T) {
		lode.Reply("/loki/api/v1/label/app/values", 200, `{"status":"success","data":["api","web"]}`)
		res, err := p.CallResource(ctx(t), &backend.CallResourceRequest{PluginContext: pc, Path: "label/app/values", Method: "GET",
			URL: "label/app/values?query=%7Blevel%3D%22error%22%7D", Headers: map[string][]string{"X-Scope-OrgID": {"other"}}})
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != 200 || string(res.Body) != `{"status":"success","data":["api","web"]}` {
			t.Fatalf("%d %s", res.Status, res.Body)
		}
		r := lode.Requests("/loki/api/v1/label/app/values")[0]
		if r.Params.Get("query") != `{level="error"}` || r.Header.Get("X-Scope-OrgID") != "team-a" {
			t.Fatalf("lode saw %v %v", r.Params, r.Header)
		}
		res, err = p.CallResource(ctx(t), &backend.CallResourceRequest{PluginContext: pc, Path: "validate", Method: "GET",
			URL: "validate?query=%7Bapp%3D%22api%22%7D+%7C+json+%7C%3D"})
		if err != nil {
			t.Fatal(err)
		}
		var v struct {
			Valid        bool
			Line, Column int
		}
		if err := json.Unmarshal(res.Body, &v); err != nil || v.Valid || v.Line != 1 || v.Column == 0 {
			t.Fatalf("validate: %s", res.Body)
		}
	})

	t.Run("RunStream", func(t *testing.T) {
		resp, err := p.QueryData(ctx(t), &backend.QueryDataRequest{PluginContext: pc, Queries: []backend.DataQuery{
			query("L", `{"expr":"{app=\"api\"}","queryType":"stream"}`, from, to),
		}})
		if err != nil || resp.Responses["L"].Error != nil {
			t.Fatalf("%v %v", err, resp.Responses["L"].Error)
		}
		channel := resp.Responses["L"].Frames[0].Meta.Channel
		path := strings.TrimPrefix(channel, "ds/lode-e2e/")
		sub, err := p.SubscribeStream(ctx(t), &backend.SubscribeStreamRequest{PluginContext: pc, Path: path})
		if err != nil || sub.Status != backend.SubscribeStreamStatusOK {
			t.Fatalf("subscribe %s: %v %v", channel, sub, err)
		}
		sctx, stop := context.WithCancel(ctx(t))
		packets, errc, err := p.RunStream(sctx, &backend.RunStreamRequest{PluginContext: pc, Path: path})
		if err != nil {
			t.Fatal(err)
		}
		lode.WaitTail(t)
		tail := lode.Requests("/loki/api/v1/tail")[0]
		if tail.Params.Get("query") != `{app="api"}` || tail.Header.Get("Authorization") != "Bearer "+token || tail.Header.Get("X-Scope-OrgID") != "team-a" {
			t.Fatalf("tail request %v %v", tail.Params, tail.Header)
		}
		lode.Push(map[string]string{"app": "api"}, time.Unix(1700000100, 0), "pushed after the stream started")
		lines := receiveLines(t, packets)
		if len(lines) != 1 || lines[0] != "pushed after the stream started" {
			t.Fatalf("lines %v", lines)
		}
		stop() // the last subscriber leaves
		select {
		case err := <-errc:
			if err != nil && !strings.Contains(err.Error(), "context canceled") {
				t.Fatalf("stream ended with %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("stream did not end")
		}
		deadline := time.Now().Add(20 * time.Second)
		for lode.OpenTails() != 0 {
			if time.Now().After(deadline) {
				t.Fatal("the plugin kept the tail open after the stream ended")
			}
			time.Sleep(10 * time.Millisecond)
		}
	})

	t.Run("secrets stay out of the logs", func(t *testing.T) {
		logs := p.Logs()
		if !strings.Contains(logs, "Live tail started") {
			t.Fatalf("plugin logs were not captured:\n%s", logs)
		}
		if strings.Contains(logs, token) {
			t.Fatalf("the token is in the plugin log:\n%s", logs)
		}
	})
	if p.Exited() {
		t.Fatal("the plugin exited")
	}
}

// receiveLines reads stream packets until one carries lines and returns them.
func receiveLines(t *testing.T, packets <-chan []byte) []string {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case b, ok := <-packets:
			if !ok {
				t.Fatal("stream closed before any line arrived")
			}
			var pk struct {
				Data struct {
					Values []json.RawMessage `json:"values"`
				} `json:"data"`
			}
			if err := json.Unmarshal(b, &pk); err != nil || len(pk.Data.Values) < 3 {
				t.Fatalf("packet %s: %v", b, err)
			}
			var lines []string
			if err := json.Unmarshal(pk.Data.Values[2], &lines); err != nil {
				t.Fatal(err)
			}
			if len(lines) > 0 {
				return lines
			}
		case <-timeout:
			t.Fatal("no line arrived on the stream")
		}
	}
}

// TestPluginAgainstLode runs the plugin binary against a real lode (built from
// ./backend/cmd/lode) with data pushed into it: health, log, metric and volume queries, a
// query error, label values and a live tail of lines pushed after it started. -short skips it.
func TestPluginAgainstLode(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs lode; skipped with -short")
	}
	lode := StartLode(t)
	now := time.Now().Truncate(time.Second)
	var values []string
	for i := range 30 {
		values = append(values, fmt.Sprintf(`["%d","line %02d level=%s"]`, now.Add(time.Duration(i-60)*time.Second).UnixNano(), i, []string{"info", "error"}[i%2]))
	}
	push := fmt.Sprintf(`{"streams":[{"stream":{"app":"shop","level":"info"},"values":[%s]},{"stream":{"app":"shop","level":"error"},"values":[%s]}]}`,
		strings.Join(values[:15], ","), strings.Join(values[15:], ","))
	if err := lode.PushJSON("", push); err != nil {
		t.Fatal(err)
	}
	p := Launch(t, pluginBinary)
	pc := Context(settingsFor(lode.URL, `{}`, nil))
	from, to := now.Add(-10*time.Minute), now.Add(time.Minute)

	res, err := p.CheckHealth(ctx(t), pc)
	if err != nil || res.Status != backend.HealthStatusOk || !strings.HasPrefix(res.Message, "Data source is working") {
		t.Fatalf("health: %v %v", res, err)
	}
	resp, err := p.QueryData(ctx(t), &backend.QueryDataRequest{PluginContext: pc, Queries: []backend.DataQuery{
		query("logs", `{"expr":"{app=\"shop\"}","maxLines":100}`, from, to),
		query("metric", `{"expr":"sum by (level) (count_over_time({app=\"shop\"} [1m]))","legendFormat":"{{level}}"}`, from, to),
		query("volume", `{"expr":"{app=\"shop\"}","supportingQueryType":"logsVolume"}`, from, to),
		query("bad", `{"expr":"{app=\"shop\"} |"}`, from, to),
	}})
	if err != nil {
		t.Fatal(err)
	}
	bad := resp.Responses["bad"]
	delete(resp.Responses, "bad")
	if bad.Error == nil || !strings.HasPrefix(bad.Error.Error(), "lode returned 400 Bad Request: parse error at line 1, col ") {
		t.Fatalf("bad query: %v", bad.Error)
	}
	for refID, r := range resp.Responses {
		if r.Error != nil {
			t.Fatalf("%s: %v\nlode log:\n%s", refID, r.Error, lode.Log())
		}
	}
	logs := resp.Responses["logs"].Frames[0]
	if logs.Rows() != 30 || logs.Fields[2].At(0) != "line 29 level=error" {
		t.Fatalf("logs: %d rows, first %v", logs.Rows(), logs.Fields[2].At(0))
	}
	for _, refID := range []string{"metric", "volume"} {
		levels := map[string]bool{}
		for _, f := range resp.Responses[refID].Frames {
			if len(f.Fields) == 2 {
				levels[f.Fields[1].Labels["level"]] = true
			}
		}
		if !levels["info"] || !levels["error"] {
			t.Fatalf("%s: series by level %v", refID, levels)
		}
	}
	lr, err := p.CallResource(ctx(t), &backend.CallResourceRequest{PluginContext: pc, Path: "label/app/values", Method: "GET", URL: "label/app/values"})
	if err != nil || lr.Status != 200 || !strings.Contains(string(lr.Body), `"shop"`) {
		t.Fatalf("label values: %v %+v", err, lr)
	}

	sctx, stop := context.WithCancel(ctx(t))
	defer stop()
	packets, errc, err := p.RunStream(sctx, &backend.RunStreamRequest{PluginContext: pc, Path: "tail/x", Data: json.RawMessage(`{"expr":"{app=\"live\"}"}`)})
	if err != nil {
		t.Fatal(err)
	}
	lines := linesOf(packets)
	// The tail connects asynchronously: push fresh lines until one arrives.
	pushUntilSeen(t, lode, "before", lines)
	// lode restarts under the open tail: the plugin reconnects with backoff.
	lode.Restart()
	pushUntilSeen(t, lode, "after restart", lines)
	stop()
	select {
	case <-errc:
	case <-time.After(20 * time.Second):
		t.Fatal("the stream did not end when the subscriber left")
	}
}

// linesOf decodes the body column of every packet into a channel that closes with the stream.
func linesOf(packets <-chan []byte) <-chan string {
	out := make(chan string, 1024)
	go func() {
		defer close(out)
		for b := range packets {
			var pk struct {
				Data struct {
					Values []json.RawMessage `json:"values"`
				} `json:"data"`
			}
			var lines []string
			if json.Unmarshal(b, &pk) != nil || len(pk.Data.Values) < 3 || json.Unmarshal(pk.Data.Values[2], &lines) != nil {
				out <- fmt.Sprintf("undecodable packet %s", b)
				continue
			}
			for _, l := range lines {
				out <- l
			}
		}
	}()
	return out
}

// pushUntilSeen pushes "<prefix> <n>" lines to lode until one of them comes out of the tail.
func pushUntilSeen(t *testing.T, lode *Lode, prefix string, lines <-chan string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for i := 0; time.Now().Before(deadline); i++ {
		body := fmt.Sprintf(`{"streams":[{"stream":{"app":"live"},"values":[["%d","%s %d"]]}]}`, time.Now().UnixNano(), prefix, i)
		if err := lode.PushJSON("", body); err != nil {
			t.Fatal(err)
		}
		wait := time.After(250 * time.Millisecond)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("the live tail ended before a %q line arrived", prefix)
				}
				if strings.HasPrefix(l, "undecodable") {
					t.Fatal(l)
				}
				if strings.HasPrefix(l, prefix+" ") {
					return
				}
				continue
			case <-wait:
			}
			break
		}
	}
	t.Fatalf("no %q line came out of the live tail\nlode log:\n%s", prefix, lode.Log())
}

// TestPluginTenantsAgainstLode runs lode with auth on: the tenant of the datasource settings
// is the only one the plugin ever uses, and the health check says when it is missing or has
// no data. -short skips it.
func TestPluginTenantsAgainstLode(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs lode; skipped with -short")
	}
	lode := StartLode(t, "-auth.enabled=true")
	now := time.Now().Truncate(time.Second)
	push := fmt.Sprintf(`{"streams":[{"stream":{"app":"billing"},"values":[["%d","invoice sent"]]}]}`, now.Add(-time.Minute).UnixNano())
	if err := lode.PushJSON("team-a", push); err != nil {
		t.Fatal(err)
	}
	p := Launch(t, pluginBinary)
	for _, c := range []struct {
		tenant string
		ok     bool
		want   string
	}{
		{"", false, "lode needs a tenant (401 Unauthorized)"},
		{"team-b", true, `Connected to lode at ` + lode.URL + `, but tenant "team-b" has no logs in the last hour`},
		{"team-a", true, "Data source is working"},
	} {
		t.Run("health/"+c.tenant, func(t *testing.T) {
			res, err := p.CheckHealth(ctx(t), Context(settingsFor(lode.URL, `{"tenant":"`+c.tenant+`"}`, nil)))
			if err != nil {
				t.Fatal(err)
			}
			if (res.Status == backend.HealthStatusOk) != c.ok || !strings.HasPrefix(res.Message, c.want) {
				t.Fatalf("%v %s", res.Status, res.Message)
			}
		})
	}
	// A browser header cannot switch the tenant of a resource call.
	pc := Context(settingsFor(lode.URL, `{"tenant":"team-b"}`, nil))
	res, err := p.CallResource(ctx(t), &backend.CallResourceRequest{PluginContext: pc, Path: "labels", Method: "GET", URL: "labels",
		Headers: map[string][]string{"X-Scope-OrgID": {"team-a"}}})
	if err != nil || res.Status != 200 || strings.Contains(string(res.Body), "app") {
		t.Fatalf("team-b saw team-a's labels: %v %d %s", err, res.Status, res.Body)
	}
	resp, err := p.QueryData(ctx(t), &backend.QueryDataRequest{PluginContext: Context(settingsFor(lode.URL, `{"tenant":"team-a"}`, nil)),
		Queries: []backend.DataQuery{query("A", `{"expr":"{app=\"billing\"}","tenant":"team-b"}`, now.Add(-time.Hour), now)}})
	if err != nil || resp.Responses["A"].Error != nil || resp.Responses["A"].Frames[0].Rows() != 1 {
		t.Fatalf("team-a query: %v %+v", err, resp.Responses["A"])
	}
}
