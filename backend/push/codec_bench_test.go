package push

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/klauspost/compress/s2"

	"github.com/lode-logs/lode/backend/internal/loggen"
)

// benchRequest groups lines of the loggen corpus into a push request of
// about the given size, as an agent batch would.
func benchRequest(streams, size int) *Request {
	g := loggen.New(1, streams)
	idx := map[int]int{}
	r := &Request{}
	total := 0
	for total < size {
		si, ts, line := g.Next(nil)
		i, ok := idx[si]
		if !ok {
			i = len(r.Streams)
			idx[si] = i
			r.Streams = append(r.Streams, Stream{Labels: g.Labels(si).String()})
		}
		e := Entry{Timestamp: ts, Line: line}
		if len(line)%4 == 0 {
			e.Metadata = []LabelPair{{"trace_id", "4bf92f3577b34da6a3ce929d0e0e4736"}}
		}
		r.Streams[i].Entries = append(r.Streams[i].Entries, e)
		total += len(line)
	}
	return r
}

func BenchmarkUnmarshal(b *testing.B) {
	pb := benchRequest(100, 1<<20).AppendMarshal(nil)
	var r Request
	if err := r.Unmarshal(pb); err != nil { // warm up: size r's slices
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(pb)))
	for b.Loop() {
		if err := r.Unmarshal(pb); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendMarshal(b *testing.B) {
	req := benchRequest(100, 1<<20)
	buf := req.AppendMarshal(nil)
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		buf = req.AppendMarshal(buf[:0])
	}
}

func BenchmarkSnappyDecode(b *testing.B) {
	pb := benchRequest(100, 1<<20).AppendMarshal(nil)
	sn := s2.EncodeSnappy(nil, pb)
	b.Logf("protobuf %d bytes, snappy %d bytes (ratio %.2f)", len(pb), len(sn), float64(len(pb))/float64(len(sn)))
	dst := make([]byte, len(pb))
	b.ReportAllocs()
	b.SetBytes(int64(len(pb)))
	for b.Loop() {
		var err error
		if dst, err = decodeSnappy(dst, sn, 1<<30); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeJSON(b *testing.B) {
	js, err := benchRequest(100, 1<<20).AppendJSON(nil)
	if err != nil {
		b.Fatal(err)
	}
	work := make([]byte, len(js))
	var r Request
	if err := r.DecodeJSON(append(work[:0], js...)); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(js)))
	for b.Loop() {
		copy(work, js) // DecodeJSON unescapes in place
		if err := r.DecodeJSON(work); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeHTTP is the whole request path: read body, snappy,
// protobuf, pooled request.
func BenchmarkDecodeHTTP(b *testing.B) {
	pb := benchRequest(100, 1<<20).AppendMarshal(nil)
	sn := s2.EncodeSnappy(nil, pb)
	body := bytes.NewReader(sn)
	hr, err := http.NewRequest(http.MethodPost, "/loki/api/v1/push", body)
	if err != nil {
		b.Fatal(err)
	}
	hr.Header.Set("Content-Type", ContentTypeProtobuf)
	b.ReportAllocs()
	b.SetBytes(int64(len(pb)))
	for b.Loop() {
		body.Reset(sn)
		r, err := DecodeHTTP(hr, 64<<20)
		if err != nil {
			b.Fatal(err)
		}
		PutRequest(r)
	}
}
