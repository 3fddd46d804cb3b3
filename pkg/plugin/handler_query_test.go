package plugin

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
)

const emptyStreams = `{"status":"success","data":{"resultType":"streams","result":[]}}`

var (
	t0 = time.Unix(1700000000, 0)
	t1 = t0.Add(time.Hour)
)

func TestQueryDataSendsLokiParameters(t *testing.T) {
	lode := newFakeLode(t)
	lode.reply("/loki/api/v1/query_range", 200, emptyStreams)
	d := newTestDatasource(t, instance(lode.URL, `{"tenant":"team-a","maxLines":250}`, nil), Options{})
	r := queryOne(t, d, dataQuery("A", `{"expr":"{app=\"api\"} |= \"GET\"","direction":"forward"}`, t0, t1))
	if r.Error != nil {
		t.Fatal(r.Error)
	}
	q := lode.last(t)
	for k, want := range map[string]string{
		"query": `{app="api"} |= "GET"`, "limit": "250", "direction": "forward",
		"start": "1700000000000000000", "end": "1700003600000000000",
	} {
		if got := q.Query.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if q.Query.Has("step") {
		t.Errorf("a log query sent a step: %s", q.Query.Get("step"))
	}
	if q.Header.Get("X-Scope-OrgID") != "team-a" {
		t.Errorf("tenant header %q", q.Header.Get("X-Scope-OrgID"))
	}
}

func TestQueryDataMetricStep(t *testing.T) {
	lode := newFakeLode(t)
	lode.replyFile(t, "/loki/api/v1/query_range", "matrix.json")
	d := newTestDatasource(t, instance(lode.URL, "", nil), Options{})
	r := queryOne(t, d, dataQuery("A", `{"expr":"sum(rate({app=\"api\"}[$__auto]))","step":"2m"}`, t0, t1))
	if r.Error != nil {
		t.Fatal(r.Error)
	}
	q := lode.last(t)
	if q.Query.Get("step") != "120" || q.Query.Get("query") != `sum(rate({app="api"}[2m]))` {
		t.Fatalf("step %q query %q", q.Query.Get("step"), q.Query.Get("query"))
	}
	if got := r.Frames[0].Fields[0].Config.Interval; got != 120000 {
		t.Fatalf("time field interval %v, want 120000 ms", got)
	}
}

// TestQueryDataErrorsArePerQuery: a lode error fails its own query with lode's message and
// leaves the other queries of the request alone.
func TestQueryDataErrorsArePerQuery(t *testing.T) {
	lode := newFakeLode(t)
	lode.handle("/loki/api/v1/query_range", func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.FormValue("query"), "bad") {
			http.Error(w, "parse error at line 1, col 9: syntax error: unexpected IDENTIFIER", http.StatusBadRequest)
			return
		}
		_, _ = w.Write([]byte(emptyStreams))
	})
	d := newTestDatasource(t, instance(lode.URL, "", nil), Options{})
	resp, err := d.QueryData(context.Background(), &backend.QueryDataRequest{Queries: []backend.DataQuery{
		dataQuery("A", `{"expr":"{a=\"b\"} bad"}`, t0, t1),
		dataQuery("B", `{"expr":"{a=\"b\"}"}`, t0, t1),
		dataQuery("C", `{"expr":""}`, t0, t1),
	}})
	if err != nil {
		t.Fatal(err)
	}
	a, b, c := resp.Responses["A"], resp.Responses["B"], resp.Responses["C"]
	if a.Error == nil || a.Error.Error() != "lode returned 400 Bad Request: parse error at line 1, col 9: syntax error: unexpected IDENTIFIER" || a.Status != backend.StatusBadRequest || a.ErrorSource != backend.ErrorSourceDownstream {
		t.Fatalf("A: %v (status %d, source %s)", a.Error, a.Status, a.ErrorSource)
	}
	if b.Error != nil || len(b.Frames) != 1 {
		t.Fatalf("B: %v", b.Error)
	}
	if c.Error == nil || !strings.Contains(c.Error.Error(), "the query is empty") {
		t.Fatalf("C: %v", c.Error)
	}
}

func TestQueryDataUnreachable(t *testing.T) {
	lode := newFakeLode(t)
	u := lode.URL
	lode.Close()
	d := newTestDatasource(t, instance(u, "", nil), Options{})
	r := queryOne(t, d, dataQuery("A", `{"expr":"{a=\"b\"}"}`, t0, t1))
	if r.Error == nil || r.Error.Error() != "cannot reach lode at "+u+": connection refused; check the URL and that lode is running" || r.Status != backend.StatusBadGateway {
		t.Fatalf("got %v (%d)", r.Error, r.Status)
	}
}

func TestQueryDataInvalidSettings(t *testing.T) {
	d, err := New(instance("", "", nil), Options{Logger: &captureLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	r := queryOne(t, d, dataQuery("A", `{"expr":"{a=\"b\"}"}`, t0, t1))
	if r.Error == nil || !strings.Contains(r.Error.Error(), "URL is empty") || r.Status != backend.StatusBadRequest {
		t.Fatalf("got %v", r.Error)
	}
}

func TestQueryDataFromAlert(t *testing.T) {
	lode := newFakeLode(t)
	lode.replyFile(t, "/loki/api/v1/query_range", "matrix.json")
	d := newTestDatasource(t, instance(lode.URL, "", nil), Options{})
	run := func(expr string) backend.DataResponse {
		resp, err := d.QueryData(context.Background(), &backend.QueryDataRequest{
			Headers: map[string]string{backend.FromAlertHeaderName: "true"},
			Queries: []backend.DataQuery{dataQuery("A", `{"expr":`+jsonString(expr)+`}`, t0, t1)},
		})
		if err != nil {
			t.Fatal(err)
		}
		return resp.Responses["A"]
	}
	n := len(lode.requests())
	r := run(`{app="api"}`)
	if r.Error == nil || !strings.HasPrefix(r.Error.Error(), `alert rules need a metric query: {app="api"} returns log lines`) {
		t.Fatalf("log query in an alert: %v", r.Error)
	}
	if len(lode.requests()) != n {
		t.Fatal("a log query from an alert was sent to lode")
	}
	r = run(`sum(count_over_time({app="api"}[5m]))`)
	if r.Error != nil {
		t.Fatal(r.Error)
	}
	for _, f := range r.Frames {
		if f.Meta.Type != data.FrameTypeTimeSeriesMulti {
			t.Fatalf("alert frame type %s", f.Meta.Type)
		}
	}
	// A metric-looking query that still returns streams is refused too.
	lode.reply("/loki/api/v1/query_range", 200, emptyStreams)
	if r := run(`sum(count_over_time({app="api"}[5m]))`); r.Error == nil {
		t.Fatal("streams accepted for an alert")
	}
}

func TestQueryDataStreamChannel(t *testing.T) {
	d := newTestDatasource(t, instance("http://lode:3100", "", nil), Options{})
	r := queryOne(t, d, dataQuery("A", `{"expr":"{app=\"api\"} |= \"error\"","queryType":"stream","maxLines":50}`, t0, t1))
	if r.Error != nil {
		t.Fatal(r.Error)
	}
	ch := r.Frames[0].Meta.Channel
	prefix := "ds/lode-uid/tail/q"
	if !strings.HasPrefix(ch, prefix) {
		t.Fatalf("channel %q", ch)
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(ch, prefix))
	if err != nil || string(b) != `{"expr":"{app=\"api\"} |= \"error\"","limit":50}` {
		t.Fatalf("channel key decodes to %s (%v)", b, err)
	}
	// A long query gets a hash key that this instance remembers.
	long := `{app="api"} |= "` + strings.Repeat("x", 300) + `"`
	r = queryOne(t, d, dataQuery("A", `{"expr":`+jsonString(long)+`,"queryType":"stream"}`, t0, t1))
	path := strings.TrimPrefix(r.Frames[0].Meta.Channel, "ds/lode-uid/")
	if !strings.HasPrefix(path, "tail/h") || len(path) > 100 {
		t.Fatalf("long query channel path %q", path)
	}
	got, err := d.channels.lookup(path, nil)
	if err != nil || got.Expr != long {
		t.Fatalf("lookup: %+v %v", got, err)
	}
	// Metric queries cannot be tailed.
	if r := queryOne(t, d, dataQuery("A", `{"expr":"rate({a=\"b\"}[1m])","queryType":"stream"}`, t0, t1)); r.Error == nil {
		t.Fatal("metric query accepted for live tail")
	}
}

// TestQueryDataConcurrencyBound holds every request at lode until the test releases it, and
// checks that exactly queryConcurrency requests are ever in flight together.
func TestQueryDataConcurrencyBound(t *testing.T) {
	const limit, total = 3, 10
	var mu sync.Mutex
	inflight, peak := 0, 0
	gate := make(chan struct{})
	lode := newFakeLode(t)
	lode.handle("/loki/api/v1/query_range", func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		inflight++
		peak = max(peak, inflight)
		mu.Unlock()
		<-gate
		mu.Lock()
		inflight--
		mu.Unlock()
		_, _ = w.Write([]byte(emptyStreams))
	})
	d := newTestDatasource(t, instance(lode.URL, `{"queryConcurrency":3}`, nil), Options{})
	var qs []backend.DataQuery
	for i := range total {
		qs = append(qs, dataQuery(string(rune('A'+i)), `{"expr":"{a=\"b\"}"}`, t0, t1))
	}
	done := make(chan *backend.QueryDataResponse)
	go func() {
		resp, _ := d.QueryData(context.Background(), &backend.QueryDataRequest{Queries: qs})
		done <- resp
	}()
	for released := 0; released < total; released++ {
		want := min(limit, total-released)
		deadline := time.Now().Add(10 * time.Second)
		for {
			mu.Lock()
			n := inflight
			mu.Unlock()
			if n == want {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d requests in flight, want %d", n, want)
			}
			time.Sleep(time.Millisecond)
		}
		gate <- struct{}{}
	}
	resp := <-done
	if peak != limit {
		t.Fatalf("peak concurrency %d, want %d", peak, limit)
	}
	if len(resp.Responses) != total {
		t.Fatalf("%d responses", len(resp.Responses))
	}
}

func TestQueryDataLogsVolumeAndSample(t *testing.T) {
	lode := newFakeLode(t)
	lode.replyFile(t, "/loki/api/v1/query_range", "matrix.json")
	d := newTestDatasource(t, instance(lode.URL, "", nil), Options{})
	r := queryOne(t, d, dataQuery("A", `{"expr":"{app=\"api\"} |= \"x\"","supportingQueryType":"logsVolume"}`, t0, t1))
	if r.Error != nil {
		t.Fatal(r.Error)
	}
	if got := lode.last(t).Query.Get("query"); got != `sum by (level) (count_over_time({app="api"} |= "x" [15s]))` {
		t.Fatalf("volume query %q", got)
	}
	lode.replyFile(t, "/loki/api/v1/query_range", "streams_many.json")
	r = queryOne(t, d, dataQuery("A", `{"expr":"{app=\"api\"}","supportingQueryType":"logsSample"}`, t0, t1))
	if r.Error != nil || r.Frames[0].Meta.Type != data.FrameTypeLogLines {
		t.Fatalf("sample: %v", r.Error)
	}
	if got := lode.last(t).Query.Get("limit"); got != "100" {
		t.Fatalf("sample limit %q", got)
	}
}

func TestLogIDsAreStable(t *testing.T) {
	lode := newFakeLode(t)
	lode.replyFile(t, "/loki/api/v1/query_range", "streams_many.json")
	d := newTestDatasource(t, instance(lode.URL, "", nil), Options{})
	ids := func(direction string) map[string]string {
		r := queryOne(t, d, dataQuery("A", `{"expr":"{a=\"b\"}","direction":"`+direction+`"}`, t0, t1))
		f := r.Frames[0]
		out := map[string]string{}
		for i := range f.Rows() {
			out[f.Fields[4].At(i).(string)] = f.Fields[2].At(i).(string)
		}
		return out
	}
	a, b := ids("backward"), ids("forward")
	if len(a) != 120 || len(b) != 120 {
		t.Fatalf("%d and %d distinct ids, want 120", len(a), len(b))
	}
	for id, line := range a {
		if b[id] != line {
			t.Fatalf("id %s names %q in one query and %q in the other", id, line, b[id])
		}
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
