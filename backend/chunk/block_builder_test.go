package chunk

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/lode-logs/lode/backend/model"
	"github.com/prometheus/prometheus/model/labels"
)

// builderEntries returns n entries with runs of equal timestamps, exact
// duplicates, empty lines, invalid UTF-8 and, if withMD, metadata on some.
func builderEntries(r *rand.Rand, n int, withMD bool) []model.Entry {
	var es []model.Entry
	ts := int64(1_700_000_000_000_000_000)
	for i := 0; len(es) < n; i++ {
		if r.IntN(3) > 0 {
			ts += int64(r.IntN(1_000_000))
		}
		var line []byte
		switch r.IntN(6) {
		case 0:
		case 1:
			line = []byte{0xff, 0xfe, byte(i)}
		default:
			line = fmt.Appendf(nil, "level=info msg=%q n=%d", "request done", r.IntN(40))
		}
		md := labels.EmptyLabels()
		if withMD && r.IntN(4) == 0 {
			md = labels.FromStrings("trace_id", fmt.Sprint(r.IntN(5)))
		}
		es = append(es, model.Entry{Timestamp: ts, Line: line, Metadata: md})
		if r.IntN(10) == 0 {
			es = append(es, es[len(es)-1]) // a retried push
		}
	}
	return es
}

// orderings returns the entries in several append orders: as generated,
// with equal timestamps reversed, with a late entry, reversed, shuffled.
func orderings(r *rand.Rand, es []model.Entry) map[string][]model.Entry {
	tiesReversed := slices.Clone(es)
	for i := 0; i < len(tiesReversed); {
		j := i
		for j < len(tiesReversed) && tiesReversed[j].Timestamp == tiesReversed[i].Timestamp {
			j++
		}
		slices.Reverse(tiesReversed[i:j])
		i = j
	}
	late := append(slices.Clone(es[1:]), es[0])
	reversed := slices.Clone(es)
	slices.Reverse(reversed)
	shuffled := slices.Clone(es)
	r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	return map[string][]model.Entry{
		"in order": es, "ties reversed": tiesReversed, "late entry": late,
		"reversed": reversed, "shuffled": shuffled,
	}
}

// TestEncodeIndependentOfOrder checks that a block's bytes and meta depend
// only on the set of entries appended, whatever their order and whether the
// builder is fresh or reused, and that the block reads back as that set.
func TestEncodeIndependentOfOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, codec := range []Codec{CodecNone, CodecZstd} {
		reused := NewBlockBuilder(codec)
		for _, n := range []int{1, 2, 7, 300, 3000} {
			for _, withMD := range []bool{false, true} {
				es := builderEntries(r, n, withMD)
				var wantData []byte
				var wantMeta BlockMeta
				for name, order := range orderings(r, es) {
					t.Run(fmt.Sprintf("%s/n=%d/md=%v/%s", codec, n, withMD, name), func(t *testing.T) {
						for _, b := range []*BlockBuilder{NewBlockBuilder(codec), reused} {
							for _, e := range order {
								b.Append(e.Timestamp, e.Line, e.Metadata)
							}
							data, meta := b.Encode([]byte("prefix"))
							data = data[len("prefix"):]
							if wantData == nil {
								wantData, wantMeta = data, meta
								checkBlockEntries(t, data, meta, es)
								continue
							}
							if !bytes.Equal(data, wantData) || !reflect.DeepEqual(meta, wantMeta) {
								t.Fatalf("block differs from the block of the same entries in another order")
							}
						}
					})
				}
			}
		}
	}
}

// checkBlockEntries reads the block forward and compares it with es sorted
// and deduplicated.
func checkBlockEntries(t *testing.T, data []byte, meta BlockMeta, es []model.Entry) {
	t.Helper()
	got := collect(t, BlockEntries(data, meta, -1<<62, 1<<62, model.Forward, ReadOptions{}))
	exp := want([][]model.Entry{es}, -1<<62, 1<<62, model.Forward)
	if len(got) != len(exp) {
		t.Fatalf("read %d entries, want %d", len(got), len(exp))
	}
	for i := range got {
		if got[i].Timestamp != exp[i].Timestamp || !bytes.Equal(got[i].Line, exp[i].Line) ||
			!labels.Equal(got[i].Metadata, exp[i].Metadata) {
			t.Fatalf("entry %d: got %d %q %v, want %d %q %v", i, got[i].Timestamp, got[i].Line, got[i].Metadata,
				exp[i].Timestamp, exp[i].Line, exp[i].Metadata)
		}
	}
}

// TestBuilderReuse encodes a sequence of blocks with one builder, mixing
// blocks whose lines section is the builder's arena (in order, no metadata,
// no duplicate) with blocks that need a copy, and compares each with the
// block of a fresh builder.
func TestBuilderReuse(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	reused := NewBlockBuilder(CodecZstd)
	inOrder := func(n int) []model.Entry {
		var es []model.Entry
		for i := range n {
			es = append(es, model.Entry{Timestamp: int64(i), Line: fmt.Appendf(nil, "line %d %x", i, r.Uint64())})
		}
		return es
	}
	withMD := inOrder(50)
	withMD[10].Metadata = labels.FromStrings("k", "v")
	withDup := inOrder(50)
	withDup = slices.Insert(withDup, 20, withDup[19])
	emptyFirst := inOrder(50)
	emptyFirst[0].Line = nil
	blocks := []struct {
		name string
		es   []model.Entry
	}{
		{"in order", inOrder(100)},
		{"metadata", withMD},
		{"in order again", inOrder(10)},
		{"duplicate", withDup},
		{"shuffled", builderEntries(r, 200, false)},
		{"empty first line", emptyFirst},
		{"empty", nil},
		{"in order last", inOrder(300)},
	}
	for _, bl := range blocks {
		t.Run(bl.name, func(t *testing.T) {
			fresh := NewBlockBuilder(CodecZstd)
			for _, e := range bl.es {
				reused.Append(e.Timestamp, e.Line, e.Metadata)
				fresh.Append(e.Timestamp, e.Line, e.Metadata)
			}
			data, meta := reused.Encode(nil)
			wantData, wantMeta := fresh.Encode(nil)
			if !bytes.Equal(data, wantData) || !reflect.DeepEqual(meta, wantMeta) {
				t.Fatal("reused builder encodes differently from a fresh one")
			}
			if len(bl.es) > 0 {
				checkBlockEntries(t, data, meta, bl.es)
			}
		})
	}
}
