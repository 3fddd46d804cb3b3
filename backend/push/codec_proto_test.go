package push

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"reflect"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// lokiFixture is the content of testdata/loki_push_*.pb (see the README
// there for the program that wrote them with Loki's generated types).
func lokiFixture() *Request {
	return &Request{Streams: []Stream{
		{
			Labels: `{app="api", env="prod"}`,
			Entries: []Entry{
				{Timestamp: 1700000000123456789, Line: []byte("GET /health 200 1ms")},
				{Timestamp: 1700000001000000000, Line: []byte("line with \x00 nul and \xff invalid utf-8\n"),
					Metadata: []LabelPair{{"trace_id", "abc123"}, {"user", "ü"}}},
				{Timestamp: -1500000000, Line: []byte("before 1970")},
				{Timestamp: 1700000002000000000},
			},
		},
		{Labels: `{app="worker"}`, Entries: []Entry{{Timestamp: 1, Line: []byte("x")}}},
		{Labels: `{app="empty"}`},
	}}
}

// normalize makes requests comparable with reflect.DeepEqual: nil and empty
// slices are the same on the wire.
func normalize(r *Request) *Request {
	out := &Request{}
	for _, s := range r.Streams {
		ns := Stream{Labels: s.Labels}
		for _, e := range s.Entries {
			ne := Entry{Timestamp: e.Timestamp}
			if len(e.Line) > 0 {
				ne.Line = append([]byte(nil), e.Line...)
			}
			if len(e.Metadata) > 0 {
				ne.Metadata = append([]LabelPair(nil), e.Metadata...)
			}
			ns.Entries = append(ns.Entries, ne)
		}
		out.Streams = append(out.Streams, ns)
	}
	return out
}

func TestUnmarshalLokiFixtures(t *testing.T) {
	for _, name := range []string{"loki_push_v1.pb", "loki_push_extra_fields.pb"} {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile("testdata/" + name)
			if err != nil {
				t.Fatal(err)
			}
			var r Request
			if err := r.Unmarshal(b); err != nil {
				t.Fatal(err)
			}
			if got, want := normalize(&r), normalize(lokiFixture()); !reflect.DeepEqual(got, want) {
				t.Fatalf("decoded\n%+v\nwant\n%+v", got, want)
			}
		})
	}
}

func TestAppendMarshalMatchesLoki(t *testing.T) {
	want, err := os.ReadFile("testdata/loki_push_v1.pb")
	if err != nil {
		t.Fatal(err)
	}
	r := lokiFixture()
	got := r.AppendMarshal(nil)
	if !bytes.Equal(got, want) {
		t.Fatalf("encoding differs from Loki's:\n got %x\nwant %x", got, want)
	}
	if r.Size() != len(want) {
		t.Fatalf("Size() = %d, want %d", r.Size(), len(want))
	}
	prefix := []byte("prefix")
	if got := r.AppendMarshal(prefix); !bytes.Equal(got[:6], prefix) || !bytes.Equal(got[6:], want) {
		t.Fatal("AppendMarshal does not append to dst")
	}
}

func randomRequest(rng *rand.Rand, streams, entries int) *Request {
	r := &Request{}
	for i := 0; i < streams; i++ {
		s := Stream{Labels: `{app="a` + string(rune('a'+rng.IntN(26))) + `"}`}
		for j := 0; j < entries; j++ {
			line := make([]byte, rng.IntN(300))
			for k := range line {
				line[k] = byte(rng.IntN(256))
			}
			e := Entry{Timestamp: rng.Int64() - math.MaxInt64/2, Line: line}
			for k := rng.IntN(3); k > 0; k-- {
				e.Metadata = append(e.Metadata, LabelPair{Name: "k" + string(rune('0'+k)), Value: string(line[:rng.IntN(len(line)+1)])})
			}
			s.Entries = append(s.Entries, e)
		}
		r.Streams = append(r.Streams, s)
	}
	return r
}

func TestProtoRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 50; i++ {
		want := randomRequest(rng, 1+rng.IntN(5), rng.IntN(20))
		b := want.AppendMarshal(nil)
		if len(b) != want.Size() {
			t.Fatalf("Size() = %d, encoded %d bytes", want.Size(), len(b))
		}
		var got Request
		if err := got.Unmarshal(b); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(normalize(&got), normalize(want)) {
			t.Fatalf("round trip %d differs", i)
		}
	}
}

// Reference encodings built with protowire, field by field.
func pwBytes(b []byte, num protowire.Number, v []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}

func pwVarint(b []byte, num protowire.Number, v uint64) []byte {
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

func pwTimestamp(sec int64, nanos int32) []byte {
	var b []byte
	b = pwVarint(b, 1, uint64(sec))
	return pwVarint(b, 2, uint64(nanos))
}

func TestUnmarshalReferenceEncodings(t *testing.T) {
	unknown := func(b []byte) []byte { // one unknown field of every wire type
		b = pwVarint(b, 90, 12345)
		b = protowire.AppendTag(b, 91, protowire.Fixed32Type)
		b = protowire.AppendFixed32(b, 7)
		b = protowire.AppendTag(b, 92, protowire.Fixed64Type)
		b = protowire.AppendFixed64(b, 8)
		return pwBytes(b, 93, []byte("skip me"))
	}
	tests := []struct {
		name  string
		input []byte
		want  *Request
	}{
		{
			name:  "empty request",
			input: nil,
			want:  &Request{},
		},
		{
			name: "labels after entries, unknown fields everywhere",
			input: func() []byte {
				var md []byte
				md = pwBytes(unknown(md), 2, []byte("v"))
				md = pwBytes(md, 1, []byte("k"))
				var e []byte
				e = pwBytes(unknown(e), 2, []byte("hello"))
				e = pwBytes(e, 3, md)
				e = pwBytes(e, 1, append(unknown(nil), pwTimestamp(5, 6)...))
				var s []byte
				s = pwBytes(s, 2, e)
				s = pwVarint(s, 3, 0xfeedface) // Loki's hash
				s = pwBytes(unknown(s), 1, []byte(`{a="b"}`))
				b := pwBytes(nil, 2, []byte("json")) // Loki's format
				return pwBytes(unknown(b), 1, s)
			}(),
			want: &Request{Streams: []Stream{{Labels: `{a="b"}`, Entries: []Entry{
				{Timestamp: 5_000_000_006, Line: []byte("hello"), Metadata: []LabelPair{{"k", "v"}}},
			}}}},
		},
		{
			name: "repeated timestamp fields merge, last line wins",
			input: func() []byte {
				var e []byte
				e = pwBytes(e, 1, pwVarint(nil, 1, 7))
				e = pwBytes(e, 1, pwVarint(nil, 2, 9))
				e = pwBytes(e, 2, []byte("first"))
				e = pwBytes(e, 2, []byte("second"))
				return pwBytes(nil, 1, pwBytes(nil, 2, e))
			}(),
			want: &Request{Streams: []Stream{{Entries: []Entry{{Timestamp: 7_000_000_009, Line: []byte("second")}}}}},
		},
		{
			name: "timestamps saturate",
			input: func() []byte {
				var s []byte
				s = pwBytes(s, 2, pwBytes(nil, 1, pwTimestamp(math.MaxInt64, 0)))
				s = pwBytes(s, 2, pwBytes(nil, 1, pwTimestamp(math.MinInt64, 0)))
				s = pwBytes(s, 2, pwBytes(nil, 1, pwTimestamp(math.MaxInt64/int64(1e9), 999_999_999)))
				s = pwBytes(s, 2, pwBytes(nil, 1, pwTimestamp(-1, 500)))
				return pwBytes(nil, 1, s)
			}(),
			want: &Request{Streams: []Stream{{Entries: []Entry{
				{Timestamp: math.MaxInt64}, {Timestamp: math.MinInt64}, {Timestamp: math.MaxInt64}, {Timestamp: -999_999_500},
			}}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Request
			if err := r.Unmarshal(tt.input); err != nil {
				t.Fatal(err)
			}
			if got, want := normalize(&r), normalize(tt.want); !reflect.DeepEqual(got, want) {
				t.Fatalf("got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestUnmarshalMalformed(t *testing.T) {
	valid := lokiFixture().AppendMarshal(nil)
	tests := []struct {
		name  string
		input []byte
		want  string
	}{
		{"truncated", valid[:len(valid)-3], "malformed push request: protobuf: stream 2: length prefix exceeds the input (15 > 12 bytes)"},
		{"truncated varint", []byte{0x0a, 0x80}, "malformed push request: protobuf: stream 0: invalid varint"},
		{"overlong varint", []byte{0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, "malformed push request: protobuf: stream 0: invalid varint"},
		{"field zero", []byte{0x00, 0x01}, "malformed push request: protobuf: invalid field number"},
		{"stream as varint", []byte{0x08, 0x01}, "malformed push request: protobuf: stream 0: invalid wire type 0, want 2"},
		{"group", []byte{0x13, 0x14}, "malformed push request: protobuf: field 2: unsupported group wire type"},
		{"stream as group", []byte{0x0b, 0x0c}, "malformed push request: protobuf: stream 0: invalid wire type 3, want 2"},
		{"bad wire type 7", []byte{0x17}, "malformed push request: protobuf: field 2: invalid wire type 7"},
		{"truncated fixed64 in unknown field", []byte{0x11, 1, 2}, "malformed push request: protobuf: field 2: truncated input"},
		{"entry line as varint", pwBytes(nil, 1, pwBytes(nil, 2, pwVarint(nil, 2, 1))), "malformed push request: protobuf: stream 0: entry 0: line: invalid wire type 0, want 2"},
		{"metadata truncated", pwBytes(nil, 1, pwBytes(nil, 2, []byte{0x1a, 0x05, 0x0a, 0x09})), "malformed push request: protobuf: stream 0: entry 0: structured metadata 0: length prefix exceeds the input (5 > 2 bytes)"},
		{"bad timestamp", pwBytes(nil, 1, pwBytes(nil, 2, pwBytes(nil, 1, []byte{0x08}))), "malformed push request: protobuf: stream 0: entry 0: timestamp: invalid varint"},
		{"snappy bytes are not protobuf", []byte("\x1c\x00\x00hello"), "malformed push request: protobuf: field 3: unsupported group wire type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Request
			err := r.Unmarshal(tt.input)
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("error %v is not ErrMalformed", err)
			}
			if err.Error() != tt.want {
				t.Errorf("error\n got %q\nwant %q", err.Error(), tt.want)
			}
		})
	}
}

func TestUnmarshalAliasesInput(t *testing.T) {
	b := lokiFixture().AppendMarshal(nil)
	var r Request
	if err := r.Unmarshal(b); err != nil {
		t.Fatal(err)
	}
	line := r.Streams[0].Entries[0].Line
	if cap(line) != len(line) {
		t.Errorf("line capacity %d exceeds its length %d: appending would overwrite the input", cap(line), len(line))
	}
	i := bytes.Index(b, []byte("GET /health"))
	b[i] = 'P'
	if string(line[:3]) != "PET" {
		t.Errorf("line %q does not alias the input", line)
	}
}

func TestUnmarshalReusesRequest(t *testing.T) {
	big := randomRequest(rand.New(rand.NewPCG(3, 4)), 4, 10).AppendMarshal(nil)
	small := lokiFixture().AppendMarshal(nil)
	var r Request
	if err := r.Unmarshal(big); err != nil {
		t.Fatal(err)
	}
	if err := r.Unmarshal(small); err != nil {
		t.Fatal(err)
	}
	if got, want := normalize(&r), normalize(lokiFixture()); !reflect.DeepEqual(got, want) {
		t.Fatalf("reused request holds stale data:\n%+v", got)
	}
	allocs := testing.AllocsPerRun(20, func() {
		if err := r.Unmarshal(big); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Unmarshal into a reused request allocates %.1f times, want 0", allocs)
	}
}

func FuzzUnmarshal(f *testing.F) {
	f.Add(lokiFixture().AppendMarshal(nil))
	for _, name := range []string{"loki_push_v1.pb", "loki_push_extra_fields.pb"} {
		if b, err := os.ReadFile("testdata/" + name); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Request
		if err := r.Unmarshal(b); err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v is not ErrMalformed", err)
			}
			return
		}
		again := r.AppendMarshal(nil)
		var r2 Request
		if err := r2.Unmarshal(again); err != nil {
			t.Fatalf("re-encoded request does not decode: %v", err)
		}
		if !reflect.DeepEqual(normalize(&r), normalize(&r2)) {
			t.Fatal("re-encoded request decodes differently")
		}
	})
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed)) }
