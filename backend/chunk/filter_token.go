package chunk

import (
	"math"
	"math/bits"
)

// Token filter kinds (first byte of BlockMeta.Filter).
const filterKindGram4 = 0x01

const (
	// filterBudget bounds the filter to this fraction of the compressed
	// block, so the filter never weighs much in stored bytes.
	filterBudget = 0.04
	// filterMaxBitsPerGram bounds the filter when the budget would allow
	// more: beyond 2 bits per distinct 4-gram false positives hardly drop.
	filterMaxBitsPerGram = 2
	filterMinBits        = 256
	filterMaxBits        = 1 << 20
	// gramMul is the multiplier of the 4-gram hash (2^64 / golden ratio);
	// selMul mixes a gram's index into its sampling byte.
	gramMul = 0x9E3779B97F4A7C15
	selMul  = 0xFF51AFD7ED558CCD
	// filterHeader is kind, index bits and sampling threshold.
	filterHeader = 3
)

// lowerASCII folds ASCII letters to lower case and leaves other bytes.
var lowerASCII = func() (t [256]byte) {
	for i := range t {
		t[i] = byte(i)
		if i >= 'A' && i <= 'Z' {
			t[i] = byte(i) + 'a' - 'A'
		}
	}
	return t
}()

// gramIndex is the index of 4-gram g in a space of 2^shift.
func gramIndex(g uint32, shift uint) uint64 { return (uint64(g) * gramMul) >> (64 - shift) }

// gramSelected reports whether the gram of index i is sampled under
// threshold t.
// The index is mixed (murmur3's finalizer) so that neighbouring indexes,
// which fold onto the same filter bit, are sampled independently.
func gramSelected(i uint64, t byte) bool {
	i ^= i >> 33
	i *= selMul
	i ^= i >> 33
	i *= 0xC4CEB9FE1A85EC53
	i ^= i >> 33
	return byte(i) <= t
}

// filterBuilder collects the 4-gram indexes of a block's lines in a large
// bitset, then samples and folds it to the final filter. Reused.
type filterBuilder struct {
	set   []uint64 // 2^shift bits
	shift uint
	any   bool     // some line had a 4-gram
	idx   []uint32 // scratch of appendFilter: the indexes set in set
}

// reset prepares for about grams 4-grams.
func (f *filterBuilder) reset(grams int) {
	shift := uint(bits.Len(uint(max(2*grams, 1<<12) - 1)))
	shift = min(shift, 22)
	words := 1 << (shift - 6)
	if cap(f.set) < words {
		f.set = make([]uint64, words)
	} else {
		f.set = f.set[:words]
		clear(f.set)
	}
	f.shift = shift
	f.any = false
}

// add sets the 4-grams of line: per byte one table load, one multiply and
// one read-modify-write of the bitset at a random place, which bounds the
// cost (loading and case-folding 8 bytes at a time with SWAR is no faster).
// The shift count is masked so that the compiler emits a bare shift.
func (f *filterBuilder) add(line []byte) {
	if len(line) < 4 {
		return
	}
	f.any = true
	set, sh := f.set, (64-f.shift)&63
	g := uint32(lowerASCII[line[0]])<<16 | uint32(lowerASCII[line[1]])<<8 | uint32(lowerASCII[line[2]])
	for _, c := range line[3:] {
		g = g<<8 | uint32(lowerASCII[c])
		i := (uint64(g) * gramMul) >> sh
		set[i>>6] |= 1 << (i & 63)
	}
}

// appendFilter appends the final filter for a block compressed to
// compressed bytes. With d distinct grams and a budget of b bits, grams are
// sampled at rate s = min(1, ln2·b/d), which puts the filter's fill near
// one half: the best trade of size for false positives.
func (f *filterBuilder) appendFilter(dst []byte, compressed int) []byte {
	if !f.any {
		return append(dst, filterKindGram4) // kind only: no line has 4 bytes
	}
	idx := f.setIndexes()
	nbits, t := filterSize(len(idx), len(f.set)*64, compressed)
	dst = append(dst, filterKindGram4, byte(f.shift), t)
	n := len(dst)
	dst = append(dst, make([]byte, nbits/8)...)
	foldSelected(dst[n:], idx, uint64(nbits), f.shift, t)
	return dst
}

// filterSize returns the filter's bits and sampling threshold for ones
// distinct indexes set out of total, and a block compressed to compressed
// bytes (FORMAT.md, token filter).
func filterSize(ones, total, compressed int) (nbits int, t byte) {
	d := float64(total) // saturated: assume the worst
	if ones < total {
		d = -float64(total) * math.Log(1-float64(ones)/float64(total))
	}
	budget := min(float64(compressed)*8*filterBudget, d*filterMaxBitsPerGram, filterMaxBits)
	nbits = max(int(budget)/8*8, filterMinBits)
	t = 255
	if s := math.Ln2 * float64(nbits) / d; s < 1 {
		t = byte(max(0, int(s*256)-1))
	}
	return nbits, t
}

// setIndexes returns the indexes of the bits set in f.set, ascending, in
// f.idx. It writes four candidates per word whatever the word holds and
// advances by the word's population count, so that the loop has no
// data-dependent branch but for words of more than four bits (the bitset is
// sparse: about one bit in 30 is set). Bit positions come from a de Bruijn
// multiply rather than bits.TrailingZeros64, which compiles to BSF for the
// baseline amd64 target, a slow multi-micro-op instruction on AMD cores (the
// multiply made this function 40% cheaper there).
func (f *filterBuilder) setIndexes() []uint32 {
	idx := f.idx[:cap(f.idx)]
	n := 0
	for w, word := range f.set {
		if len(idx)-n < 68 {
			idx = append(idx[:n], make([]uint32, max(n, 1024))...)
			idx = idx[:cap(idx)]
		}
		base := uint32(w) << 6
		cnt := bits.OnesCount64(word)
		out := idx[n : n+4 : n+4]
		out[0] = base + lowestBit(word)
		word &= word - 1
		out[1] = base + lowestBit(word)
		word &= word - 1
		out[2] = base + lowestBit(word)
		word &= word - 1
		out[3] = base + lowestBit(word)
		word &= word - 1
		if cnt > 4 {
			for k := n + 4; word != 0; k++ {
				idx[k] = base + lowestBit(word)
				word &= word - 1
			}
		}
		n += cnt
	}
	f.idx = idx
	return idx[:n]
}

// deBruijn64 is a de Bruijn sequence: the top 6 bits of deBruijn64 << k
// differ for every k in 0..63.
const deBruijn64 = 0x03f79d71b4ca8b09

var deBruijnPos = func() (t [64]uint8) {
	for k := range 64 {
		t[(uint64(deBruijn64)<<k)>>58] = uint8(k)
	}
	return t
}()

// lowestBit returns the position of the lowest bit set in w (0 if w is 0).
func lowestBit(w uint64) uint32 {
	return uint32(deBruijnPos[((w&-w)*deBruijn64)>>58])
}

// foldSelected sets in out (nbits bits) bit (i·nbits) >> shift of every
// index i of idx selected under threshold t. The selection is computed
// without a branch: about a third of the grams are selected, in no
// predictable pattern.
func foldSelected(out []byte, idx []uint32, nbits uint64, shift uint, t byte) {
	shift &= 63
	if t == 255 {
		for _, i := range idx {
			j := (uint64(i) * nbits) >> shift
			out[j>>3] |= 1 << (j & 7)
		}
		return
	}
	for _, i := range idx {
		j := (uint64(i) * nbits) >> shift
		var m byte
		if gramSelected(uint64(i), t) {
			m = 1
		}
		out[j>>3] |= m << (j & 7)
	}
}

// filterMayContain reports false only if no line summarised by filter can
// contain needle (compared with ASCII case folded).
func filterMayContain(filter, needle []byte) bool {
	if len(filter) == 0 || len(needle) < 4 || filter[0] != filterKindGram4 {
		return true // no filter, short needle, or unknown kind: cannot rule out
	}
	if len(filter) == 1 {
		return false // no line has 4 bytes; needle has
	}
	if len(filter) <= filterHeader {
		return true // malformed; never rule out
	}
	shift, t, set := uint(filter[1]), filter[2], filter[filterHeader:]
	if shift < 6 || shift > 32 {
		return true
	}
	nbits := uint64(len(set)) * 8
	g := uint32(lowerASCII[needle[0]])<<16 | uint32(lowerASCII[needle[1]])<<8 | uint32(lowerASCII[needle[2]])
	for _, c := range needle[3:] {
		g = g<<8 | uint32(lowerASCII[c])
		i := gramIndex(g, shift)
		if !gramSelected(i, t) {
			continue
		}
		j := (i * nbits) >> shift
		if j >= nbits {
			return true // malformed; never rule out
		}
		if set[j>>3]&(1<<(j&7)) == 0 {
			return false
		}
	}
	return true
}
