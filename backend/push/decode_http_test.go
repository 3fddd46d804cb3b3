package push

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/s2"
)

func gzipBytes(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func deflateBytes(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestSpeed)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func newPushRequest(body []byte, contentType, encoding string) *http.Request {
	hr := httptest.NewRequest(http.MethodPost, "/loki/api/v1/push", bytes.NewReader(body))
	if contentType != "" {
		hr.Header.Set("Content-Type", contentType)
	}
	if encoding != "" {
		hr.Header.Set("Content-Encoding", encoding)
	}
	return hr
}

func TestDecodeHTTP(t *testing.T) {
	want := lokiFixture()
	pb := want.AppendMarshal(nil)
	snappyPB := s2.EncodeSnappy(nil, pb)
	js, err := want.AppendJSON(nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, contentType, encoding string
		body                        []byte
	}{
		{"protobuf", "application/x-protobuf", "", snappyPB},
		{"no content type is protobuf", "", "", snappyPB},
		{"protobuf with parameters", "application/x-protobuf; charset=binary", "", snappyPB},
		{"protobuf with snappy encoding header", "application/x-protobuf", "snappy", snappyPB},
		{"protobuf in gzip", "application/x-protobuf", "gzip", gzipBytes(t, snappyPB)},
		{"protobuf in deflate", "application/x-protobuf", "deflate", deflateBytes(t, snappyPB)},
		{"json", "application/json", "", js},
		{"json charset", "application/json; charset=utf-8", "identity", js},
		{"json gzip", "application/json", "gzip", gzipBytes(t, js)},
		{"json gzip upper case", "application/json", "GZIP", gzipBytes(t, js)},
		{"json deflate", "application/json", "deflate", deflateBytes(t, js)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := DecodeHTTP(newPushRequest(tt.body, tt.contentType, tt.encoding), 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			defer PutRequest(r)
			if got, want := normalize(r), normalize(want); !reflect.DeepEqual(got, want) {
				if tt.contentType == "application/json" || strings.HasPrefix(tt.contentType, "application/json") {
					// JSON writes invalid UTF-8 as U+FFFD; compare the rest.
					got.Streams[0].Entries[1].Line, want.Streams[0].Entries[1].Line = nil, nil
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("got %+v\nwant %+v", got, want)
				}
			}
		})
	}
}

// bombs whose compressed bodies are small.
func gzipBomb(t testing.TB, size int) []byte {
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zeros := make([]byte, 1<<20)
	for n := 0; n < size; n += len(zeros) {
		if _, err := w.Write(zeros); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestDecodeHTTPErrors(t *testing.T) {
	const limit = 64 << 10
	snappyHeaderBomb := []byte{0xff, 0xff, 0xff, 0xff, 0x0f, 0x00} // declares 4 GiB
	pb := lokiFixture().AppendMarshal(nil)
	bigLine := &Request{Streams: []Stream{{Labels: `{a="b"}`, Entries: []Entry{{Timestamp: 1, Line: bytes.Repeat([]byte("x"), limit)}}}}}
	bigSnappy := s2.EncodeSnappy(nil, bigLine.AppendMarshal(nil))
	tests := []struct {
		name, contentType, encoding string
		body                        []byte
		unknownLength               bool
		sentinel                    error
		want                        string
	}{
		{name: "wrong content type", contentType: "text/plain", body: []byte("x"), sentinel: ErrUnsupportedMediaType,
			want: `unsupported Content-Type "text/plain": use application/x-protobuf (snappy-compressed) or application/json`},
		{name: "unparsable content type", contentType: "application/", body: []byte("x"), sentinel: ErrUnsupportedMediaType,
			want: `unsupported Content-Type "application/": use application/x-protobuf (snappy-compressed) or application/json`},
		{name: "unknown encoding", contentType: "application/json", encoding: "br", body: []byte("{}"), sentinel: ErrUnsupportedMediaType,
			want: `unsupported Content-Encoding "br": use gzip, deflate or none (protobuf bodies are always snappy-compressed)`},
		{name: "snappy encoding on json", contentType: "application/json", encoding: "snappy", body: []byte("{}"), sentinel: ErrUnsupportedMediaType,
			want: `unsupported Content-Encoding "snappy": use gzip, deflate or none (protobuf bodies are always snappy-compressed)`},
		{name: "empty body", contentType: "application/x-protobuf", body: nil, sentinel: ErrMalformed,
			want: "malformed push request: body: empty body"},
		{name: "uncompressed protobuf", contentType: "application/x-protobuf", body: pb, sentinel: ErrMalformed,
			want: "malformed push request: snappy: s2: corrupt input"},
		{name: "bad snappy", contentType: "application/x-protobuf", body: []byte{0x0a, 0x01, 0x02, 0x03}, sentinel: ErrMalformed,
			want: "malformed push request: snappy: s2: corrupt input"},
		{name: "malformed protobuf", contentType: "application/x-protobuf", body: s2.EncodeSnappy(nil, []byte{0x0a, 0x10, 0x01}), sentinel: ErrMalformed,
			want: "malformed push request: protobuf: stream 0: length prefix exceeds the input (16 > 1 bytes)"},
		{name: "bad gzip", contentType: "application/json", encoding: "gzip", body: []byte("this is not gzip data at all"), sentinel: ErrMalformed,
			want: "malformed push request: gzip: gzip: invalid header"},
		{name: "truncated gzip", contentType: "application/json", encoding: "gzip", body: gzipBytes(t, []byte(`{"streams":[]}`))[:20], sentinel: ErrMalformed,
			want: "malformed push request: gzip: unexpected EOF"},
		{name: "bad json", contentType: "application/json", body: []byte(`{"streams":[`), sentinel: ErrMalformed,
			want: "malformed push request: json: offset 12: unexpected end of input"},
		{name: "content length over limit", contentType: "application/json", body: make([]byte, limit+1), sentinel: ErrTooLarge,
			want: "push request body too large: 65537 bytes, limit 65536 bytes"},
		{name: "chunked body over limit", contentType: "application/json", body: make([]byte, limit+1), unknownLength: true, sentinel: ErrTooLarge,
			want: "push request body too large: more than the limit of 65536 bytes"},
		{name: "gzip bomb", contentType: "application/json", encoding: "gzip", body: gzipBomb(t, 8<<20), sentinel: ErrTooLarge,
			want: "push request decompressed body too large: more than the limit of 65536 bytes"},
		{name: "gzip bomb around protobuf", contentType: "application/x-protobuf", encoding: "gzip", body: gzipBomb(t, 1<<20), sentinel: ErrTooLarge,
			want: "push request decompressed body too large: more than the limit of 65536 bytes"},
		{name: "snappy length header bomb", contentType: "application/x-protobuf", body: snappyHeaderBomb, sentinel: ErrTooLarge,
			want: "push request decompressed body too large: 4294967295 bytes, limit 65536 bytes"},
		{name: "snappy over limit", contentType: "application/x-protobuf", body: bigSnappy, sentinel: ErrTooLarge,
			want: "push request decompressed body too large: 65561 bytes, limit 65536 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hr := newPushRequest(tt.body, tt.contentType, tt.encoding)
			if tt.unknownLength {
				hr.ContentLength = -1
				hr.Body = io.NopCloser(bytes.NewReader(tt.body))
			}
			r, err := DecodeHTTP(hr, limit)
			if err == nil {
				PutRequest(r)
				t.Fatal("no error")
			}
			if r != nil {
				t.Error("request returned with an error")
			}
			if !errors.Is(err, tt.sentinel) {
				t.Errorf("error %v is not %v", err, tt.sentinel)
			}
			if err.Error() != tt.want {
				t.Errorf("error\n got %s\nwant %s", err, tt.want)
			}
		})
	}
}

func TestDecodeHTTPMaxBytesReader(t *testing.T) {
	body := s2.EncodeSnappy(nil, lokiFixture().AppendMarshal(nil))
	hr := newPushRequest(body, "", "")
	hr.ContentLength = -1
	hr.Body = http.MaxBytesReader(httptest.NewRecorder(), io.NopCloser(bytes.NewReader(body)), 10)
	_, err := DecodeHTTP(hr, 1<<20)
	var tl *TooLargeError
	if !errors.As(err, &tl) || tl.Limit != 10 {
		t.Fatalf("got %v, want a TooLargeError with the MaxBytesReader's limit", err)
	}
}

func TestPooledRequestsDoNotLeak(t *testing.T) {
	big := randomRequest(newRand(5), 6, 30)
	small := lokiFixture()
	for i, want := range []*Request{big, small, big, small} {
		body := s2.EncodeSnappy(nil, want.AppendMarshal(nil))
		r, err := DecodeHTTP(newPushRequest(body, "", ""), 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(normalize(r), normalize(want)) {
			t.Fatalf("decode %d returned stale content", i)
		}
		PutRequest(r)
		if len(r.Streams) != 0 || len(r.raw) != 0 || len(r.buf) != 0 {
			t.Fatal("PutRequest left content behind")
		}
	}
}
