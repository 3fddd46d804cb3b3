package chunk

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math/rand/v2"
	"testing"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/model"
)

// scanLines are lines where needles run across line boundaries.
func scanLines() []model.Entry {
	lines := []string{"ab", "cd", "", "abcd", "xab", "cdx", "needle", "need", "le", "a needle and a pin", "pin"}
	es := make([]model.Entry, len(lines))
	for i, l := range lines {
		es[i] = model.Entry{Timestamp: int64(10 * i), Line: []byte(l)}
	}
	return es
}

func containsEvery(line []byte, needles [][]byte) bool {
	for _, n := range needles {
		if !bytes.Contains(line, n) {
			return false
		}
	}
	return true
}

func TestBlockScannerNextMatch(t *testing.T) {
	es := scanLines()
	r := rand.New(rand.NewPCG(1, 2))
	es = append(es, randomBlocks(r, 1, 400)[0]...)
	for _, codec := range allCodecs {
		eb := encodeBlock(t, codec, es)
		ref := want([][]model.Entry{es}, -1<<62, 1<<62, model.Forward)
		var s BlockScanner
		if err := s.Load(eb.Data, &eb.Meta, ColumnLines, nil); err != nil {
			t.Fatal(err)
		}
		for _, needles := range [][]string{
			{"bc"}, {"abcd"}, {"needle"}, {"need", "pin"}, {"pin", "need"}, {"dx"}, {"cdx"}, {"line 3"}, {"1", "line"},
			{""}, {"", "cd"}, {"absent"}, {"ab", "absent"},
		} {
			var ns [][]byte
			for _, n := range needles {
				ns = append(ns, []byte(n))
			}
			t.Run(codec.String()+"/"+needles[0], func(t *testing.T) {
				var got, exp []int
				for i := s.NextMatch(0, s.Len(), ns); i < s.Len(); i = s.NextMatch(i+1, s.Len(), ns) {
					got = append(got, i)
				}
				for i, e := range ref {
					if containsEvery(e.Line, ns) {
						exp = append(exp, i)
					}
				}
				if len(got) != len(exp) {
					t.Fatalf("matches %v, want %v", got, exp)
				}
				for i := range got {
					if got[i] != exp[i] {
						t.Fatalf("matches %v, want %v", got, exp)
					}
				}
			})
		}
	}
}

func TestBlockScannerColumns(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	es := randomBlocks(r, 1, 500)[0]
	eb := encodeBlock(t, CodecZstd, es)
	ref := want([][]model.Entry{es}, -1<<62, 1<<62, model.Forward)
	var s BlockScanner
	for _, cols := range []Columns{0, ColumnLengths, ColumnLines, ColumnMetadata, ColumnLengths | ColumnMetadata} {
		var st ReadStats
		if err := s.Load(eb.Data, &eb.Meta, cols, &st); err != nil {
			t.Fatal(err)
		}
		if s.Len() != len(ref) || st.BlocksDecoded != 1 {
			t.Fatalf("cols %b: %d entries, want %d", cols, s.Len(), len(ref))
		}
		var total int64
		for i, e := range ref {
			if s.Timestamps()[i] != e.Timestamp {
				t.Fatalf("cols %b: ts %d = %d, want %d", cols, i, s.Timestamps()[i], e.Timestamp)
			}
			if cols&ColumnLines != 0 && !bytes.Equal(s.Line(i), e.Line) {
				t.Fatalf("line %d = %q, want %q", i, s.Line(i), e.Line)
			}
			if cols&ColumnMetadata != 0 && !labels.Equal(s.Metadata(i), e.Metadata) {
				t.Fatalf("metadata %d = %v, want %v", i, s.Metadata(i), e.Metadata)
			}
			total += int64(len(e.Line))
			if cols&(ColumnLengths|ColumnLines) != 0 && s.LineBytes(0, i+1) != total {
				t.Fatalf("bytes of lines [0, %d] = %d, want %d", i, s.LineBytes(0, i+1), total)
			}
		}
		lo, hi := s.Bounds(ref[10].Timestamp, ref[20].Timestamp)
		if s.Timestamps()[lo] != ref[10].Timestamp || (lo > 0 && s.Timestamps()[lo-1] >= ref[10].Timestamp) ||
			s.Timestamps()[hi-1] >= ref[20].Timestamp || s.Timestamps()[hi] != ref[20].Timestamp {
			t.Fatalf("bounds [%d, %d)", lo, hi)
		}
	}
}

func TestFilterLines(t *testing.T) {
	blocks := [][]model.Entry{scanLines(), scanLines()[3:], randomBlocks(rand.New(rand.NewPCG(9, 9)), 1, 200)[0]}
	data := encodeChunk(t, CodecZstd, blocks...)
	c, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range []model.Direction{model.Forward, model.Backward} {
		for _, needles := range [][]string{{"bc"}, {"need"}, {"need", "pin"}, {"line 1"}} {
			var ns [][]byte
			for _, n := range needles {
				ns = append(ns, []byte(n))
			}
			var exp []model.Entry
			for _, e := range want(blocks, 0, 1000, dir) {
				if containsEvery(e.Line, ns) {
					exp = append(exp, e)
				}
			}
			o := ReadOptions{Needles: ns, FilterLines: true}
			t.Run(dir.String()+"/"+needles[0], func(t *testing.T) {
				sameEntries(t, collect(t, c.Entries(0, 1000, dir, o)), exp, false)
				eb := c.Blocks()[0] // blocks[0]: the only block starting at 0
				if eb.MinTime != 0 || eb.Entries != uint32(len(blocks[0])) {
					t.Fatalf("block 0 is not blocks[0]: %+v", eb)
				}
				var one []model.Entry
				for _, e := range want(blocks[:1], 0, 1000, dir) {
					if containsEvery(e.Line, ns) {
						one = append(one, e)
					}
				}
				sameEntries(t, collect(t, BlockEntries(c.BlockData(0), eb, 0, 1000, dir, o)), one, false)
			})
		}
	}
}

// TestTimestampPlanesChecked rewrites the timestamps of a raw (uncompressed)
// block with a valid checksum: a delta past the block range, or deltas
// that do not add up to it, are corruption.
func TestTimestampPlanesChecked(t *testing.T) {
	es := []model.Entry{{Timestamp: 1000, Line: []byte("a")}, {Timestamp: 1100, Line: []byte("b")}, {Timestamp: 1300, Line: []byte("c")}}
	eb := encodeBlock(t, CodecNone, es)
	n := len(es)
	for _, tc := range []struct {
		name   string
		modify func(ts []byte)
	}{
		{"high plane set", func(ts []byte) { ts[5*n+1] = 1 }},
		{"wrong sum", func(ts []byte) { ts[1]++ }},
		{"first delta not zero", func(ts []byte) { ts[0] = 1 }},
		{"huge delta", func(ts []byte) {
			for k := range 8 {
				ts[k*n+1] = 0xff
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := bytes.Clone(eb.Data)
			tc.modify(data[:eb.Meta.TimestampsLen])
			body := data[:len(data)-4]
			binary.LittleEndian.PutUint32(data[len(body):], crc32.Checksum(body, castagnoli))
			var s BlockScanner
			if err := s.Load(data, &eb.Meta, 0, nil); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("err = %v, want ErrCorrupt", err)
			}
			if s.Len() != 0 {
				t.Fatal("a failed load left entries")
			}
		})
	}
}

// TestBlockScannerPacked packs timestamps and lengths, as a cache of them
// does, and checks that they load back as Load decodes them.
func TestBlockScannerPacked(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	cases := map[string][]model.Entry{
		"random":      randomBlocks(r, 1, 300)[0],
		"one entry":   {{Timestamp: 7, Line: []byte("x")}},
		"equal times": {{Timestamp: 7, Line: []byte("x")}, {Timestamp: 7, Line: []byte("y")}},
		"wide span":   {{Timestamp: -1 << 62, Line: []byte("a")}, {Timestamp: 1 << 62, Line: []byte("b")}},
		"ns apart":    {{Timestamp: 1, Line: []byte("a")}, {Timestamp: 2, Line: []byte("")}, {Timestamp: 255, Line: []byte("c")}},
	}
	for name, es := range cases {
		for _, codec := range allCodecs {
			eb := encodeBlock(t, codec, es)
			var whole, parts BlockScanner
			if err := whole.Load(eb.Data, &eb.Meta, ColumnLengths, nil); err != nil {
				t.Fatal(err)
			}
			ts := whole.AppendPackedTimestamps(nil, &eb.Meta)
			lens := whole.AppendPackedLengths(nil)
			if err := parts.LoadPackedTimestamps(ts, &eb.Meta); err != nil {
				t.Fatalf("%s/%s: %v", name, codec, err)
			}
			if err := parts.LoadPackedLengths(lens, &eb.Meta); err != nil {
				t.Fatalf("%s/%s: %v", name, codec, err)
			}
			if parts.Len() != whole.Len() {
				t.Fatalf("%s/%s: %d entries, want %d", name, codec, parts.Len(), whole.Len())
			}
			for i := range whole.Len() {
				if parts.Timestamps()[i] != whole.Timestamps()[i] || parts.LineBytes(i, i+1) != whole.LineBytes(i, i+1) {
					t.Fatalf("%s/%s: entry %d differs", name, codec, i)
				}
			}
			// Packed data of the wrong size, deltas that do not add up, or
			// lengths without timestamps are refused.
			if err := parts.LoadPackedTimestamps(append(ts, 0), &eb.Meta); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("%s/%s: long packed timestamps: %v", name, codec, err)
			}
			if len(ts) > 1 {
				bad := bytes.Clone(ts)
				bad[len(bad)-1]++
				if err := parts.LoadPackedTimestamps(bad, &eb.Meta); !errors.Is(err, ErrCorrupt) {
					t.Fatalf("%s/%s: altered packed timestamps: %v", name, codec, err)
				}
			}
			if err := parts.LoadPackedLengths(lens, &eb.Meta); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("%s/%s: lengths after a failed load: %v", name, codec, err)
			}
		}
	}
}

func TestMergedBlockEntries(t *testing.T) {
	blocks := randomBlocks(rand.New(rand.NewPCG(11, 12)), 5, 80)
	var ebs []EncodedBlock
	for _, es := range blocks {
		ebs = append(ebs, encodeBlock(t, CodecZstd, es))
	}
	for _, dir := range []model.Direction{model.Forward, model.Backward} {
		for _, tsOnly := range []bool{false, true} {
			got := collect(t, MergedBlockEntries(ebs, 100, 900, dir, ReadOptions{TimestampsOnly: tsOnly}))
			sameEntries(t, got, want(blocks, 100, 900, dir), false)
		}
	}
}

// TestBlockScannerSteadyStateAllocs: once its buffers have grown, a
// scanner loads, searches and packs blocks without allocating.
func TestBlockScannerSteadyStateAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	es := randomBlocks(rand.New(rand.NewPCG(8, 8)), 1, 400)[0]
	eb := encodeBlock(t, CodecZstd, es)
	needles := [][]byte{[]byte("absent needle")}
	var s BlockScanner
	var packed []byte
	run := func() {
		if err := s.Load(eb.Data, &eb.Meta, ColumnLines, nil); err != nil {
			t.Fatal(err)
		}
		if s.NextMatch(0, s.Len(), needles) != s.Len() {
			t.Fatal("absent needle found")
		}
		packed = s.AppendPackedTimestamps(packed[:0], &eb.Meta)
		if err := s.LoadPackedTimestamps(packed, &eb.Meta); err != nil {
			t.Fatal(err)
		}
	}
	run()
	if n := testing.AllocsPerRun(20, run); n != 0 {
		t.Fatalf("%v allocations per run", n)
	}
}
