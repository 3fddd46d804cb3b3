package chunk

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/model"
)

// matchBlock returns entries whose lines, over a two-letter alphabet with
// empty and repeated lines, hold needles within lines and across line
// boundaries everywhere.
func matchBlock(r *rand.Rand, n int) []model.Entry {
	es := make([]model.Entry, 0, n+4)
	// Section edges: the needle opens the first line and closes the last.
	es = append(es, model.Entry{Timestamp: 0, Line: []byte("abba" + "bb")}, model.Entry{Timestamp: 10_000, Line: []byte("aa" + "abba")})
	ts := int64(1)
	for range n {
		line := make([]byte, r.IntN(9))
		for i := range line {
			line[i] = "ab"[r.IntN(2)]
		}
		if r.IntN(6) == 0 {
			line = append(line, 0xff) // invalid UTF-8
		}
		e := model.Entry{Timestamp: ts, Line: line}
		if r.IntN(5) == 0 {
			e.Metadata = labels.FromStrings("k", fmt.Sprint(r.IntN(2)))
		}
		es = append(es, e)
		ts += r.Int64N(3) // repeated timestamps
	}
	return es
}

// matchNeedles are needle sets over the alphabet of matchBlock, and some
// that no line holds.
var matchNeedles = [][]string{
	{"a"}, {"b"}, {"abba"}, {"aab"}, {"bbbbbbb"}, {"ab", "ba"}, {"\xff"}, {"b\xff"}, {"\xffa"},
	{"aaaaaaaaaaaaa"}, {"", "abab"}, {"c"}, {"ab", "c"}, {"aabbaabbaabbaabbaabbaabbaabbaabbaabbaabbaabbaabbaabbaabbaabbaabbaabb"},
}

func byteNeedles(ns []string) [][]byte {
	out := make([][]byte, len(ns))
	for i, n := range ns {
		out[i] = []byte(n)
	}
	return out
}

// matchRanges are [from, through) ranges of a matchBlock block: all of it,
// its exact span, parts of it, and none of it.
func matchRanges(m *BlockMeta) [][2]int64 {
	mid := (m.MinTime + m.MaxTime) / 2
	return [][2]int64{
		{-1 << 62, 1 << 62}, {m.MinTime, m.MaxTime + 1}, {m.MinTime + 1, m.MaxTime + 1}, {m.MinTime, m.MaxTime},
		{mid, mid + 7}, {m.MaxTime + 1, 1 << 62}, {-1 << 62, m.MinTime}, {mid, mid},
	}
}

// TestNextMatchAgainstLines compares NextMatch after Load and after
// LoadMatching, and FilterLines reads, with checking every line.
func TestNextMatchAgainstLines(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for _, codec := range allCodecs {
		es := matchBlock(r, 600)
		eb := encodeBlock(t, codec, es)
		ref := want([][]model.Entry{es}, -1<<62, 1<<62, model.Forward)
		for _, ns := range matchNeedles {
			needles := byteNeedles(ns)
			for _, rg := range matchRanges(&eb.Meta) {
				t.Run(fmt.Sprintf("%s/%q/%d-%d", codec, ns, rg[0], rg[1]), func(t *testing.T) {
					var exp []int
					for i, e := range ref {
						if e.Timestamp >= rg[0] && e.Timestamp < rg[1] && containsEvery(e.Line, needles) {
							exp = append(exp, i)
						}
					}
					var s BlockScanner
					if err := s.Load(eb.Data, &eb.Meta, ColumnLines, nil); err != nil {
						t.Fatal(err)
					}
					sameInts(t, "Load", scanMatches(&s, rg, needles), exp)
					found, err := s.LoadMatching(eb.Data, &eb.Meta, ColumnMetadata, rg[0], rg[1], needles, nil)
					if err != nil {
						t.Fatal(err)
					}
					if !found && len(exp) > 0 {
						t.Fatalf("LoadMatching found nothing, want %v", exp)
					}
					if found {
						sameInts(t, "LoadMatching", scanMatches(&s, rg, needles), exp)
					} else if s.Len() != 0 {
						t.Fatalf("LoadMatching found nothing but holds %d entries", s.Len())
					}
					for _, dir := range []model.Direction{model.Forward, model.Backward} {
						o := ReadOptions{Needles: needles, FilterLines: true}
						var expE []model.Entry
						for _, e := range want([][]model.Entry{es}, rg[0], rg[1], dir) {
							if containsEvery(e.Line, needles) {
								expE = append(expE, e)
							}
						}
						sameEntries(t, collect(t, newBlockIter(eb.Data, &eb.Meta, rg[0], rg[1], dir, &o, true)), expE, false)
					}
				})
			}
		}
	}
}

// scanMatches lists the entries NextMatch finds in range rg.
func scanMatches(s *BlockScanner, rg [2]int64, needles [][]byte) []int {
	var got []int
	lo, hi := s.Bounds(rg[0], rg[1])
	for i := s.NextMatch(lo, hi, needles); i < hi; i = s.NextMatch(i+1, hi, needles) {
		got = append(got, i)
	}
	return got
}

func sameInts(t *testing.T, what string, got, exp []int) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(exp) {
		t.Fatalf("%s: matches %v, want %v", what, got, exp)
	}
}

// TestLoadMatchingDecodesLinesOnly: a block wholly in range with no
// instance of the needle has only its lines section decompressed; a hit,
// or a block partly in range, decodes the rest.
func TestLoadMatchingDecodesLinesOnly(t *testing.T) {
	es := randomBlocks(rand.New(rand.NewPCG(5, 6)), 1, 300)[0]
	es = append(es, model.Entry{Timestamp: 5000, Line: []byte("the needle"), Metadata: labels.FromStrings("k", "v")})
	eb := encodeBlock(t, CodecZstd, es)
	m := &eb.Meta
	all := int64(m.TimestampsRaw + m.LengthsRaw + m.LinesRaw + m.MetadataRaw)
	for _, tc := range []struct {
		name          string
		needle        string
		from, through int64
		found         bool
		decompressed  int64
	}{
		{"absent, whole block", "absent", -1 << 62, 1 << 62, false, int64(m.LinesRaw)},
		{"absent, exact span", "absent", m.MinTime, m.MaxTime + 1, false, int64(m.LinesRaw)},
		{"present", "needle", -1 << 62, 1 << 62, true, all},
		{"absent, partly in range", "absent", m.MinTime + 1, 1 << 62, true, all},
		{"no entry in range", "needle", m.MaxTime + 1, 1 << 62, false, int64(m.TimestampsRaw)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s BlockScanner
			var st ReadStats
			found, err := s.LoadMatching(eb.Data, m, ColumnMetadata, tc.from, tc.through, [][]byte{[]byte(tc.needle)}, &st)
			if err != nil {
				t.Fatal(err)
			}
			if found != tc.found || st.DecompressedBytes != tc.decompressed || st.BlocksDecoded != 1 {
				t.Fatalf("found %v after decompressing %d bytes, want %v and %d", found, st.DecompressedBytes, tc.found, tc.decompressed)
			}
			if !found {
				return
			}
			i := s.NextMatch(0, s.Len(), [][]byte{[]byte(tc.needle)})
			if tc.needle == "needle" && (i == s.Len() || s.Timestamps()[i] != 5000 || s.Metadata(i).Get("k") != "v") {
				t.Fatalf("needle at entry %d of %d", i, s.Len())
			}
		})
	}
}

// TestLoadMatchingChecksBlocks: the checksum is checked whether or not
// the needle is found, and a bad block leaves the scanner empty.
func TestLoadMatchingChecksBlocks(t *testing.T) {
	es := randomBlocks(rand.New(rand.NewPCG(7, 7)), 1, 100)[0]
	eb := encodeBlock(t, CodecZstd, es)
	for _, at := range []int{0, int(eb.Meta.TimestampsLen), len(eb.Data) - 5, len(eb.Data) - 1} {
		bad := bytes.Clone(eb.Data)
		bad[at] ^= 0x40
		for _, needle := range []string{"absent", "line"} {
			var s BlockScanner
			found, err := s.LoadMatching(bad, &eb.Meta, 0, -1<<62, 1<<62, [][]byte{[]byte(needle)}, nil)
			if !errors.Is(err, ErrCorrupt) || found || s.Len() != 0 {
				t.Fatalf("byte %d flipped, needle %q: found %v, %d entries, error %v", at, needle, found, s.Len(), err)
			}
			o := ReadOptions{Needles: [][]byte{[]byte(needle)}, FilterLines: true}
			it := newBlockIter(bad, &eb.Meta, -1<<62, 1<<62, model.Forward, &o, true)
			if it.Next() || !errors.Is(it.Err(), ErrCorrupt) {
				t.Fatalf("byte %d flipped, needle %q: read error %v", at, needle, it.Err())
			}
			_ = it.Close()
		}
	}
}

// TestLoadMatchingSteadyStateAllocs: once its buffers have grown, a
// scanner loads and searches blocks with and without hits without
// allocating.
func TestLoadMatchingSteadyStateAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	es := randomBlocks(rand.New(rand.NewPCG(8, 9)), 1, 400)[0]
	eb := encodeBlock(t, CodecZstd, es)
	absent, present := [][]byte{[]byte("absent needle")}, [][]byte{[]byte("line 1")}
	var s BlockScanner
	run := func() {
		for _, ns := range [][][]byte{absent, present} {
			found, err := s.LoadMatching(eb.Data, &eb.Meta, 0, -1<<62, 1<<62, ns, nil)
			if err != nil {
				t.Fatal(err)
			}
			if found != (&ns[0] == &present[0]) {
				t.Fatalf("needle %q found: %v", ns[0], found)
			}
			if found && s.NextMatch(0, s.Len(), ns) == s.Len() {
				t.Fatal("present needle not matched")
			}
		}
	}
	run()
	if n := testing.AllocsPerRun(20, run); n != 0 {
		t.Fatalf("%v allocations per run", n)
	}
}

// FuzzFilterLines reads one block with a given meta and no checksum check
// with and without FilterLines: never a panic, only format errors, and
// when both reads succeed the filtered one yields exactly the entries of
// the other whose lines hold the needle.
func FuzzFilterLines(f *testing.F) {
	for _, codec := range allCodecs {
		es := matchBlock(rand.New(rand.NewPCG(uint64(codec), 3)), 40)
		eb := encodeBlock(f, codec, es)
		f.Add(eb.Data, AppendBlockMeta(nil, eb.Meta), []byte("abba"))
	}
	f.Fuzz(func(t *testing.T, data, metaBytes, needle []byte) {
		m, _, err := ReadBlockMeta(metaBytes)
		if err != nil {
			return
		}
		for _, dir := range []model.Direction{model.Forward, model.Backward} {
			all, errAll := readBlock(data, &m, dir, ReadOptions{})
			got, errGot := readBlock(data, &m, dir, ReadOptions{Needles: [][]byte{needle}, FilterLines: true})
			for _, err := range []error{errAll, errGot} {
				if err != nil && !isFormatError(err) {
					t.Fatalf("read error %v is not a format error", err)
				}
			}
			if errAll != nil || errGot != nil {
				continue
			}
			var exp []model.Entry
			for _, e := range all {
				if bytes.Contains(e.Line, needle) {
					exp = append(exp, e)
				}
			}
			sameEntries(t, got, exp, false)
		}
	})
}

func readBlock(data []byte, m *BlockMeta, dir model.Direction, o ReadOptions) ([]model.Entry, error) {
	it := newBlockIter(data, m, -1<<62, 1<<62, dir, &o, false)
	defer it.Close()
	var out []model.Entry
	for it.Next() {
		out = append(out, it.At().Clone())
	}
	return out, it.Err()
}
