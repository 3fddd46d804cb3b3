package frontend

import (
	"errors"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
)

func TestDecodeLabels(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want labels.Labels
	}{
		{"empty", `{}`, labels.EmptyLabels()},
		{"sorted", `{"b":"2","a":"1"}`, labels.FromStrings("a", "1", "b", "2")},
		{"spaces", ` { "a" : "1" , "b":"x y" } `, labels.FromStrings("a", "1", "b", "x y")},
		{"escapes", `{"a":"q\"b\\s\/n\nt\tr\r\u00e9\ud83d\ude00\u0001"}`, labels.FromStrings("a", "q\"b\\s/n\nt\tr\ré😀\x01")},
		{"invalid utf-8 kept", "{\"a\":\"x\xffy\"}", labels.FromStrings("a", "x\xffy")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeLabels([]byte(tt.in))
			if err != nil || !labels.Equal(got, tt.want) {
				t.Fatalf("got %v, %v; want %v", got, err, tt.want)
			}
		})
	}
	for _, bad := range []string{``, `[]`, `{"a"}`, `{"a":1}`, `{"a":"x`, `{"a":"\u12"}`} {
		if _, err := decodeLabels([]byte(bad)); !errors.Is(err, ErrBadPartResponse) {
			t.Errorf("%q: err %v, want ErrBadPartResponse", bad, err)
		}
	}
}

func TestDecodePart(t *testing.T) {
	ok := `{"status":"success","data":{"resultType":"streams","result":[{"stream":{"a":"1"},"values":[["5","x"],["3","y"]]}],"stats":{"summary":{"execTime":0.5}}}}`
	p, err := decodePart([]byte(ok), typeStreams)
	if err != nil || p.entries != 2 || p.stats.Summary.ExecTime != 0.5 || string(p.series[0].labels) != `{"a":"1"}` {
		t.Fatalf("got %+v, %v", p, err)
	}
	if ts, err := entryTimestamp(p.series[0].values[1]); err != nil || ts != 3 {
		t.Fatalf("timestamp %d, %v", ts, err)
	}
	for _, bad := range []string{
		`not json`,
		`{"status":"error"}`,
		`{"status":"success","data":{"resultType":"matrix","result":[]}}`,
		`{"status":"success","data":{"resultType":"streams","result":[{"values":[]}]}}`,
	} {
		if _, err := decodePart([]byte(bad), typeStreams); !errors.Is(err, ErrBadPartResponse) {
			t.Errorf("%q: err %v, want ErrBadPartResponse", bad, err)
		}
	}
}

// FuzzDecodePart: no input makes the decoder panic, and what it accepts
// has consistent counts.
func FuzzDecodePart(f *testing.F) {
	f.Add([]byte(`{"status":"success","data":{"resultType":"streams","result":[{"stream":{"a":"1"},"values":[["5","x\\"y"]]}],"stats":{}}}`))
	f.Add([]byte(`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1.5,"2"],[3,"NaN"]]}]}}`))
	f.Add([]byte(`{"status":"success","data":{"resultType":"streams","encodingFlags":["categorize-labels"],"result":[]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, want := range []string{typeStreams, typeMatrix} {
			p, err := decodePart(b, want)
			if err != nil {
				continue
			}
			n := 0
			for _, s := range p.series {
				n += len(s.values)
				_, _ = decodeLabels(s.labels)
				for _, v := range s.values {
					_, _ = entryTimestamp(v)
				}
			}
			if n != p.entries {
				t.Fatalf("entries %d, counted %d", p.entries, n)
			}
		}
	})
}
