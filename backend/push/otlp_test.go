package push

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	collogs "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	common "go.opentelemetry.io/proto/otlp/common/v1"
	logs "go.opentelemetry.io/proto/otlp/logs/v1"
	resource "go.opentelemetry.io/proto/otlp/resource/v1"
	"google.golang.org/protobuf/proto"
)

func str(k, v string) *common.KeyValue {
	return &common.KeyValue{Key: k, Value: &common.AnyValue{Value: &common.AnyValue_StringValue{StringValue: v}}}
}

// testExport has two resources: a checkout service in Kubernetes with two
// records, and one without service.name.
func testExport() *collogs.ExportLogsServiceRequest {
	return &collogs.ExportLogsServiceRequest{ResourceLogs: []*logs.ResourceLogs{
		{
			Resource: &resource.Resource{Attributes: []*common.KeyValue{
				str("service.name", "checkout"), str("k8s.namespace.name", "shop"), str("host.name", "node-1"),
				{Key: "process.pid", Value: &common.AnyValue{Value: &common.AnyValue_IntValue{IntValue: 42}}},
			}},
			ScopeLogs: []*logs.ScopeLogs{{
				Scope: &common.InstrumentationScope{Name: "app/logger", Version: "1.2"},
				LogRecords: []*logs.LogRecord{
					{TimeUnixNano: 1_700_000_000_000_000_001, Body: &common.AnyValue{Value: &common.AnyValue_StringValue{StringValue: "order placed"}},
						SeverityText: "INFO", SeverityNumber: logs.SeverityNumber_SEVERITY_NUMBER_INFO,
						TraceId:    []byte{0x5b, 0x8e, 0xff, 0xf7, 0x98, 0x03, 0x81, 0x03, 0xd2, 0x69, 0xb6, 0x33, 0x81, 0x3f, 0xc6, 0x0c},
						SpanId:     []byte{0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x74},
						Attributes: []*common.KeyValue{str("http.route", "/cart"), str("empty", "")}},
					{ObservedTimeUnixNano: 1_700_000_000_000_000_002, Body: &common.AnyValue{Value: &common.AnyValue_KvlistValue{
						KvlistValue: &common.KeyValueList{Values: []*common.KeyValue{str("msg", "paid"),
							{Key: "ok", Value: &common.AnyValue{Value: &common.AnyValue_BoolValue{BoolValue: true}}}}}}}},
				},
			}},
		},
		{ScopeLogs: []*logs.ScopeLogs{{LogRecords: []*logs.LogRecord{{Body: &common.AnyValue{Value: &common.AnyValue_StringValue{StringValue: "no service"}}}}}}},
	}}
}

func otlpRequest(t *testing.T, contentType, encoding string, body []byte) *http.Request {
	t.Helper()
	if encoding == "gzip" {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		_, _ = zw.Write(body)
		_ = zw.Close()
		body = b.Bytes()
	}
	r := httptest.NewRequest(http.MethodPost, "/otlp/v1/logs", bytes.NewReader(body))
	r.Header.Set("Content-Type", contentType)
	if encoding != "" {
		r.Header.Set("Content-Encoding", encoding)
	}
	return r
}

const otlpJSON = `{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"checkout"}},
 {"key":"k8s.namespace.name","value":{"stringValue":"shop"}},{"key":"host.name","value":{"stringValue":"node-1"}},
 {"key":"process.pid","value":{"intValue":"42"}}]},
 "scopeLogs":[{"scope":{"name":"app/logger","version":"1.2"},"logRecords":[
  {"timeUnixNano":"1700000000000000001","body":{"stringValue":"order placed"},"severityText":"INFO","severityNumber":9,
   "traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",
   "attributes":[{"key":"http.route","value":{"stringValue":"/cart"}},{"key":"empty","value":{"stringValue":""}}]},
  {"observedTimeUnixNano":"1700000000000000002","body":{"kvlistValue":{"values":[{"key":"msg","value":{"stringValue":"paid"}},{"key":"ok","value":{"boolValue":true}}]}}}]}]},
 {"scopeLogs":[{"logRecords":[{"body":{"stringValue":"no service"}}]}]}]}`

func TestDecodeOTLP(t *testing.T) {
	pb, err := proto.Marshal(testExport())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	for _, c := range []struct {
		name string
		r    *http.Request
	}{
		{"protobuf", otlpRequest(t, "application/x-protobuf", "", pb)},
		{"protobuf gzip", otlpRequest(t, "application/x-protobuf", "gzip", pb)},
		{"json", otlpRequest(t, "application/json", "", []byte(otlpJSON))},
		{"json gzip", otlpRequest(t, "application/json; charset=utf-8", "gzip", []byte(otlpJSON))},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, err := DecodeOTLP(c.r, 1<<20, nil, now)
			if err != nil {
				t.Fatal(err)
			}
			defer PutRequest(req)
			if len(req.Streams) != 2 {
				t.Fatalf("%d streams, want 2", len(req.Streams))
			}
			s := req.Streams[0]
			if s.Labels != `{k8s_namespace_name="shop", service_name="checkout"}` || len(s.Entries) != 2 {
				t.Fatalf("stream %s with %d entries", s.Labels, len(s.Entries))
			}
			e := s.Entries[0]
			want := []LabelPair{{"host_name", "node-1"}, {"process_pid", "42"}, {"scope_name", "app/logger"}, {"scope_version", "1.2"},
				{"http_route", "/cart"}, {"severity_text", "INFO"}, {"severity_number", "9"},
				{"trace_id", "5b8efff798038103d269b633813fc60c"}, {"span_id", "eee19b7ec3c1b174"}}
			if e.Timestamp != 1_700_000_000_000_000_001 || string(e.Line) != "order placed" || !slices.Equal(e.Metadata, want) {
				t.Fatalf("first record: %d %q %v", e.Timestamp, e.Line, e.Metadata)
			}
			e = s.Entries[1]
			if e.Timestamp != 1_700_000_000_000_000_002 || string(e.Line) != `{"msg":"paid","ok":true}` {
				t.Fatalf("second record (observed time, map body): %d %q", e.Timestamp, e.Line)
			}
			s = req.Streams[1]
			if s.Labels != `{service_name="unknown_service"}` || s.Entries[0].Timestamp != now.UnixNano() || string(s.Entries[0].Line) != "no service" {
				t.Fatalf("resource without service.name: %s %+v", s.Labels, s.Entries)
			}
		})
	}
}

func TestDecodeOTLPBadInput(t *testing.T) {
	for _, c := range []struct {
		name   string
		r      *http.Request
		target error
		msg    string
	}{
		{"malformed protobuf", otlpRequest(t, "application/x-protobuf", "", []byte{0x0a, 0xff, 0x01}), ErrMalformed, "OTLP protobuf"},
		{"malformed json", otlpRequest(t, "application/json", "", []byte(`{"resourceLogs":[`)), ErrMalformed, "OTLP JSON"},
		{"bad trace id", otlpRequest(t, "application/json", "", []byte(`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"traceId":"zz"}]}]}]}`)), ErrMalformed, "not hex"},
		{"bad gzip", otlpRequest(t, "application/x-protobuf", "gzip", nil), ErrMalformed, "gzip"},
		{"text body", otlpRequest(t, "text/plain", "", []byte("hi")), ErrUnsupportedMediaType, "OTLP logs are accepted as"},
		{"snappy", otlpRequest(t, "application/x-protobuf", "snappy", []byte("hi")), ErrUnsupportedMediaType, "Content-Encoding"},
		{"too large", otlpRequest(t, "application/x-protobuf", "", make([]byte, 2048)), ErrTooLarge, "body"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.name == "bad gzip" {
				c.r = otlpRequest(t, "application/x-protobuf", "", []byte("not gzip"))
				c.r.Header.Set("Content-Encoding", "gzip")
			}
			req, err := DecodeOTLP(c.r, 1024, nil, time.Now())
			if err == nil {
				PutRequest(req)
			}
			if !errors.Is(err, c.target) || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("error %v, want %v naming %q", err, c.target, c.msg)
			}
		})
	}
}

// Index labels of the operator's choosing: the others become metadata;
// without service.name among them, service_name is made up only for a
// resource that would have no label.
func TestDecodeOTLPIndexLabels(t *testing.T) {
	pb, err := proto.Marshal(testExport())
	if err != nil {
		t.Fatal(err)
	}
	req, err := DecodeOTLP(otlpRequest(t, "application/x-protobuf", "", pb), 1<<20, []string{"host.name"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	defer PutRequest(req)
	if len(req.Streams) != 2 || req.Streams[0].Labels != `{host_name="node-1"}` || req.Streams[1].Labels != `{service_name="unknown_service"}` {
		t.Fatalf("streams %q, %q", req.Streams[0].Labels, req.Streams[1].Labels)
	}
	md := req.Streams[0].Entries[0].Metadata
	if !slices.Contains(md, LabelPair{"service_name", "checkout"}) || !slices.Contains(md, LabelPair{"k8s_namespace_name", "shop"}) {
		t.Fatalf("metadata %v, want the attributes no longer indexed", md)
	}
}
