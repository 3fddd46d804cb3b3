package chunk

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/lode-logs/lode/backend/internal/loggen"
	"github.com/lode-logs/lode/backend/model"
	"github.com/prometheus/prometheus/model/labels"
)

// randomLine returns a line mixing words, hex, upper case and raw bytes.
func randomLine(r *rand.Rand) []byte {
	var b []byte
	for range r.IntN(12) {
		switch r.IntN(5) {
		case 0:
			b = fmt.Appendf(b, "%x", r.Uint64())
		case 1:
			b = append(b, []string{"GET", "error", "Timeout", "user_id=", "{\"k\":", "ÄÖü", "\t"}[r.IntN(7)]...)
		case 2:
			for range r.IntN(6) {
				b = append(b, byte(r.IntN(256)))
			}
		default:
			for range r.IntN(10) {
				b = append(b, byte('A'+r.IntN(58)))
			}
		}
		b = append(b, ' ')
	}
	return b
}

// flipCase swaps the case of ASCII letters at random.
func flipCase(r *rand.Rand, b []byte) []byte {
	out := bytes.Clone(b)
	for i, c := range out {
		if r.IntN(2) == 0 {
			switch {
			case c >= 'a' && c <= 'z':
				out[i] = c - 32
			case c >= 'A' && c <= 'Z':
				out[i] = c + 32
			}
		}
	}
	return out
}

// TestMayContainNoFalseNegatives checks the filter's one promise: every
// substring of every line of a block (in any ASCII case) may be contained.
func TestMayContainNoFalseNegatives(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for trial := range 60 {
		t.Run(fmt.Sprint("block", trial), func(t *testing.T) {
			var lines [][]byte
			n := 1 + r.IntN(400)
			if trial%10 == 0 {
				n = 3000 + r.IntN(3000) // large blocks: sampled filters
			}
			b := NewBlockBuilder(allCodecs[trial%len(allCodecs)])
			for i := range n {
				l := randomLine(r)
				lines = append(lines, l)
				b.Append(int64(i), l, labels.EmptyLabels())
			}
			_, meta := b.Encode(nil)
			for range 2000 {
				l := lines[r.IntN(len(lines))]
				if len(l) == 0 {
					continue
				}
				i := r.IntN(len(l))
				j := i + r.IntN(len(l)-i) + 1
				needle := l[i:j]
				if r.IntN(2) == 0 {
					needle = flipCase(r, needle)
				}
				if !meta.MayContain(needle) {
					t.Fatalf("false negative: needle %q from line %q", needle, l)
				}
			}
		})
	}
}

func TestMayContainCases(t *testing.T) {
	mk := func(lines ...string) BlockMeta {
		b := NewBlockBuilder(CodecNone)
		for i, l := range lines {
			b.Append(int64(i), []byte(l), labels.EmptyLabels())
		}
		_, m := b.Encode(nil)
		return m
	}
	cases := []struct {
		name   string
		meta   BlockMeta
		needle string
		want   bool
	}{
		{"short needle always may", mk("abcdef"), "xyz", true},
		{"empty needle always may", mk("abcdef"), "", true},
		{"present", mk("level=error msg=timeout"), "msg=timeout", true},
		{"other case present", mk("level=error msg=timeout"), "MSG=TIMEOUT", true},
		{"absent", mk("level=error msg=timeout"), "connection refused", false},
		{"lines shorter than 4 bytes", mk("ab", "", "xyz"), "abcd", false},
		{"short needle, short lines", mk("ab", "", "xyz"), "xyz", true},
		{"no filter", BlockMeta{}, "anything at all", true},
		{"unknown filter kind", BlockMeta{Filter: []byte{0x7f, 1, 2}}, "anything at all", true},
		{"truncated filter", BlockMeta{Filter: []byte{filterKindGram4, 20}}, "anything at all", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.meta.MayContain([]byte(tc.needle)); got != tc.want {
				t.Fatalf("MayContain(%q) = %v, want %v", tc.needle, got, tc.want)
			}
		})
	}
}

// TestFilterFalsePositiveRate checks that the filter rules out most blocks
// for needles they lack, on realistic blocks.
func TestFilterFalsePositiveRate(t *testing.T) {
	g := loggen.New(21, 4)
	var metas []BlockMeta
	b := NewBlockBuilder(DefaultCodec)
	var buf []byte
	for len(metas) < 20 {
		_, ts, line := g.Next(buf[:0])
		buf = line
		b.Append(ts, line, labels.EmptyLabels())
		if b.RawSize() >= 256<<10 {
			_, m := b.Encode(nil)
			metas = append(metas, m)
		}
	}
	r := rand.New(rand.NewPCG(1, 1))
	cases := []struct {
		name    string
		needle  func() []byte
		maxRate float64
	}{
		{"trace id (32 hex)", func() []byte { return fmt.Appendf(nil, "%016x%016x", r.Uint64(), r.Uint64()) }, 0.10},
		{"word-like (16 letters)", func() []byte {
			b := make([]byte, 16)
			for i := range b {
				b[i] = byte('a' + r.IntN(26))
			}
			return b
		}, 0.10},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pass, total := 0, 0
			for range 200 {
				n := tc.needle()
				for i := range metas {
					total++
					if metas[i].MayContain(n) {
						pass++
					}
				}
			}
			if rate := float64(pass) / float64(total); rate > tc.maxRate {
				t.Fatalf("false-positive rate %.3f > %.3f", rate, tc.maxRate)
			}
		})
	}
}

// TestNeedleFromCorpus checks that loggen needles are found through block
// skipping: the filter never hides them.
func TestNeedleFromCorpus(t *testing.T) {
	g := loggen.NewWithOptions(loggen.Options{Seed: 5, Streams: 3, NeedleEvery: 5000})
	b := NewBlockBuilder(DefaultCodec)
	var blocks []EncodedBlock
	var buf []byte
	for range 40_000 {
		_, ts, line := g.Next(buf[:0])
		buf = line
		b.Append(ts, line, labels.EmptyLabels())
		if b.RawSize() >= 64<<10 {
			data, m := b.Encode(nil)
			blocks = append(blocks, EncodedBlock{m, data})
		}
	}
	data, m := b.Encode(nil)
	blocks = append(blocks, EncodedBlock{m, data})
	chunk, err := Encode(nil, Header{Tenant: "t", Codec: DefaultCodec}, blocks)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Decode(chunk)
	if err != nil {
		t.Fatal(err)
	}
	for k := 1; k <= 8; k++ {
		needle := loggen.NeedleToken(5, k)
		var st ReadStats
		found := 0
		for _, e := range collect(t, c.Entries(-1<<62, 1<<62, model.Forward, ReadOptions{Needles: [][]byte{needle}, Stats: &st})) {
			if bytes.Contains(e.Line, needle) {
				found++
			}
		}
		if found != 1 {
			t.Fatalf("needle %d found %d times", k, found)
		}
		if st.BlocksSkipped == 0 {
			t.Fatalf("needle %d: no block skipped of %d", k, st.BlocksTotal)
		}
	}
}

// TestFilterAddMatchesFormat checks that gram collection sets exactly the
// bits FORMAT.md defines (each 4-gram folded byte by byte with lowerASCII,
// g = b0<<24 | b1<<16 | b2<<8 | b3), for lines of every short length and
// random ones.
func TestFilterAddMatchesFormat(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	var lines [][]byte
	for n := range 40 {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		lines = append(lines, b, []byte("AZaz@[`{ÀÞ"+string(b)))
	}
	for range 200 {
		lines = append(lines, randomLine(r))
	}
	for i, line := range lines {
		t.Run(fmt.Sprintf("line%d", i), func(t *testing.T) {
			var got, want filterBuilder
			got.reset(64)
			want.reset(64)
			got.add(line)
			for p := 0; p+4 <= len(line); p++ {
				g := uint32(lowerASCII[line[p]])<<24 | uint32(lowerASCII[line[p+1]])<<16 |
					uint32(lowerASCII[line[p+2]])<<8 | uint32(lowerASCII[line[p+3]])
				j := gramIndex(g, want.shift)
				want.set[j>>6] |= 1 << (j & 63)
				want.any = true
			}
			if got.any != want.any || !slices.Equal(got.set, want.set) {
				t.Fatalf("grams of %q differ from the byte-by-byte definition", line)
			}
		})
	}
}
