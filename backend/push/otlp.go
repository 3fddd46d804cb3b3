package push

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	collogs "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	common "go.opentelemetry.io/proto/otlp/common/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// OTLPIndexLabels are the resource attributes that become stream labels by
// default (dots turned into underscores), as in Loki's default OTLP
// configuration. Every other attribute becomes structured metadata.
var OTLPIndexLabels = []string{
	"cloud.availability_zone", "cloud.region", "container.name",
	"deployment.environment", "deployment.environment.name",
	"k8s.cluster.name", "k8s.container.name", "k8s.cronjob.name", "k8s.daemonset.name",
	"k8s.deployment.name", "k8s.job.name", "k8s.namespace.name", "k8s.pod.name",
	"k8s.replicaset.name", "k8s.statefulset.name",
	"service.instance.id", "service.name", "service.namespace",
}

// DecodeOTLP decodes an OTLP/HTTP logs export (ExportLogsServiceRequest;
// Content-Type application/x-protobuf or application/json, optionally
// gzip or deflate) into a push request:
//   - each resource's logs form one stream, labelled with the resource
//     attributes named in indexLabels (OTLPIndexLabels when nil;
//     service_name is "unknown_service" when service.name is among them
//     and the resource has none, or when no label is left);
//   - a record's line is its body (a string as is, other values as JSON);
//     its timestamp the time, else the observed time, else now;
//   - the other resource attributes, the scope's name, version and
//     attributes, the record's attributes, severity, trace and span ids
//     become structured metadata, names sanitized to label names.
//
// maxBytes bounds the body as sent and decompressed. Errors wrap
// ErrMalformed, ErrTooLarge or ErrUnsupportedMediaType. The caller gives
// the request back with PutRequest.
func DecodeOTLP(hr *http.Request, maxBytes int64, indexLabels []string, now time.Time) (*Request, error) {
	if indexLabels == nil {
		indexLabels = OTLPIndexLabels
	}
	mt, _, err := mime.ParseMediaType(hr.Header.Get("Content-Type"))
	if err != nil || (mt != ContentTypeProtobuf && mt != "application/protobuf" && mt != ContentTypeJSON) {
		return nil, &UnsupportedError{Header: "Content-Type", Value: hr.Header.Get("Content-Type"), OTLP: true}
	}
	enc := strings.ToLower(strings.TrimSpace(hr.Header.Get("Content-Encoding")))
	switch enc {
	case "", "identity", "gzip", "x-gzip", "deflate":
	default:
		return nil, &UnsupportedError{Header: "Content-Encoding", Value: hr.Header.Get("Content-Encoding"), OTLP: true}
	}
	if hr.ContentLength > maxBytes {
		return nil, &TooLargeError{What: "body", Size: hr.ContentLength, Limit: maxBytes}
	}
	r := GetRequest()
	if r.raw, err = readLimited(r.raw[:0], hr.Body, hr.ContentLength, maxBytes, "body"); err != nil {
		PutRequest(r)
		if errors.Is(err, ErrTooLarge) {
			return nil, err
		}
		return nil, malformed("body", fmt.Errorf("read: %w", err))
	}
	data := r.raw
	if enc == "gzip" || enc == "x-gzip" || enc == "deflate" {
		if r.buf, err = inflate(r.buf[:0], data, enc, maxBytes); err != nil {
			PutRequest(r)
			return nil, err
		}
		data = r.buf
	}
	var req collogs.ExportLogsServiceRequest
	if mt == ContentTypeJSON {
		err = unmarshalOTLPJSON(data, &req)
	} else {
		err = proto.Unmarshal(data, &req)
	}
	if err != nil {
		PutRequest(r)
		return nil, malformed("OTLP "+map[bool]string{true: "JSON", false: "protobuf"}[mt == ContentTypeJSON], err)
	}
	r.Streams = r.Streams[:0]
	for _, rl := range req.ResourceLogs {
		var lbls, resMeta []LabelPair
		hasService := false
		for _, kv := range rl.GetResource().GetAttributes() {
			name := sanitizeName(kv.Key)
			if slices.Contains(indexLabels, kv.Key) {
				if v := attrString(kv.Value); v != "" {
					lbls = append(lbls, LabelPair{Name: name, Value: v})
					hasService = hasService || kv.Key == "service.name"
				}
				continue
			}
			resMeta = append(resMeta, LabelPair{Name: name, Value: attrString(kv.Value)})
		}
		if (!hasService && slices.Contains(indexLabels, "service.name")) || len(lbls) == 0 {
			lbls = append(lbls, LabelPair{Name: "service_name", Value: "unknown_service"})
		}
		slices.SortFunc(lbls, func(a, b LabelPair) int { return strings.Compare(a.Name, b.Name) })
		st := Stream{Labels: string(AppendLabelsString(nil, lbls))}
		for _, sl := range rl.ScopeLogs {
			meta := slices.Clone(resMeta)
			if s := sl.GetScope(); s != nil {
				if s.Name != "" {
					meta = append(meta, LabelPair{Name: "scope_name", Value: s.Name})
				}
				if s.Version != "" {
					meta = append(meta, LabelPair{Name: "scope_version", Value: s.Version})
				}
				for _, kv := range s.Attributes {
					meta = append(meta, LabelPair{Name: sanitizeName(kv.Key), Value: attrString(kv.Value)})
				}
			}
			for _, lr := range sl.LogRecords {
				e := Entry{Timestamp: int64(lr.TimeUnixNano), Line: []byte(attrString(lr.Body))}
				if e.Timestamp == 0 {
					e.Timestamp = int64(lr.ObservedTimeUnixNano)
				}
				if e.Timestamp == 0 {
					e.Timestamp = now.UnixNano()
				}
				md := slices.Clone(meta)
				for _, kv := range lr.Attributes {
					md = append(md, LabelPair{Name: sanitizeName(kv.Key), Value: attrString(kv.Value)})
				}
				if lr.SeverityText != "" {
					md = append(md, LabelPair{Name: "severity_text", Value: lr.SeverityText})
				}
				if lr.SeverityNumber != 0 {
					md = append(md, LabelPair{Name: "severity_number", Value: strconv.Itoa(int(lr.SeverityNumber))})
				}
				if len(lr.TraceId) > 0 {
					md = append(md, LabelPair{Name: "trace_id", Value: hex.EncodeToString(lr.TraceId)})
				}
				if len(lr.SpanId) > 0 {
					md = append(md, LabelPair{Name: "span_id", Value: hex.EncodeToString(lr.SpanId)})
				}
				e.Metadata = dropEmpty(md)
				st.Entries = append(st.Entries, e)
			}
		}
		if len(st.Entries) > 0 {
			r.Streams = append(r.Streams, st)
		}
	}
	return r, nil
}

// dropEmpty removes pairs with an empty value (structured metadata holds
// none) and keeps the last value of a repeated name.
func dropEmpty(md []LabelPair) []LabelPair {
	out := md[:0]
	for i, p := range md {
		if p.Value == "" || slices.ContainsFunc(md[i+1:], func(q LabelPair) bool { return q.Name == p.Name && q.Value != "" }) {
			continue
		}
		out = append(out, p)
	}
	return out
}

// sanitizeName turns an attribute name into a label name: every byte
// outside [a-zA-Z0-9_] becomes '_', and a leading digit gets a '_' before
// it.
func sanitizeName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			b[i] = '_'
		}
	}
	if len(b) > 0 && b[0] >= '0' && b[0] <= '9' {
		return "_" + string(b)
	}
	return string(b)
}

// attrString renders an attribute value: strings as they are, numbers and
// booleans as text, bytes in base64, arrays and maps as JSON.
func attrString(v *common.AnyValue) string {
	switch x := v.GetValue().(type) {
	case *common.AnyValue_StringValue:
		return x.StringValue
	case *common.AnyValue_IntValue:
		return strconv.FormatInt(x.IntValue, 10)
	case *common.AnyValue_DoubleValue:
		return strconv.FormatFloat(x.DoubleValue, 'g', -1, 64)
	case *common.AnyValue_BoolValue:
		return strconv.FormatBool(x.BoolValue)
	case *common.AnyValue_BytesValue:
		return base64.StdEncoding.EncodeToString(x.BytesValue)
	case *common.AnyValue_ArrayValue, *common.AnyValue_KvlistValue:
		b, _ := json.Marshal(anyJSON(v))
		return string(b)
	}
	return ""
}

// anyJSON converts a value to plain Go values for JSON encoding.
func anyJSON(v *common.AnyValue) any {
	switch x := v.GetValue().(type) {
	case *common.AnyValue_StringValue:
		return x.StringValue
	case *common.AnyValue_IntValue:
		return x.IntValue
	case *common.AnyValue_DoubleValue:
		if math.IsInf(x.DoubleValue, 0) || math.IsNaN(x.DoubleValue) {
			return strconv.FormatFloat(x.DoubleValue, 'g', -1, 64)
		}
		return x.DoubleValue
	case *common.AnyValue_BoolValue:
		return x.BoolValue
	case *common.AnyValue_BytesValue:
		return x.BytesValue
	case *common.AnyValue_ArrayValue:
		out := make([]any, 0, len(x.ArrayValue.GetValues()))
		for _, e := range x.ArrayValue.GetValues() {
			out = append(out, anyJSON(e))
		}
		return out
	case *common.AnyValue_KvlistValue:
		out := make(map[string]any, len(x.KvlistValue.GetValues()))
		for _, kv := range x.KvlistValue.GetValues() {
			out[kv.Key] = anyJSON(kv.Value)
		}
		return out
	}
	return nil
}

// unmarshalOTLPJSON decodes OTLP/JSON, which is protobuf JSON except that
// trace and span ids are hex, not base64: they are rewritten first.
func unmarshalOTLPJSON(data []byte, req *collogs.ExportLogsServiceRequest) error {
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		return err
	}
	for _, rl := range jsonList(doc, "resourceLogs", "resource_logs") {
		for _, sl := range jsonList(rl, "scopeLogs", "scope_logs") {
			for _, lr := range jsonList(sl, "logRecords", "log_records") {
				for _, k := range []string{"traceId", "spanId", "trace_id", "span_id"} {
					s, ok := lr[k].(string)
					if !ok || s == "" {
						continue
					}
					b, err := hex.DecodeString(s)
					if err != nil {
						return fmt.Errorf("%s %q is not hex: %w", k, s, err)
					}
					lr[k] = base64.StdEncoding.EncodeToString(b)
				}
			}
		}
	}
	fixed, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	return protojson.Unmarshal(fixed, req)
}

// jsonList returns the objects of the array under the first of names.
func jsonList(obj map[string]any, names ...string) []map[string]any {
	for _, n := range names {
		arr, ok := obj[n].([]any)
		if !ok {
			continue
		}
		var out []map[string]any
		for _, e := range arr {
			if m, ok := e.(map[string]any); ok {
				out = append(out, m)
			}
		}
		return out
	}
	return nil
}
