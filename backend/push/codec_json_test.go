package push

import (
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"testing"
)

func TestDecodeJSON(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want *Request
	}{
		{
			name: "loki shape",
			in: `{"streams":[{"stream":{"app":"api","env":"prod"},"values":[["1700000000123456789","GET /health"],` +
				`["1700000001000000000","with meta",{"trace_id":"abc","user":"u1"}]]},{"stream":{"app":"w"},"values":[]}]}`,
			want: &Request{Streams: []Stream{
				{Labels: `{app="api", env="prod"}`, Entries: []Entry{
					{Timestamp: 1700000000123456789, Line: []byte("GET /health")},
					{Timestamp: 1700000001000000000, Line: []byte("with meta"), Metadata: []LabelPair{{"trace_id", "abc"}, {"user", "u1"}}},
				}},
				{Labels: `{app="w"}`},
			}},
		},
		{
			name: "escapes, whitespace, numeric timestamp, unknown keys, values before stream",
			in: " {\n\"extra\": [1, {\"x\": [true, null, -1.5e3]}, \"s\"],\n \"streams\" : [ { \"values\" : [ [ 12 , " +
				`"tab\there \"q\" \\ \/ \u00e9 \ud83d\ude00 \u0000 lone \ud800 end" , null ] ] , "other": {}, "stream" : { "a\"b" : "c\nd" } } ] } `,
			want: &Request{Streams: []Stream{{Labels: `{a"b="c\nd"}`, Entries: []Entry{
				{Timestamp: 12, Line: []byte("tab\there \"q\" \\ / é 😀 \x00 lone \uFFFD end")},
			}}}},
		},
		{
			name: "raw invalid UTF-8 kept byte-exact",
			in:   "{\"streams\":[{\"stream\":{\"a\":\"b\"},\"values\":[[\"1\",\"\xff\xfe raw\"]]}]}",
			want: &Request{Streams: []Stream{{Labels: `{a="b"}`, Entries: []Entry{{Timestamp: 1, Line: []byte("\xff\xfe raw")}}}}},
		},
		{
			name: "null streams and missing stream labels",
			in:   `{"streams":[{"values":[["1","x"]]}, {"stream":null,"values":null}]}`,
			want: &Request{Streams: []Stream{{Labels: `{}`, Entries: []Entry{{Timestamp: 1, Line: []byte("x")}}}, {Labels: `{}`}}},
		},
		{name: "no streams", in: `{"streams":null}`, want: &Request{}},
		{name: "empty object", in: `{}`, want: &Request{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Request
			if err := r.DecodeJSON([]byte(tt.in)); err != nil {
				t.Fatal(err)
			}
			if got, want := normalize(&r), normalize(tt.want); !reflect.DeepEqual(got, want) {
				t.Fatalf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestDecodeJSONErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty", ``, "malformed push request: json: offset 0: unexpected end of input"},
		{"not an object", `[]`, `malformed push request: json: offset 0: expected an object, got '['`},
		{"truncated", `{"streams":[{"stream":{"a":"b"}`, "malformed push request: json: streams[0]: offset 31: unexpected end of input"},
		{"trailing data", `{} {}`, "malformed push request: json: offset 3: unexpected data after the request object"},
		{"bad timestamp", `{"streams":[{"values":[["12x","l"]]}]}`, `malformed push request: json: streams[0]: values[0][0]: offset 24: invalid timestamp "12x": want Unix nanoseconds`},
		{"timestamp overflow", `{"streams":[{"values":[["99999999999999999999","l"]]}]}`, `malformed push request: json: streams[0]: values[0][0]: offset 24: invalid timestamp "99999999999999999999": want Unix nanoseconds`},
		{"too few elements", `{"streams":[{"values":[["1"]]}]}`, "malformed push request: json: streams[0]: values[0]: offset 28: entry has 1 elements, want [timestamp, line] or [timestamp, line, metadata]"},
		{"line not a string", `{"streams":[{"values":[["1",2]]}]}`, "malformed push request: json: streams[0]: values[0][1]: offset 28: expected a string"},
		{"metadata value not a string", `{"streams":[{"values":[["1","l",{"k":1}]]}]}`, `malformed push request: json: streams[0]: values[0][2]: offset 37: value of "k" is not a string`},
		{"label value not a string", `{"streams":[{"stream":{"a":true}}]}`, `malformed push request: json: streams[0]: stream: offset 27: value of "a" is not a string`},
		{"bad escape", `{"streams":[{"values":[["1","a\qb"]]}]}`, `malformed push request: json: streams[0]: values[0][1]: offset 30: invalid escape '\q'`},
		{"bad unicode escape", `{"streams":[{"values":[["1","\u12"]]}]}`, `malformed push request: json: streams[0]: values[0][1]: offset 29: invalid \u escape`},
		{"unterminated string", `{"streams":[{"values":[["1","abc`, "malformed push request: json: streams[0]: values[0][1]: offset 32: unterminated string"},
		{"missing comma", `{"streams":[{} {}]}`, `malformed push request: json: offset 15: expected ',' or ']', got '{'`},
		{"missing colon", `{"streams" []}`, `malformed push request: json: offset 11: expected ':' after key "streams"`},
		{"bad literal in unknown key", `{"x": nope}`, "malformed push request: json: offset 6: expected a number or a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Request
			err := r.DecodeJSON([]byte(tt.in))
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("%v is not ErrMalformed", err)
			}
			if err.Error() != tt.want {
				t.Errorf("error\n got %s\nwant %s", err, tt.want)
			}
		})
	}
}

// jsonShape is Loki's JSON push body for encoding/json, the reference.
type jsonShape struct {
	Streams []struct {
		Stream map[string]string `json:"stream"`
		Values [][]any           `json:"values"`
	} `json:"streams"`
}

func TestAppendJSONIsValidAndRoundTrips(t *testing.T) {
	want := lokiFixture()
	want.Streams[0].Entries[1].Line = []byte("line with \x00 nul, \t tab, \"quotes\", é, 😀 and </script>")
	b, err := want.AppendJSON(nil)
	if err != nil {
		t.Fatal(err)
	}
	var ref jsonShape
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatalf("AppendJSON wrote invalid JSON: %v\n%s", err, b)
	}
	if got := ref.Streams[0].Values[1][1]; got != string(want.Streams[0].Entries[1].Line) {
		t.Fatalf("encoding/json reads line %q", got)
	}
	if got := ref.Streams[0].Values[1][0]; got != strconv.FormatInt(want.Streams[0].Entries[1].Timestamp, 10) {
		t.Fatalf("encoding/json reads timestamp %v", got)
	}
	var r Request
	if err := r.DecodeJSON(b); err != nil {
		t.Fatal(err)
	}
	if got, want := normalize(&r), normalize(want); !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip\n got %+v\nwant %+v", got, want)
	}
}

func TestAppendJSONInvalidUTF8(t *testing.T) {
	r := &Request{Streams: []Stream{{Labels: `{a="b"}`, Entries: []Entry{{Timestamp: 1, Line: []byte("a\xffb")}}}}}
	b, err := r.AppendJSON(nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"streams":[{"stream":{"a":"b"},"values":[["1","a\ufffdb"]]}]}`; string(b) != want {
		t.Fatalf("got %s, want %s", b, want)
	}
	r.Streams[0].Labels = `{a=b}`
	if _, err := r.AppendJSON(nil); err == nil {
		t.Fatal("unparsable labels encoded without error")
	}
}

// TestDecodeJSONAgreesWithEncodingJSON decodes bodies that encoding/json
// wrote from random data and compares.
func TestDecodeJSONAgreesWithEncodingJSON(t *testing.T) {
	lines := []string{"", "plain", "é😀", "\x00\x01\x1f", "<>&\u2028\u2029", `\"/`, "tab\tnl\n"}
	for i, line := range lines {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			body, err := json.Marshal(map[string]any{"streams": []any{map[string]any{
				"stream": map[string]string{"k": line, "app": "x"},
				"values": [][]any{{"42", line, map[string]string{"m": line}}},
			}}})
			if err != nil {
				t.Fatal(err)
			}
			var r Request
			if err := r.DecodeJSON(body); err != nil {
				t.Fatal(err)
			}
			e := r.Streams[0].Entries[0]
			if string(e.Line) != line || e.Metadata[0].Value != line || e.Timestamp != 42 {
				t.Fatalf("decoded %+v from %s", e, body)
			}
			pairs, err := AppendParsedLabels(nil, r.Streams[0].Labels)
			if err != nil {
				t.Fatal(err)
			}
			if pairs[1] != (LabelPair{"k", line}) {
				t.Fatalf("labels %q, want k=%q", r.Streams[0].Labels, line)
			}
		})
	}
}

func FuzzDecodeJSON(f *testing.F) {
	f.Add([]byte(`{"streams":[{"stream":{"a":"b"},"values":[["1","x",{"k":"v"}]]}]}`))
	f.Add([]byte(`{"streams":[{"values":[["1","\u00e9\ud800\\"]]}],"x":[{"y":[1,2]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Request
		if err := r.DecodeJSON(b); err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("%v is not ErrMalformed", err)
			}
			return
		}
		enc, err := r.AppendJSON(nil)
		if err != nil {
			return // a label name that is not a valid label name
		}
		if !json.Valid(enc) {
			t.Fatalf("AppendJSON wrote invalid JSON %q", enc)
		}
	})
}
