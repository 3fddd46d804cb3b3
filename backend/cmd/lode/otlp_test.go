package main

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	collogs "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	common "go.opentelemetry.io/proto/otlp/common/v1"
	logs "go.opentelemetry.io/proto/otlp/logs/v1"
	resource "go.opentelemetry.io/proto/otlp/resource/v1"
	"google.golang.org/protobuf/proto"

	"github.com/lode-logs/lode/backend/internal/testutil/lodetest"
)

// TestOTLPLogs exports logs as an OpenTelemetry collector's otlphttp
// exporter does (protobuf, then JSON) and reads them back by their
// resource labels and structured metadata.
func TestOTLPLogs(t *testing.T) {
	p := lodetest.Start(t, lodetest.Options{})
	ts := time.Now().Add(-time.Minute)
	kv := func(k, v string) *common.KeyValue {
		return &common.KeyValue{Key: k, Value: &common.AnyValue{Value: &common.AnyValue_StringValue{StringValue: v}}}
	}
	export := &collogs.ExportLogsServiceRequest{ResourceLogs: []*logs.ResourceLogs{{
		Resource: &resource.Resource{Attributes: []*common.KeyValue{kv("service.name", "checkout"), kv("k8s.namespace.name", "shop"), kv("host.name", "node-1")}},
		ScopeLogs: []*logs.ScopeLogs{{LogRecords: []*logs.LogRecord{
			{TimeUnixNano: uint64(ts.UnixNano()), Body: &common.AnyValue{Value: &common.AnyValue_StringValue{StringValue: "order placed"}},
				SeverityText: "INFO", TraceId: []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}},
			{TimeUnixNano: uint64(ts.Add(time.Second).UnixNano()), Body: &common.AnyValue{Value: &common.AnyValue_StringValue{StringValue: "payment failed"}},
				SeverityText: "ERROR"},
		}}},
	}}}
	body, err := proto.Marshal(export)
	if err != nil {
		t.Fatal(err)
	}
	r, err := p.Do("POST", "/otlp/v1/logs", http.Header{"Content-Type": {"application/x-protobuf"}}, body)
	if err != nil || r.Status != http.StatusOK {
		t.Fatalf("OTLP protobuf export: %v %d %s", err, r.Status, r.Body)
	}
	jsonBody := `{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"cart"}}]},
		"scopeLogs":[{"logRecords":[{"timeUnixNano":"` + strconv.FormatInt(ts.UnixNano(), 10) + `","body":{"stringValue":"cart emptied"},
		"traceId":"0102030405060708090a0b0c0d0e0f10"}]}]}]}`
	r, err = p.Do("POST", "/otlp/v1/logs", http.Header{"Content-Type": {"application/json"}}, []byte(jsonBody))
	if err != nil || r.Status != http.StatusOK || string(r.Body) != "{}" {
		t.Fatalf("OTLP JSON export: %v %d %s", err, r.Status, r.Body)
	}
	for _, c := range []struct{ query, want string }{
		{`{service_name="checkout", k8s_namespace_name="shop"} | severity_text="ERROR"`, "payment failed"},
		{`{service_name=~".+"} | trace_id="0102030405060708090a0b0c0d0e0f10"`, "order placed,cart emptied"}, // same time: ordered by stream labels
		{`{service_name="checkout"} | host_name="node-1" |= "order"`, "order placed"},
	} {
		got, err := p.Lines(c.query, ts.Add(-time.Minute), time.Now(), 100)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(got, ",") != c.want {
			t.Fatalf("%s: %q, want %s", c.query, got, c.want)
		}
	}
	r, err = p.Do("POST", "/otlp/v1/logs", http.Header{"Content-Type": {"application/x-protobuf"}}, []byte{0x0a, 0xff})
	if err != nil || r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), "OTLP protobuf") {
		t.Fatalf("malformed export: %v %d %s", err, r.Status, r.Body)
	}
}
