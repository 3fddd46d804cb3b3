package chunk

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"strings"
)

// needleSearch finds one needle in the decompressed lines of blocks: the
// inner loop of every line-filter query that token filters cannot narrow
// down. bytes.Index hops with IndexByte from one instance of the needle's
// first byte to the next; in log text that byte is often a common one
// ('c', 'e', '0', ' '), met every few dozen bytes, so it spends its time in
// short IndexByte calls and false starts (and for needles of 64 bytes or
// more it falls back to Rabin-Karp). needleSearch hops instead to the
// needle's rarest byte (by byteCommonness, a static ranking of log text),
// checks a second rare byte, then compares the whole needle. When the
// "rare" byte turns out to be common in the text at hand (more than one
// false start per pairSwitch bytes), it scans the rest sixteen positions at
// a time for the two rare bytes at once (pairIndex), whose speed does not
// depend on how common each byte is. Figures: search_needle_bench_test.go.
type needleSearch struct {
	needle []byte // owned copy
	rare   int    // offset in needle of its rarest byte
	rare2  int    // offset of the next rarest, checked before the whole needle
}

// pairSwitch is the mean distance in bytes between false starts of the
// rare byte below which index switches from IndexByte hops to pairIndex
// (a hop costs about as much as pairIndex spends on this many bytes).
const pairSwitch = 64

// reset prepares the search of needle (copied).
func (f *needleSearch) reset(needle []byte) {
	f.needle = append(f.needle[:0], needle...)
	if len(needle) > 0 {
		f.rare, f.rare2 = rarestBytes(f.needle)
	}
}

// is reports whether f searches needle.
func (f *needleSearch) is(needle []byte) bool { return bytes.Equal(f.needle, needle) }

// index returns the index of the first instance of the needle in s, or -1,
// as bytes.Index(s, needle) does.
func (f *needleSearch) index(s []byte) int {
	needle := f.needle
	n := len(needle)
	switch {
	case n == 0:
		return 0
	case n == 1:
		return bytes.IndexByte(s, needle[0])
	case n > len(s):
		return -1
	}
	r1, r2 := f.rare, f.rare2
	b1, b2 := needle[r1], needle[r2]
	last := len(s) - n // the last start a needle can have
	fails := 0
	for i := 0; i <= last; {
		k := bytes.IndexByte(s[i+r1:last+r1+1], b1)
		if k < 0 {
			return -1
		}
		i += k // a candidate start: s[i+r1] == b1
		if s[i+r2] == b2 && bytes.Equal(s[i:i+n], needle) {
			return i
		}
		i++
		if fails++; fails > 8+i/pairSwitch {
			return f.pairIndex(s, i)
		}
	}
	return -1
}

// pairIndex returns the first instance of the needle (at least 2 bytes)
// in s at or after from, or -1. It tests sixteen candidate starts at a
// time for both rare bytes with word-wide (SWAR) comparisons.
func (f *needleSearch) pairIndex(s []byte, from int) int {
	const ones, low7, high = 0x0101010101010101, 0x7f7f7f7f7f7f7f7f, 0x8080808080808080
	needle := f.needle
	n, r1, r2 := len(needle), f.rare, f.rare2
	last := len(s) - n
	m1, m2 := ones*uint64(needle[r1]), ones*uint64(needle[r2])
	i := from
	// Starts i..i+15 are all <= last, so the 16-byte windows at i+r1 and
	// i+r2 lie within s (r1, r2 < n).
	for ; i+15 <= last; i += 16 {
		p, q := s[i+r1:i+r1+16], s[i+r2:i+r2+16]
		t0 := (binary.LittleEndian.Uint64(p[:8]) ^ m1) | (binary.LittleEndian.Uint64(q[:8]) ^ m2)
		t1 := (binary.LittleEndian.Uint64(p[8:]) ^ m1) | (binary.LittleEndian.Uint64(q[8:]) ^ m2)
		// The high bit of each byte of z is set where t's byte is zero
		// (exactly: no carry runs between bytes).
		z0 := ^((t0&low7 + low7) | t0) & high
		z1 := ^((t1&low7 + low7) | t1) & high
		if z0|z1 == 0 {
			continue
		}
		for z0 != 0 {
			j := i + bits.TrailingZeros64(z0)>>3
			if bytes.Equal(s[j:j+n], needle) {
				return j
			}
			z0 &= z0 - 1
		}
		for z1 != 0 {
			j := i + 8 + bits.TrailingZeros64(z1)>>3
			if bytes.Equal(s[j:j+n], needle) {
				return j
			}
			z1 &= z1 - 1
		}
	}
	for ; i <= last; i++ {
		if s[i+r1] == needle[r1] && s[i+r2] == needle[r2] && bytes.Equal(s[i:i+n], needle) {
			return i
		}
	}
	return -1
}

// logByteOrder lists the bytes of log text from the most to the least
// common, as measured on the loggen corpus (access logs, JSON, logfmt,
// klog, Java and Go stack traces: digits, quotes and lower-case letters
// first, rare capitals and punctuation last). Bytes not listed are rarer
// than all of them, except bytes of multi-byte UTF-8 sequences (see
// byteCommonness).
const logByteOrder = "0 e\"1at2.ros:ci/d438n5l-69p7muhbg,fT=v][yP_EkGxw)(HICSRz+JjO}{M\nZWq\tLAD;FKU?&NXV$B*`Q\\"

// byteCommonness ranks how common byte c is in log text: higher is more
// common. Bytes of non-ASCII UTF-8 text rank with the mid-frequency letters:
// in logs that have any, the same lead and continuation bytes repeat.
func byteCommonness(c byte) int {
	if c >= 0x80 {
		return len(logByteOrder) - strings.IndexByte(logByteOrder, 'p')
	}
	if i := strings.IndexByte(logByteOrder, c); i >= 0 {
		return len(logByteOrder) - i
	}
	return 0
}

// rarestBytes returns the offsets in needle (at least 1 byte) of its
// rarest byte and of the next rarest one at another offset, preferring a
// byte value other than the rarest (both are 0 for a 1-byte needle).
func rarestBytes(needle []byte) (rare, rare2 int) {
	best := byteCommonness(needle[0])
	for i := 1; i < len(needle); i++ {
		if c := byteCommonness(needle[i]); c < best {
			rare, best = i, c
		}
	}
	if len(needle) == 1 {
		return 0, 0
	}
	rare2 = -1
	best2 := 0
	for i, b := range needle {
		if i == rare {
			continue
		}
		c := byteCommonness(b)
		if b == needle[rare] {
			c += 1 << 16 // the same byte again tells little more
		}
		if rare2 < 0 || c < best2 {
			rare2, best2 = i, c
		}
	}
	return rare, rare2
}
