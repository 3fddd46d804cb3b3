package chunk

import (
	"testing"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/model"
)

// TimestampsOnly reads skip lines but keep structured metadata, which
// metric queries may group by.
func TestTimestampsOnlyKeepsMetadata(t *testing.T) {
	b := NewBlockBuilder(DefaultCodec)
	b.Append(1, []byte("first"), labels.FromStrings("trace_id", "a1"))
	b.Append(2, []byte("second"), labels.EmptyLabels())
	b.Append(3, []byte("third"), labels.FromStrings("trace_id", "c3", "user", "u"))
	data, meta := b.Encode(nil)
	obj, err := Encode(nil, Header{Tenant: "t", Labels: labels.FromStrings("app", "x"), Codec: DefaultCodec},
		[]EncodedBlock{{Meta: meta, Data: data}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := Decode(obj)
	if err != nil {
		t.Fatal(err)
	}
	for name, it := range map[string]interface {
		Next() bool
		At() model.Entry
		Close() error
	}{
		"chunk": c.Entries(0, 10, model.Forward, ReadOptions{TimestampsOnly: true}),
		"block": BlockEntries(data, meta, 0, 10, model.Forward, ReadOptions{TimestampsOnly: true}),
	} {
		var got []string
		for it.Next() {
			e := it.At()
			if e.Line != nil {
				t.Fatalf("%s: line %q decoded in timestamps-only mode", name, e.Line)
			}
			got = append(got, e.Metadata.String())
		}
		_ = it.Close()
		want := []string{`{trace_id="a1"}`, `{}`, `{trace_id="c3", user="u"}`}
		if len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
			t.Fatalf("%s: metadata %q, want %q", name, got, want)
		}
	}
}
