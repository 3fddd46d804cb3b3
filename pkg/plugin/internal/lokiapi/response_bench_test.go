package lokiapi

import (
	"encoding/json"
	"fmt"
	"testing"
)

// BenchmarkDecodeStreams decodes a query_range answer of 5000 logfmt lines (with quotes, so
// the escaped-string path runs) over 50 streams.
func BenchmarkDecodeStreams(b *testing.B) {
	var streams []Stream
	for s := range 50 {
		st := Stream{Labels: map[string]string{"app": fmt.Sprintf("svc-%d", s), "namespace": "prod"}}
		for i := range 100 {
			st.Values = append(st.Values, Entry{Timestamp: 1700000000000000000 + int64(i*50+s),
				Line: fmt.Sprintf(`level=info msg="request served" path=/api/v1/items/%d status=200 duration=%dms`, i, i%97)})
		}
		streams = append(streams, st)
	}
	res, _ := json.Marshal(streams)
	body := []byte(`{"status":"success","data":{"resultType":"streams","result":` + string(res) + `}}`)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		r, err := DecodeQueryResponse(body)
		if err != nil || len(r.Streams) != 50 {
			b.Fatal(err)
		}
	}
}
