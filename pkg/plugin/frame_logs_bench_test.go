package plugin

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/lode-logs/lode/pkg/plugin/internal/lokiapi"
)

// benchStreams is a query_range answer of 5000 lines over 50 streams, as JSON.
func benchStreams() []byte {
	var streams []lokiapi.Stream
	for s := range 50 {
		st := lokiapi.Stream{Labels: map[string]string{"app": fmt.Sprintf("svc-%d", s), "namespace": "prod", "pod": fmt.Sprintf("svc-%d-7d9f8", s)}}
		for i := range 100 {
			st.Values = append(st.Values, lokiapi.Entry{
				Timestamp: 1700000000000000000 + int64(i*50+s)*1e6,
				Line:      fmt.Sprintf(`ts=2023-11-14T22:13:%02d level=info caller=handler.go:%d msg="request served" path=/api/v1/items/%d status=200 duration=%dms`, i%60, s, i, i%97),
			})
		}
		streams = append(streams, st)
	}
	res, _ := json.Marshal(streams)
	return []byte(`{"status":"success","data":{"resultType":"streams","result":` + string(res) + `}}`)
}

// BenchmarkLogsFrame measures turning a decoded 5000-line answer into a logs frame.
func BenchmarkLogsFrame(b *testing.B) {
	body := benchStreams()
	res, err := lokiapi.DecodeQueryResponse(body)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		f := newLogsFrame(res.Streams, logsFrameOptions{RefID: "A", Direction: DirectionBackward})
		if f.Rows() != 5000 {
			b.Fatal(f.Rows())
		}
	}
}

// BenchmarkLogsResponse measures the whole path of an answer: decode, frame, and the Arrow
// encoding the SDK sends to Grafana.
func BenchmarkLogsResponse(b *testing.B) {
	body := benchStreams()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		res, err := lokiapi.DecodeQueryResponse(body)
		if err != nil {
			b.Fatal(err)
		}
		f := newLogsFrame(res.Streams, logsFrameOptions{RefID: "A", Direction: DirectionBackward})
		if _, err := (data.Frames{f}).MarshalArrow(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLevelOf measures level detection on a logfmt line without a level label.
func BenchmarkLevelOf(b *testing.B) {
	line := `ts=2023-11-14T22:13:20Z caller=handler.go:42 level=warn msg="slow request" duration=1.2s`
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for b.Loop() {
		if levelOf(nil, line) != "warning" {
			b.Fatal("wrong level")
		}
	}
}
