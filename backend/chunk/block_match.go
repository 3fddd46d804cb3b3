package chunk

import (
	"bytes"
	"sort"
)

// loadMatching opens a block (as load) for the entries with from <= ts <
// through whose lines hold every needle, decoding as little as a block
// without any needs: if the block lies wholly in [from, through), only its
// lines section is decompressed and searched for the first needle, and
// when no instance is found (not even one across two lines) it returns
// false with nothing else decoded; a block partly in the range has its
// timestamps decoded first, and returns false when none is in the range.
// Otherwise it decodes the timestamps, lengths, lines and cols and returns
// true, and nextMatch takes up the search at the first instance. needles
// are nonEmpty's result, at least one.
func (r *blockReader) loadMatching(data []byte, m *BlockMeta, cols Columns, from, through int64, needles [][]byte, verify bool, st *ReadStats) (bool, error) {
	if err := r.open(data, m, verify); err != nil {
		return false, err
	}
	if m.MinTime >= from && m.MaxTime < through {
		if err := r.needLines(m, st); err != nil {
			return false, err
		}
		k := r.searcher(needles[0]).index(r.lines)
		if k < 0 {
			return false, nil
		}
		r.searchFrom = k
	} else {
		if err := r.need(m, 0, st); err != nil {
			return false, err
		}
		if lo, hi := r.bounds(from, through); lo == hi {
			return false, nil
		}
	}
	return true, r.need(m, cols|ColumnLines, st)
}

// searcher returns the search of needle, prepared once per needle (the
// reader is reused across blocks of one read).
func (r *blockReader) searcher(needle []byte) *needleSearch {
	if !r.search.is(needle) {
		r.search.reset(needle)
		r.searchFrom = 0
	}
	return &r.search
}

// nextMatch returns the index of the first entry in [i, hi) whose line
// contains every needle, or hi. It searches the first needle across the
// decompressed lines at once (lines are stored back to back, so a hit may
// run across two lines: it is skipped) and checks the other needles in the
// line found. Lines must be loaded; needles must not be empty.
func (r *blockReader) nextMatch(i, hi int, needles [][]byte) int {
	if i >= hi {
		return hi
	}
	first := needles[0]
	f := r.searcher(first)
	pos, end := max(int(r.offs[i]), r.searchFrom), int(r.ends[hi-1])
	for i < hi && pos <= end {
		k := f.index(r.lines[pos:end])
		if k < 0 {
			return hi
		}
		at := pos + k
		// The entry holding byte at: the first whose line ends after it
		// (hits are mostly a few lines on: walk, then search).
		j := i
		for n := 0; j < hi && int(r.ends[j]) <= at; j++ {
			if n++; n == 16 {
				j += sort.Search(hi-j, func(x int) bool { return int(r.ends[j+x]) > at })
				break
			}
		}
		if at+len(first) > int(r.ends[j]) {
			i, pos = j, at+1 // across a line boundary: search on
			continue
		}
		if containsAll(r.line(j), needles[1:]) {
			return j
		}
		if i = j + 1; i < hi {
			pos = int(r.offs[i])
		}
	}
	return hi
}

func containsAll(line []byte, needles [][]byte) bool {
	for _, n := range needles {
		if !bytes.Contains(line, n) {
			return false
		}
	}
	return true
}

// markMatches records which entries of [lo, hi) have a line containing
// every needle (lines must be loaded), for matched.
func (r *blockReader) markMatches(lo, hi int, needles [][]byte) {
	n := len(r.ts)
	words := (n + 63) / 64
	if cap(r.match) < words {
		r.match = make([]uint64, words)
	}
	r.match = r.match[:words]
	clear(r.match)
	needles = nonEmpty(needles, r.needleBuf[:0])
	r.needleBuf = needles[:0]
	for i := lo; i < hi; i++ {
		if len(needles) > 0 {
			i = r.nextMatch(i, hi, needles)
			if i >= hi {
				break
			}
		}
		r.match[i/64] |= 1 << (i % 64)
	}
}

// matched reports whether markMatches found entry i.
func (r *blockReader) matched(i int) bool { return r.match[i/64]&(1<<(i%64)) != 0 }

// nonEmpty appends the non-empty needles to dst, the longest first (the
// rarest, most likely, and the fastest to search).
func nonEmpty(needles [][]byte, dst [][]byte) [][]byte {
	for _, n := range needles {
		if len(n) > 0 {
			dst = append(dst, n)
		}
	}
	for i := 1; i < len(dst); i++ {
		if len(dst[i]) > len(dst[0]) {
			dst[0], dst[i] = dst[i], dst[0]
		}
	}
	return dst
}
