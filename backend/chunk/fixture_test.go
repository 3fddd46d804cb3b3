package chunk

import (
	"bytes"
	"os"
	"testing"

	"github.com/lode-logs/lode/backend/model"
	"github.com/prometheus/prometheus/model/labels"
)

// testdata/v1.chunk is a frozen chunk of format version 1: every later
// version of this package must decode it to exactly v1Entries. It was made
// by this code (Lode at the introduction of format v1), and must never be
// regenerated:
//
//	var blocks []EncodedBlock
//	for _, bl := range []struct {
//		codec Codec
//		es    []model.Entry
//	}{
//		{CodecZstd, v1Entries[0:4]},
//		{CodecSnappy, v1Entries[4:7]},
//		{CodecS2, v1Entries[7:9]},
//		{CodecNone, v1Entries[9:]},
//	} {
//		b := NewBlockBuilder(bl.codec)
//		for i := len(bl.es) - 1; i >= 0; i-- { // reverse order: Encode sorts
//			b.Append(bl.es[i].Timestamp, bl.es[i].Line, bl.es[i].Metadata)
//		}
//		b.Append(bl.es[0].Timestamp, bl.es[0].Line, bl.es[0].Metadata) // a retried push
//		data, meta := b.Encode(nil)
//		blocks = append(blocks, EncodedBlock{Meta: meta, Data: data})
//	}
//	data, err := Encode(nil, Header{
//		Tenant: "fixture-tenant",
//		Labels: labels.FromStrings("app", "api", "namespace", "prod", "level", "info"),
//		Codec:  CodecZstd,
//	}, blocks)
//	// os.WriteFile("testdata/v1.chunk", data, 0o644)
var v1Entries = []model.Entry{
	// block 0 (zstd): 1000..1003, with metadata and identical timestamps
	{Timestamp: 1_700_000_000_000_000_000, Line: []byte(`level=info msg="request completed" status=200 traceID=4bf92f3577b34da6a3ce929d0e0e4736`), Metadata: labels.FromStrings("trace_id", "4bf92f3577b34da6a3ce929d0e0e4736")},
	{Timestamp: 1_700_000_000_000_000_000, Line: []byte(`level=info msg="same timestamp, second line"`)},
	{Timestamp: 1_700_000_000_250_000_001, Line: []byte{}},
	{Timestamp: 1_700_000_001_000_000_000, Line: []byte("GET /api/v1/users/42 200 \xff\xfe invalid utf-8"), Metadata: labels.FromStrings("user", "42", "region", "eu-west-1")},
	// block 1 (snappy): overlaps block 0 in time
	{Timestamp: 1_700_000_000_500_000_000, Line: []byte(`{"level":"warn","msg":"slow query","duration_ms":1234.5}`)},
	{Timestamp: 1_700_000_001_000_000_000, Line: []byte("GET /api/v1/users/42 200 \xff\xfe invalid utf-8"), Metadata: labels.FromStrings("user", "42", "region", "eu-west-1")},
	{Timestamp: 1_700_000_002_000_000_000, Line: []byte("java.lang.IllegalStateException: boom\n\tat com.acme.Foo.bar(Foo.java:42)\n\tat com.acme.Main.main(Main.java:7)")},
	// block 2 (s2): later, disjoint
	{Timestamp: 1_700_000_010_000_000_000, Line: []byte("ünïcødé ✓ line")},
	{Timestamp: 1_700_000_011_000_000_000, Line: []byte("x")},
	// block 3 (none): far later
	{Timestamp: 1_700_003_600_000_000_000, Line: []byte("an hour later")},
}

func TestFixtureV1(t *testing.T) {
	data, err := os.ReadFile("testdata/v1.chunk")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Decode(data)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	h := c.Header()
	ls := labels.FromStrings("app", "api", "namespace", "prod", "level", "info")
	if h.Tenant != "fixture-tenant" || !labels.Equal(h.Labels, ls) || h.Codec != CodecZstd ||
		h.Fingerprint != model.StreamFingerprint("fixture-tenant", ls) ||
		h.From != v1Entries[0].Timestamp || h.Through != v1Entries[len(v1Entries)-1].Timestamp || h.Entries != 10 {
		t.Fatalf("header %+v", h)
	}
	codecs := []Codec{CodecZstd, CodecSnappy, CodecS2, CodecNone}
	if len(c.Blocks()) != 4 {
		t.Fatalf("%d blocks", len(c.Blocks()))
	}
	for i, m := range c.Blocks() {
		if m.Codec != codecs[i] {
			t.Fatalf("block %d codec %s, want %s", i, m.Codec, codecs[i])
		}
	}
	// The entry shared by blocks 0 and 1 comes out once.
	exp := append(append([]model.Entry{}, v1Entries[:5]...), v1Entries[6:]...)
	exp[3], exp[4] = exp[4], exp[3]
	for _, dir := range []model.Direction{model.Forward, model.Backward} {
		t.Run(dir.String(), func(t *testing.T) {
			got := collect(t, c.Entries(-1<<62, 1<<62, dir, ReadOptions{}))
			w := exp
			if dir == model.Backward {
				w = want([][]model.Entry{exp}, -1<<62, 1<<62, model.Backward)
			}
			sameEntries(t, got, w, false)
		})
	}
	// Block filters are frozen too: a needle from block 1 only.
	var st ReadStats
	got := collect(t, c.Entries(-1<<62, 1<<62, model.Forward, ReadOptions{Needles: [][]byte{[]byte("IllegalStateException")}, Stats: &st}))
	if st.BlocksSkipped != 3 || len(got) == 0 || !bytes.Contains(got[len(got)-1].Line, []byte("IllegalState")) {
		t.Fatalf("needle read: %d entries, stats %+v", len(got), st)
	}
}
