package chunk

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/lode-logs/lode/backend/iter"
	"github.com/lode-logs/lode/backend/model"
	"github.com/prometheus/prometheus/model/labels"
)

var allCodecs = []Codec{CodecNone, CodecSnappy, CodecS2, CodecZstd}

// encodeBlock builds one block from entries.
func encodeBlock(t testing.TB, codec Codec, es []model.Entry) EncodedBlock {
	t.Helper()
	b := NewBlockBuilder(codec)
	for _, e := range es {
		b.Append(e.Timestamp, e.Line, e.Metadata)
	}
	data, meta := b.Encode(nil)
	if b.Len() != 0 || b.RawSize() != 0 {
		t.Fatalf("builder not reset after Encode")
	}
	return EncodedBlock{Meta: meta, Data: data}
}

// encodeChunk builds a chunk with one block per element of blocks.
func encodeChunk(t testing.TB, codec Codec, blocks ...[]model.Entry) []byte {
	t.Helper()
	var ebs []EncodedBlock
	for _, es := range blocks {
		ebs = append(ebs, encodeBlock(t, codec, es))
	}
	h := Header{Tenant: "tenant-a", Labels: labels.FromStrings("app", "api", "namespace", "prod"), Codec: codec}
	data, err := Encode(nil, h, ebs)
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	return data
}

// want is the reference: entries of all blocks with from <= ts < through,
// identical (ts, line) dropped, in direction order with ties by line.
func want(blocks [][]model.Entry, from, through int64, dir model.Direction) []model.Entry {
	var all []model.Entry
	for _, es := range blocks {
		for _, e := range es {
			if e.Timestamp >= from && e.Timestamp < through {
				all = append(all, e)
			}
		}
	}
	slices.SortStableFunc(all, func(a, b model.Entry) int {
		if a.Timestamp != b.Timestamp {
			if (a.Timestamp < b.Timestamp) == (dir == model.Forward) {
				return -1
			}
			return 1
		}
		if c := bytes.Compare(a.Line, b.Line); c != 0 {
			return c
		}
		return labels.Compare(a.Metadata, b.Metadata)
	})
	return slices.CompactFunc(all, func(a, b model.Entry) bool {
		return a.Timestamp == b.Timestamp && bytes.Equal(a.Line, b.Line)
	})
}

func collect(t testing.TB, it iter.Iterator[model.Entry]) []model.Entry {
	t.Helper()
	out, err := iter.Collect(it, model.Entry.Clone)
	if err != nil {
		t.Fatalf("iterate: %v", err)
	}
	return out
}

func sameEntries(t testing.TB, got, exp []model.Entry, tsOnly bool) {
	t.Helper()
	if len(got) != len(exp) {
		t.Fatalf("got %d entries, want %d", len(got), len(exp))
	}
	for i := range got {
		g, w := got[i], exp[i]
		if tsOnly {
			if g.Timestamp != w.Timestamp || g.Line != nil {
				t.Fatalf("entry %d: got ts %d line %q, want ts %d and nil line", i, g.Timestamp, g.Line, w.Timestamp)
			}
			continue
		}
		if g.Timestamp != w.Timestamp || !bytes.Equal(g.Line, w.Line) || !labels.Equal(g.Metadata, w.Metadata) {
			t.Fatalf("entry %d: got (%d, %q, %v), want (%d, %q, %v)", i, g.Timestamp, g.Line, g.Metadata, w.Timestamp, w.Line, w.Metadata)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	md := labels.FromStrings("trace_id", "abc123", "user", "u1")
	cases := []struct {
		name   string
		blocks [][]model.Entry
	}{
		{"single", [][]model.Entry{{{Timestamp: 10, Line: []byte("hello")}}}},
		{"identical timestamps", [][]model.Entry{{
			{Timestamp: 5, Line: []byte("b")}, {Timestamp: 5, Line: []byte("a")},
			{Timestamp: 5, Line: []byte("c")}, {Timestamp: 7, Line: []byte("z")}, {Timestamp: 7, Line: []byte("y")},
		}}},
		{"empty and invalid utf8 lines", [][]model.Entry{{
			{Timestamp: 1, Line: []byte{}}, {Timestamp: 2, Line: []byte{0xff, 0xfe, 'x', 0}},
			{Timestamp: 3, Line: []byte("\xc3\x28 bad")}, {Timestamp: 3, Line: []byte{}},
		}}},
		{"metadata", [][]model.Entry{{
			{Timestamp: 1, Line: []byte("with md"), Metadata: md},
			{Timestamp: 2, Line: []byte("without md")},
			{Timestamp: 3, Line: []byte("same md"), Metadata: md},
			{Timestamp: 4, Line: []byte("other md"), Metadata: labels.FromStrings("k", "")},
		}}},
		{"duplicates dropped", [][]model.Entry{{
			{Timestamp: 1, Line: []byte("dup")}, {Timestamp: 1, Line: []byte("dup")},
			{Timestamp: 2, Line: []byte("dup")},
		}}},
		{"negative timestamps", [][]model.Entry{{
			{Timestamp: -100, Line: []byte("before epoch")}, {Timestamp: 0, Line: []byte("epoch")},
		}}},
		{"overlapping blocks with shared entries", [][]model.Entry{
			{{Timestamp: 1, Line: []byte("a")}, {Timestamp: 5, Line: []byte("b")}, {Timestamp: 9, Line: []byte("c")}},
			{{Timestamp: 5, Line: []byte("b")}, {Timestamp: 5, Line: []byte("a")}, {Timestamp: 7, Line: []byte("d")}},
			{{Timestamp: 9, Line: []byte("c")}, {Timestamp: 12, Line: []byte("e")}},
		}},
		{"disjoint blocks out of order", [][]model.Entry{
			{{Timestamp: 20, Line: []byte("late")}, {Timestamp: 25, Line: []byte("later")}},
			{{Timestamp: 1, Line: []byte("early")}, {Timestamp: 3, Line: []byte("earlier?")}},
		}},
		{"random", randomBlocks(rand.New(rand.NewPCG(1, 2)), 5, 300)},
	}
	ranges := [][2]int64{{-1 << 62, 1 << 62}, {2, 6}, {5, 6}, {9, 10}, {100, 200}, {3, 3}}
	for _, tc := range cases {
		for _, codec := range allCodecs {
			data := encodeChunk(t, codec, tc.blocks...)
			c, err := Decode(data)
			if err != nil {
				t.Fatalf("%s/%s: Decode: %v", tc.name, codec, err)
			}
			for _, r := range ranges {
				for _, dir := range []model.Direction{model.Forward, model.Backward} {
					for _, tsOnly := range []bool{false, true} {
						name := fmt.Sprintf("%s/%s/[%d,%d)/%s/tsonly=%v", tc.name, codec, r[0], r[1], dir, tsOnly)
						t.Run(name, func(t *testing.T) {
							got := collect(t, c.Entries(r[0], r[1], dir, ReadOptions{TimestampsOnly: tsOnly}))
							sameEntries(t, got, want(tc.blocks, r[0], r[1], dir), tsOnly)
						})
					}
				}
			}
		}
	}
}

// randomBlocks makes n blocks of up to size entries with overlapping times,
// shared entries and metadata.
func randomBlocks(r *rand.Rand, n, size int) [][]model.Entry {
	var blocks [][]model.Entry
	var pool []model.Entry
	for range n {
		var es []model.Entry
		base := r.Int64N(1000)
		for range r.IntN(size) + 1 {
			if len(pool) > 0 && r.IntN(8) == 0 {
				es = append(es, pool[r.IntN(len(pool))])
				continue
			}
			e := model.Entry{Timestamp: base + r.Int64N(200), Line: []byte(fmt.Sprintf("line %d %x", r.IntN(50), r.Uint32()))}
			if r.IntN(4) == 0 {
				e.Line = []byte(fmt.Sprintf("line %d", r.IntN(5)))
			}
			if r.IntN(5) == 0 {
				e.Metadata = labels.FromStrings("k", fmt.Sprint(r.IntN(3)))
			}
			pool = append(pool, e)
			es = append(es, e)
		}
		blocks = append(blocks, es)
	}
	return blocks
}

func TestHeaderAndBlocks(t *testing.T) {
	blocks := [][]model.Entry{
		{{Timestamp: 100, Line: []byte("x")}, {Timestamp: 50, Line: []byte("y")}},
		{{Timestamp: 10, Line: []byte("z")}},
	}
	c, err := Decode(encodeChunk(t, CodecZstd, blocks...))
	if err != nil {
		t.Fatal(err)
	}
	h := c.Header()
	ls := labels.FromStrings("app", "api", "namespace", "prod")
	if h.Tenant != "tenant-a" || !labels.Equal(h.Labels, ls) || h.Codec != CodecZstd ||
		h.From != 10 || h.Through != 100 || h.Entries != 3 || h.Fingerprint != model.StreamFingerprint("tenant-a", ls) {
		t.Fatalf("header %+v", h)
	}
	bs := c.Blocks()
	if len(bs) != 2 || bs[0].MinTime != 10 || bs[1].MinTime != 50 || bs[1].MaxTime != 100 || bs[1].Entries != 2 {
		t.Fatalf("blocks %+v", bs)
	}
}

func TestDeterminism(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	blocks := randomBlocks(r, 4, 200)
	for _, codec := range allCodecs {
		t.Run(codec.String(), func(t *testing.T) {
			ref := encodeChunk(t, codec, blocks...)
			for trial := range 5 {
				shuffled := make([][]model.Entry, len(blocks))
				for i, es := range blocks {
					shuffled[i] = slices.Clone(es)
					r.Shuffle(len(es), func(a, b int) { shuffled[i][a], shuffled[i][b] = shuffled[i][b], shuffled[i][a] })
					// Retried pushes: append some entries twice.
					shuffled[i] = append(shuffled[i], shuffled[i][:len(es)/3]...)
				}
				r.Shuffle(len(shuffled), func(a, b int) { shuffled[a], shuffled[b] = shuffled[b], shuffled[a] })
				if got := encodeChunk(t, codec, shuffled...); !bytes.Equal(got, ref) {
					t.Fatalf("trial %d: different bytes for the same entry sets", trial)
				}
			}
		})
	}
}

func TestBlockEntries(t *testing.T) {
	es := []model.Entry{{Timestamp: 3, Line: []byte("gamma")}, {Timestamp: 1, Line: []byte("alpha")}, {Timestamp: 2, Line: []byte("beta")}}
	eb := encodeBlock(t, CodecS2, es)
	if eb.Meta.Offset != 0 || eb.Meta.Length != uint32(len(eb.Data)) || eb.Meta.RawSize != 14 {
		t.Fatalf("meta %+v", eb.Meta)
	}
	// Through the standalone meta form, as the ingester stores it.
	enc := AppendBlockMeta([]byte("prefix"), eb.Meta)
	m, rest, err := ReadBlockMeta(append(enc[len("prefix"):], "tail"...))
	if err != nil || string(rest) != "tail" {
		t.Fatalf("ReadBlockMeta: %v, rest %q", err, rest)
	}
	var st ReadStats
	got := collect(t, BlockEntries(eb.Data, m, 0, 10, model.Backward, ReadOptions{Stats: &st}))
	sameEntries(t, got, want([][]model.Entry{es}, 0, 10, model.Backward), false)
	if st.BlocksDecoded != 1 || st.Entries != 3 || st.BlocksTotal != 1 {
		t.Fatalf("stats %+v", st)
	}
	got = collect(t, BlockEntries(eb.Data, m, 0, 10, model.Forward, ReadOptions{Needles: [][]byte{[]byte("delta")}, Stats: &st}))
	if len(got) != 0 || st.BlocksSkipped != 1 {
		t.Fatalf("needle not skipped: %d entries, stats %+v", len(got), st)
	}
}

func TestNeedleSkipping(t *testing.T) {
	var blocks [][]model.Entry
	for b := range 10 {
		var es []model.Entry
		for i := range 100 {
			es = append(es, model.Entry{Timestamp: int64(b*1000 + i), Line: []byte(fmt.Sprintf("GET /api/v1/items/%d status=200 block=%d", i, b))})
		}
		blocks = append(blocks, es)
	}
	blocks[7][42].Line = []byte("level=error msg=\"needle-7f3a9c\" took=3ms")
	c, err := Decode(encodeChunk(t, CodecZstd, blocks...))
	if err != nil {
		t.Fatal(err)
	}
	var st ReadStats
	got := collect(t, c.Entries(0, 1<<40, model.Forward, ReadOptions{Needles: [][]byte{[]byte("NEEDLE-7F3A9C")}, Stats: &st}))
	if st.BlocksTotal != 10 || st.BlocksSkipped < 9 || st.BlocksDecoded != 10-st.BlocksSkipped {
		t.Fatalf("stats %+v", st)
	}
	found := false
	for _, e := range got {
		found = found || bytes.Contains(e.Line, []byte("needle-7f3a9c"))
	}
	if !found {
		t.Fatal("needle entry not returned")
	}
}

func TestCorruption(t *testing.T) {
	blocks := randomBlocks(rand.New(rand.NewPCG(5, 6)), 3, 50)
	for _, codec := range allCodecs {
		data := encodeChunk(t, codec, blocks...)
		readAll := func(b []byte) error {
			c, err := Decode(b)
			if err != nil {
				return err
			}
			for _, dir := range []model.Direction{model.Forward, model.Backward} {
				if _, err := iter.Collect(c.Entries(-1<<62, 1<<62, dir, ReadOptions{}), nil); err != nil {
					return err
				}
			}
			return nil
		}
		t.Run(codec.String()+"/flip every byte", func(t *testing.T) {
			for i := range data {
				for _, mask := range []byte{0x01, 0x80, 0xff} {
					b := bytes.Clone(data)
					b[i] ^= mask
					err := readAll(b)
					if err == nil {
						t.Fatalf("flip %#x at %d of %d: no error", mask, i, len(data))
					}
					if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrUnknownVersion) {
						t.Fatalf("flip at %d: %v is neither ErrCorrupt nor ErrUnknownVersion", i, err)
					}
				}
			}
		})
		t.Run(codec.String()+"/truncate", func(t *testing.T) {
			for n := range len(data) {
				if err := readAll(data[:n]); !errors.Is(err, ErrCorrupt) {
					t.Fatalf("truncated to %d: %v", n, err)
				}
			}
		})
	}
}

// TestConcurrentReads reads one Chunk from several goroutines (run with
// -race): a Chunk is safe for concurrent reads, and pooled decoder state
// must not leak between readers.
func TestConcurrentReads(t *testing.T) {
	blocks := randomBlocks(rand.New(rand.NewPCG(7, 8)), 6, 300)
	c, err := Decode(encodeChunk(t, CodecZstd, blocks...))
	if err != nil {
		t.Fatal(err)
	}
	exp := want(blocks, -1<<62, 1<<62, model.Backward)
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			for range 20 {
				got, err := iter.Collect(c.Entries(-1<<62, 1<<62, model.Backward, ReadOptions{}), model.Entry.Clone)
				if err == nil && len(got) != len(exp) {
					err = fmt.Errorf("got %d entries, want %d", len(got), len(exp))
				}
				for i := range got {
					if err == nil && (got[i].Timestamp != exp[i].Timestamp || !bytes.Equal(got[i].Line, exp[i].Line)) {
						err = fmt.Errorf("entry %d differs", i)
					}
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
