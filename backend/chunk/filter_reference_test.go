package chunk

import (
	"bytes"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/lode-logs/lode/backend/internal/loggen"
	"github.com/prometheus/prometheus/model/labels"
)

// refFilter is a plain, byte-at-a-time implementation of the token filter
// writer exactly as FORMAT.md draws it. The optimised filterBuilder must
// produce the same bytes for the same lines (TestFilterMatchesReference).
type refFilter struct {
	set   []uint64 // 2^shift bits
	shift uint
	any   bool
}

func (f *refFilter) reset(grams int) {
	shift := uint(bits.Len(uint(max(2*grams, 1<<12) - 1)))
	f.shift = min(shift, 22)
	f.set = make([]uint64, 1<<(f.shift-6))
	f.any = false
}

func refLower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func refSelected(i uint64, t byte) bool {
	i ^= i >> 33
	i *= 0xFF51AFD7ED558CCD
	i ^= i >> 33
	i *= 0xC4CEB9FE1A85EC53
	i ^= i >> 33
	return byte(i) <= t
}

func (f *refFilter) add(line []byte) {
	for p := 0; p+4 <= len(line); p++ {
		f.any = true
		g := uint32(refLower(line[p]))<<24 | uint32(refLower(line[p+1]))<<16 |
			uint32(refLower(line[p+2]))<<8 | uint32(refLower(line[p+3]))
		i := (uint64(g) * 0x9E3779B97F4A7C15) >> (64 - f.shift)
		f.set[i/64] |= 1 << (i % 64)
	}
}

func (f *refFilter) appendFilter(dst []byte, compressed int) []byte {
	if !f.any {
		return append(dst, filterKindGram4)
	}
	total := len(f.set) * 64
	ones := 0
	for _, w := range f.set {
		ones += bits.OnesCount64(w)
	}
	d := float64(total)
	if ones < total {
		d = -float64(total) * math.Log(1-float64(ones)/float64(total))
	}
	budget := min(float64(compressed)*8*0.04, d*2, 1<<20)
	nbits := max(int(budget)/8*8, 256)
	t := byte(255)
	if s := math.Ln2 * float64(nbits) / d; s < 1 {
		t = byte(max(0, int(s*256)-1))
	}
	out := make([]byte, nbits/8)
	for i := range uint64(total) {
		if f.set[i/64]&(1<<(i%64)) != 0 && refSelected(i, t) {
			j := (i * uint64(nbits)) >> f.shift
			out[j/8] |= 1 << (j % 8)
		}
	}
	dst = append(dst, filterKindGram4, byte(f.shift), t)
	return append(dst, out...)
}

// filterCorpora returns named sets of lines that exercise the filter
// writer: realistic loggen blocks of several sizes, random lines with
// invalid UTF-8, every short length, every byte value around the ASCII
// letter boundaries, and long lines.
func filterCorpora() []struct {
	name  string
	lines [][]byte
} {
	type corpus = struct {
		name  string
		lines [][]byte
	}
	var out []corpus
	g := loggen.NewWithOptions(loggen.Options{Seed: 3, Streams: 4, NeedleEvery: 1000})
	var buf []byte
	for _, size := range []int{300, 4 << 10, 64 << 10, 256 << 10, 1 << 20} {
		var ls [][]byte
		for raw := 0; raw < size; {
			_, _, line := g.Next(buf[:0])
			buf = line
			ls = append(ls, bytes.Clone(line))
			raw += len(line)
		}
		out = append(out, corpus{fmt.Sprintf("loggen-%d", size), ls})
	}
	r := rand.New(rand.NewPCG(5, 6))
	var random [][]byte
	for range 3000 {
		random = append(random, randomLine(r))
	}
	out = append(out, corpus{"random", random})

	var short [][]byte
	for n := range 20 {
		for range 20 {
			b := make([]byte, n)
			for i := range b {
				b[i] = byte(r.IntN(256))
			}
			short = append(short, b)
		}
	}
	out = append(out, corpus{"short", short}, corpus{"shorter than 4", [][]byte{{}, []byte("a"), []byte("ab"), []byte("XYZ")}})

	// Bytes next to and inside the ranges folded by ASCII lower-casing, and
	// their high-bit twins, at every offset of a word.
	edge := []byte("@AZ[`az{\xc0\xc1\xda\xdb\xe0\xe1\xfa\xfb\x00\x7f\x80\xff")
	var edges [][]byte
	for n := 1; n < 40; n++ {
		for k := range 30 {
			b := make([]byte, n)
			for i := range b {
				b[i] = edge[(i*7+k*3+n)%len(edge)]
			}
			edges = append(edges, b)
		}
	}
	all := make([]byte, 0, 1024)
	for i := range 1024 {
		all = append(all, byte(i*37))
	}
	edges = append(edges, all)
	out = append(out, corpus{"ascii edges", edges})

	var long [][]byte
	for range 4 {
		b := make([]byte, 20_000+r.IntN(50_000))
		for i := range b {
			b[i] = "aAzZ09 {}\"=:,./-_\xff\xc3"[r.IntN(19)]
		}
		long = append(long, b)
	}
	out = append(out, corpus{"long", long})
	return out
}

// TestFilterMatchesReference checks that the filter writer produces, for
// the same lines and compressed size, exactly the bytes of refFilter (the
// byte-by-byte definition of FORMAT.md): same gram set, same estimate of
// distinct grams, same sampling and folding. Compressed sizes span filters
// that sample (threshold < 255), that keep every gram, and the size bounds.
func TestFilterMatchesReference(t *testing.T) {
	sampled, unsampled := 0, 0
	for _, c := range filterCorpora() {
		raw := 0
		for _, l := range c.lines {
			raw += len(l)
		}
		var fb filterBuilder
		var ref refFilter
		fb.reset(raw)
		ref.reset(raw)
		for _, l := range c.lines {
			fb.add(l)
			ref.add(l)
		}
		if fb.any != ref.any || !slices.Equal(fb.set[:len(ref.set)], ref.set) {
			t.Fatalf("%s: gram set differs from the reference", c.name)
		}
		for _, compressed := range []int{0, 100, 1000, raw / 20, raw / 6, raw, 10 * raw, 1 << 30} {
			t.Run(fmt.Sprintf("%s/compressed=%d", c.name, compressed), func(t *testing.T) {
				want := ref.appendFilter([]byte("prefix"), compressed)
				if len(want) > 9 && want[8] < 255 {
					sampled++
				} else if len(want) > 9 {
					unsampled++
				}
				got := fb.appendFilter([]byte("prefix"), compressed)
				if !bytes.Equal(got, want) {
					t.Fatalf("filter differs from the reference: len %d vs %d, header % x vs % x",
						len(got), len(want), got[:min(len(got), 9)], want[:min(len(want), 9)])
				}
			})
		}
	}
	if sampled < 10 || unsampled < 10 {
		t.Fatalf("cases cover %d sampled and %d unsampled filters, want both", sampled, unsampled)
	}
}

// TestBlockFilterMatchesReference checks the filter of whole encoded blocks
// (lines in any order, duplicates, metadata) against refFilter over the
// block's distinct lines.
func TestBlockFilterMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	for _, c := range filterCorpora() {
		for _, shuffle := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/shuffle=%v", c.name, shuffle), func(t *testing.T) {
				b := NewBlockBuilder(DefaultCodec)
				type ent struct {
					ts   int64
					line []byte
					md   labels.Labels
				}
				var es []ent
				for i, l := range c.lines {
					md := labels.EmptyLabels()
					if i%7 == 3 {
						md = labels.FromStrings("trace_id", fmt.Sprint(i))
					}
					es = append(es, ent{int64(i / 3), l, md})
					if i%11 == 0 {
						es = append(es, ent{int64(i / 3), l, md}) // duplicate
					}
				}
				if shuffle {
					r.Shuffle(len(es), func(i, j int) { es[i], es[j] = es[j], es[i] })
				}
				arena := 0
				for _, e := range es {
					b.Append(e.ts, e.line, e.md)
					arena += len(e.line) + len(appendMetadata(nil, e.md))
				}
				data, meta := b.Encode(nil)
				var ref refFilter
				ref.reset(arena)
				seen := map[string]bool{}
				for _, e := range es {
					k := fmt.Sprint(e.ts) + "\x00" + string(e.line)
					if !seen[k] {
						seen[k] = true
						ref.add(e.line)
					}
				}
				want := ref.appendFilter(nil, len(data))
				if !bytes.Equal(meta.Filter, want) {
					t.Fatalf("block filter differs from the reference (%d vs %d bytes)", len(meta.Filter), len(want))
				}
			})
		}
	}
}
