package ingester

import (
	"errors"
	"testing"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/model"
)

func TestWALEntriesRoundTrip(t *testing.T) {
	in := []model.Entry{
		{Timestamp: -5, Line: []byte{}, Metadata: labels.EmptyLabels()},
		{Timestamp: t0, Line: []byte("plain line"), Metadata: labels.EmptyLabels()},
		{Timestamp: t0, Line: []byte("\xff\x00 invalid utf-8"), Metadata: labels.FromStrings("trace_id", "abc", "user", "")},
		{Timestamp: 1<<63 - 1, Line: make([]byte, 70000), Metadata: labels.FromStrings("a", "b")},
	}
	var body []byte
	for k := range in {
		body = appendEntry(body, &in[k])
	}
	r := entryReader{b: body}
	var e walEntry
	var sb labels.ScratchBuilder
	for k := range in {
		if !r.next(&e) {
			t.Fatalf("entry %d: %v", k, r.err)
		}
		md := metadataLabels(e.md, &sb)
		if e.ts != in[k].Timestamp || string(e.line) != string(in[k].Line) || !labels.Equal(md, in[k].Metadata) {
			t.Fatalf("entry %d: got %d %q %v", k, e.ts, e.line, md)
		}
	}
	if r.next(&e) || r.err != nil {
		t.Fatalf("trailing entry or error: %v", r.err)
	}
	// Every strict prefix that cuts an entry is reported corrupt, never a panic.
	for n := 1; n < len(body); n++ {
		r := entryReader{b: body[:n]}
		for r.next(&e) {
		}
		if r.err != nil && !errors.Is(r.err, ErrCorrupt) {
			t.Fatalf("prefix %d: %v", n, r.err)
		}
	}
}

func TestRecordsRoundTrip(t *testing.T) {
	ls := labels.FromStrings("app", "api", "namespace", "prod")
	sr, err := readStreamRecord(appendStreamRecord(nil, "tenant-1", 42, ls))
	if err != nil || sr.tenant != "tenant-1" || sr.fp != 42 || !labels.Equal(sr.labels, ls) {
		t.Fatalf("stream record: %+v, %v", sr, err)
	}
	w, meta, err := readBlockMetaRecord(appendBlockMetaRecord(nil, -7200, []byte("meta")))
	if err != nil || w != -7200 || string(meta) != "meta" {
		t.Fatalf("block meta record: %d %q %v", w, meta, err)
	}
	f, blk, err := readBlockDataRecord(appendBlockDataRecord(nil, []byte("filter"), []byte("block")))
	if err != nil || string(f) != "filter" || string(blk) != "block" {
		t.Fatalf("block data record: %q %q %v", f, blk, err)
	}
	n, reason, err := readCutRecord(appendCutRecord(nil, 12, cutIdle))
	if err != nil || n != 12 || reason != cutIdle {
		t.Fatalf("cut record: %d %d %v", n, reason, err)
	}
	bad := [][]byte{nil, {2}, {recordVersion}, {recordVersion, 1, 2, 3}}
	for _, b := range bad {
		if _, err := readStreamRecord(b); !errors.Is(err, ErrCorrupt) {
			t.Errorf("stream record %x: %v", b, err)
		}
		if _, _, err := readCutRecord(b); !errors.Is(err, ErrCorrupt) {
			t.Errorf("cut record %x: %v", b, err)
		}
	}
}

func TestKeysOrderNumerically(t *testing.T) {
	a := walKey(nil, 1, 255)
	b := walKey(nil, 1, 256)
	c := walKey(nil, 2, 0)
	if string(a) >= string(b) || string(b) >= string(c) {
		t.Fatal("WAL keys do not sort by (sid, seq)")
	}
	ids, ok := parseKey(blockDataKey(3, 4, 5), prefixBlockData, 3)
	if !ok || ids != [3]uint64{3, 4, 5} {
		t.Fatalf("parseKey: %v %v", ids, ok)
	}
	if _, ok := parseKey(cutKey(1, 2), prefixBlockData, 3); ok {
		t.Fatal("parseKey accepted a key of another shape")
	}
}

func TestAlignDown(t *testing.T) {
	cases := []struct{ ts, w, want int64 }{
		{0, 10, 0}, {9, 10, 0}, {10, 10, 10}, {-1, 10, -10}, {-10, 10, -10}, {-11, 10, -20},
	}
	for _, c := range cases {
		if got := alignDown(c.ts, c.w); got != c.want {
			t.Errorf("alignDown(%d, %d) = %d, want %d", c.ts, c.w, got, c.want)
		}
	}
}
