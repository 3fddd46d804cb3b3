package ring

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"os"
	"reflect"
	"testing"
)

func TestInstanceRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   Instance
	}{
		{"zero state joining", Instance{State: Joining}},
		{"non-ingester", Instance{ID: "q-1", Addr: "10.0.0.1:9095", HTTPAddr: "10.0.0.1:3100", RaftAddr: "10.0.0.1:9096", State: Active, Registered: 1_700_000_000_000, Heartbeat: 1_700_000_005_000, AppliedIndex: 42}},
		{"ingester with tokens", Instance{ID: "ingester-7", Addr: "h:1", Ingester: true, State: Leaving, Tokens: []uint32{0, 1, 2, 1 << 31, math.MaxUint32}}},
		{"unicode and odd bytes", Instance{ID: "nœud-✓\x00\xff", Addr: "[::1]:9095", Ingester: true, State: Active, Tokens: []uint32{7}}},
		{"extremes", Instance{ID: "x", State: Active, Registered: math.MinInt64, Heartbeat: math.MaxInt64, AppliedIndex: math.MaxUint64}},
		{"unsorted tokens still round-trip", Instance{ID: "u", Ingester: true, State: Active, Tokens: []uint32{900, 5, math.MaxUint32, 0}}},
		{"generated tokens", Instance{ID: "g", Ingester: true, State: Active, Tokens: GenerateTokens("g", 128, nil)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prefix := []byte("prefix")
			b := AppendInstance(bytes.Clone(prefix), &tt.in)
			if !bytes.HasPrefix(b, prefix) {
				t.Fatalf("AppendInstance clobbered dst: %q", b)
			}
			got, err := ReadInstance(b[len(prefix):])
			if err != nil {
				t.Fatalf("ReadInstance: %v", err)
			}
			if !reflect.DeepEqual(got, tt.in) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", got, tt.in)
			}
		})
	}
}

func TestInstanceEncodingExample(t *testing.T) {
	// The example of FORMAT.md, byte for byte.
	in := Instance{ID: "a", Addr: "h:1", Ingester: true, State: Active, Registered: 1, Heartbeat: 2, AppliedIndex: 3, Tokens: []uint32{5, 300}}
	want, _ := hex.DecodeString("01" + "0161" + "03683a31" + "00" + "00" + "01" + "02" + "02" + "04" + "03" + "02" + "05" + "a702")
	if got := AppendInstance(nil, &in); !bytes.Equal(got, want) {
		t.Fatalf("encoding\n got %x\nwant %x", got, want)
	}
}

func TestReadInstanceRejects(t *testing.T) {
	valid := AppendInstance(nil, &Instance{ID: "ingester-1", Addr: "127.0.0.1:9095", Ingester: true, State: Active, Heartbeat: 99, Tokens: []uint32{10, 20000, 3_000_000_000}})
	// bare is an instance with empty strings: flags at [5], state at [6],
	// registered, heartbeat, applied index and token count at [7:11].
	bare := AppendInstance(nil, &Instance{State: Active})
	set := func(b []byte, i int, v byte) []byte { b = bytes.Clone(b); b[i] = v; return b }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	tests := []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrCorrupt},
		{"version 0", set(valid, 0, 0), ErrUnknownVersion},
		{"version 2", set(valid, 0, 2), ErrUnknownVersion},
		{"version 255 alone", []byte{255}, ErrUnknownVersion},
		{"trailing byte", cat(valid, []byte{0}), ErrCorrupt},
		{"string past end", []byte{1, 50, 'a'}, ErrCorrupt},
		{"unknown flag", set(bare, 5, 0x02), ErrCorrupt},
		{"state 0", set(bare, 6, 0), ErrCorrupt},
		{"state 4", set(bare, 6, 4), ErrCorrupt},
		{"state 255", set(bare, 6, 255), ErrCorrupt},
		{"overlong varint", cat(bare[:7], bytes.Repeat([]byte{0xff}, 10), []byte{0x01}), ErrCorrupt},
		{"token count past end", cat(bare[:10], []byte{0xff, 0xff, 0xff, 0xff, 0x0f, 1}), ErrCorrupt},
		{"token delta overflows 32 bits", cat(bare[:10], []byte{1, 0x80, 0x80, 0x80, 0x80, 0x10}), ErrCorrupt},
	}
	for n := 1; n < len(valid); n++ {
		tests = append(tests, struct {
			name string
			b    []byte
			want error
		}{fmt.Sprintf("truncated to %d of %d bytes", n, len(valid)), valid[:n:n], ErrCorrupt})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadInstance(tt.b)
			if !errors.Is(err, tt.want) {
				t.Fatalf("ReadInstance(%x) error = %v, want %v", tt.b, err, tt.want)
			}
			if !reflect.DeepEqual(got, Instance{}) {
				t.Fatalf("ReadInstance returned %+v with an error", got)
			}
		})
	}
}

func TestReadInstanceDoesNotAlias(t *testing.T) {
	b := AppendInstance(nil, &Instance{ID: "abc", Addr: "h:1", State: Active, Ingester: true, Tokens: []uint32{1, 2}})
	in, err := ReadInstance(b)
	if err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] = 'z'
	}
	if in.ID != "abc" || in.Addr != "h:1" || !reflect.DeepEqual(in.Tokens, []uint32{1, 2}) {
		t.Fatalf("decoded instance changed with its input: %+v", in)
	}
}

// testdata/instance-v1.bin is a frozen Instance of format version 1: every
// later version of this package must decode it to exactly v1Instance and
// encode v1Instance to exactly these bytes. It was made by this code, and
// must never be regenerated:
//
//	b := AppendInstance(nil, &v1Instance)
//	// os.WriteFile("testdata/instance-v1.bin", b, 0o644)
var v1Instance = Instance{
	ID:           "lode-ingester-0",
	Addr:         "10.1.2.3:9095",
	HTTPAddr:     "10.1.2.3:3100",
	RaftAddr:     "10.1.2.3:9096",
	Ingester:     true,
	Tokens:       []uint32{0, 17, 65_536, 1 << 31, 4_000_000_000, math.MaxUint32},
	State:        Leaving,
	Registered:   1_700_000_000_123,
	Heartbeat:    1_700_000_060_456,
	AppliedIndex: 987_654_321,
}

func TestFixtureV1(t *testing.T) {
	data, err := os.ReadFile("testdata/instance-v1.bin")
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadInstance(data)
	if err != nil {
		t.Fatalf("ReadInstance(fixture): %v", err)
	}
	if !reflect.DeepEqual(got, v1Instance) {
		t.Fatalf("fixture decodes to\n%+v\nwant\n%+v", got, v1Instance)
	}
	if b := AppendInstance(nil, &v1Instance); !bytes.Equal(b, data) {
		t.Fatalf("encoding changed:\n got %x\nwant %x", b, data)
	}
}

func FuzzReadInstance(f *testing.F) {
	f.Add(AppendInstance(nil, &v1Instance))
	f.Add(AppendInstance(nil, &Instance{State: Joining}))
	f.Add([]byte{1, 0, 0, 0, 0, 1, 2, 0, 0, 0, 3, 1, 1, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		in, err := ReadInstance(b)
		if err != nil {
			return
		}
		again, err := ReadInstance(AppendInstance(nil, &in))
		if err != nil {
			t.Fatalf("re-encoded instance does not decode: %v", err)
		}
		if !reflect.DeepEqual(again, in) {
			t.Fatalf("re-encoding changed the instance:\n%+v\n%+v", again, in)
		}
	})
}
