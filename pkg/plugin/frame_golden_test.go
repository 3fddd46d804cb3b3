package plugin

import (
	"encoding/json"
	"flag"
	"strconv"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/grafana/grafana-plugin-sdk-go/experimental"
)

var update = flag.Bool("update", false, "rewrite the golden frames in testdata")

// derivedJSON configures two derived fields: a regex with an internal link and a label with
// an external link.
const derivedJSON = `{"derivedFields":[
	{"name":"traceID","matcherRegex":"traceID=(\\w+)","url":"${__value.raw}","datasourceUid":"tempo-uid","urlDisplayLabel":"View trace"},
	{"name":"traceLink","matcherType":"label","matcherRegex":"trace_id","url":"https://tracing.example/trace/${__value.raw}","targetBlank":true}]}`

// TestFramesFromRecordedResponses runs QueryData against recorded lode answers
// (testdata/*.json) and compares the frames with golden files (testdata/frames_*.jsonc,
// rewritten with -update).
func TestFramesFromRecordedResponses(t *testing.T) {
	from := time.Unix(1699990000, 0)
	to := time.Unix(1700000100, 0)
	for _, c := range []struct {
		name, file, query, jsonData string
		instant                     bool
	}{
		{name: "streams_empty", file: "streams_empty.json", query: `{"expr":"{app=\"none\"}"}`},
		{name: "streams_unicode", file: "streams_unicode.json", query: `{"expr":"{app=\"café\"}"}`},
		{name: "streams_long_line", file: "streams_long_line.json", query: `{"expr":"{app=\"big\"}"}`},
		{name: "streams_many", file: "streams_many.json", query: `{"expr":"{namespace=~\"ns-.*\"}","maxLines":500}`},
		{name: "streams_identical_ts", file: "streams_identical_ts.json", query: `{"expr":"{app=~\"a|b\"}"}`},
		{name: "streams_identical_ts_forward", file: "streams_identical_ts.json", query: `{"expr":"{app=~\"a|b\"}","direction":"forward"}`},
		{name: "streams_categorized_derived", file: "streams_categorized.json", query: `{"expr":"{app=\"api\"} | logfmt"}`, jsonData: derivedJSON},
		{name: "matrix_legend", file: "matrix.json", query: `{"expr":"sum by (app, level) (count_over_time({app=\"api\"} [$__auto]))","legendFormat":"{{app}} {{ level }}{{missing}}","step":"15s"}`},
		{name: "matrix_no_legend", file: "matrix.json", query: `{"expr":"sum by (app, level) (rate({app=\"api\"} [1m]))"}`},
		{name: "matrix_empty", file: "matrix_empty.json", query: `{"expr":"count_over_time({app=\"none\"} [1m])"}`},
		{name: "vector", file: "vector.json", query: `{"expr":"sum by (app) (count_over_time({app=~\".+\"} [$__auto]))","queryType":"instant"}`, instant: true},
		{name: "scalar", file: "scalar.json", query: `{"expr":"1+1","queryType":"instant"}`, instant: true},
		// Answers recorded from lode (categorised labels, real stats).
		{name: "lode_streams_logfmt", file: "lode_streams_logfmt.json", query: `{"expr":"{app=\"shop\"} | logfmt","maxLines":100}`, jsonData: derivedJSON},
		{name: "lode_matrix_by_level", file: "lode_matrix_by_level.json", query: `{"expr":"sum by (level) (count_over_time({app=\"shop\"}[1m]))","step":"60","legendFormat":"{{level}}"}`},
		{name: "lode_vector_by_level", file: "lode_vector_by_level.json", query: `{"expr":"sum by (level) (count_over_time({app=\"shop\"}[5m]))","queryType":"instant"}`, instant: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			lode := newFakeLode(t)
			path := "/loki/api/v1/query_range"
			if c.instant {
				path = "/loki/api/v1/query"
			}
			lode.replyFile(t, path, c.file)
			d := newTestDatasource(t, instance(lode.URL, c.jsonData, nil), Options{})
			resp := queryOne(t, d, dataQuery("A", c.query, from, to))
			if resp.Error != nil {
				t.Fatalf("query failed: %v", resp.Error)
			}
			checkFrameInvariants(t, resp.Frames)
			experimental.CheckGoldenJSONResponse(t, "testdata", "frames_"+c.name, &resp, *update)
		})
	}
}

// checkFrameInvariants asserts what must hold for every frame, whatever the golden files say.
func checkFrameInvariants(t *testing.T, frames data.Frames) {
	t.Helper()
	if len(frames) == 0 {
		t.Fatal("no frames")
	}
	for _, f := range frames {
		if f.RefID != "A" || f.Meta == nil {
			t.Fatalf("frame without refId or meta: %+v", f)
		}
		if f.Meta.Type != data.FrameTypeLogLines {
			continue
		}
		if f.Meta.PreferredVisualization != data.VisTypeLogs {
			t.Errorf("logs frame prefers %q", f.Meta.PreferredVisualization)
		}
		ids := map[string]bool{}
		for i := range f.Rows() {
			var ls map[string]string
			if err := json.Unmarshal(f.Fields[0].At(i).(json.RawMessage), &ls); err != nil {
				t.Fatalf("row %d labels are not a JSON object: %v", i, err)
			}
			ts := f.Fields[1].At(i).(time.Time)
			if ns := f.Fields[5].At(i).(string); ns != strconv.FormatInt(ts.UnixNano(), 10) {
				t.Errorf("row %d: tsNs %s differs from timestamp %d", i, ns, ts.UnixNano())
			}
			id := f.Fields[4].At(i).(string)
			if ids[id] {
				t.Errorf("row %d: id %s repeats", i, id)
			}
			ids[id] = true
		}
	}
}
