package chunk

import (
	"fmt"
	"sort"

	"github.com/prometheus/prometheus/model/labels"
)

// BlockScanner decodes the columns of one block at a time for callers that
// aggregate entries (counts per time window, bytes) instead of iterating
// them: after Load, entry i has timestamp Timestamps()[i] (ascending) and,
// with the columns asked for, Line(i), LineBytes and Metadata(i). A zero
// BlockScanner is ready; reuse one for many blocks to reuse its buffers.
// Not safe for concurrent use. Slices returned are valid until the next
// Load.
type BlockScanner struct {
	r    blockReader
	cols Columns
}

// Load verifies the checksum of an encoded block (data is exactly
// meta.Length bytes) and decodes its timestamps and the columns cols
// names. A block that fails to load leaves the scanner empty.
func (s *BlockScanner) Load(data []byte, meta *BlockMeta, cols Columns, st *ReadStats) error {
	s.cols = 0
	s.r.ts = s.r.ts[:0]
	if err := meta.validate(); err != nil {
		return err
	}
	if cols&ColumnLines != 0 {
		cols |= ColumnLengths
	}
	err := s.r.load(data, meta, cols, true, st)
	s.r.secs = [4][]byte{} // all decoded: do not keep data alive
	if err != nil {
		s.r.ts = s.r.ts[:0]
		return err
	}
	if st != nil {
		st.BlocksDecoded++
	}
	s.cols = cols
	return nil
}

// LoadMatching is Load (with ColumnLines added to cols) for a caller that
// wants only the entries with from <= ts < through whose line contains
// every needle, and it decodes no more than such a scan needs: if the
// block lies wholly in [from, through), its lines section alone is
// decompressed and searched for the longest needle; when that finds no
// instance, LoadMatching returns false with nothing else decoded. A block
// partly in the range has its timestamps decoded first (false when none is
// in the range). Otherwise it loads the block as Load does and returns
// true; NextMatch then finds the entries (taking up the search where
// LoadMatching found the first instance). After false the scanner holds
// no entries (Len 0). With no non-empty needle it is Load.
func (s *BlockScanner) LoadMatching(data []byte, meta *BlockMeta, cols Columns, from, through int64, needles [][]byte, st *ReadStats) (bool, error) {
	needles = nonEmpty(needles, s.r.needleBuf[:0])
	s.r.needleBuf = needles[:0]
	cols |= ColumnLines | ColumnLengths
	if len(needles) == 0 {
		return true, s.Load(data, meta, cols, st)
	}
	s.cols = 0
	s.r.ts = s.r.ts[:0]
	if err := meta.validate(); err != nil {
		return false, err
	}
	found, err := s.r.loadMatching(data, meta, cols, from, through, needles, true, st)
	s.r.secs = [4][]byte{}
	if err != nil {
		s.r.ts = s.r.ts[:0]
		return false, err
	}
	if st != nil {
		st.BlocksDecoded++
	}
	if !found {
		s.r.ts, s.r.offs, s.r.ends = s.r.ts[:0], s.r.offs[:0], s.r.ends[:0]
	}
	s.cols = cols
	return found, nil
}

// AppendPackedTimestamps appends the loaded timestamps to dst in a packed
// form that LoadPackedTimestamps decodes with no decompression: the low
// byte planes of their deltas that the block's span needs (4-5 bytes per
// entry for blocks of seconds to hours). It is meant for caches kept in
// memory, not for storage.
func (s *BlockScanner) AppendPackedTimestamps(dst []byte, meta *BlockMeta) []byte {
	return appendSpanPlanes(dst, s.r.ts, meta.MinTime, uint64(meta.MaxTime-meta.MinTime))
}

// LoadPackedTimestamps decodes timestamps that AppendPackedTimestamps
// packed for the block of meta, kept apart from the block by a caller that
// verified the block when it read it: no checksum covers them, so only
// their structure is checked (their length, deltas that add up to the
// block's span).
func (s *BlockScanner) LoadPackedTimestamps(packed []byte, meta *BlockMeta) error {
	s.cols = 0
	s.r.ts = s.r.ts[:0]
	if err := meta.validate(); err != nil {
		return err
	}
	if err := s.r.decodeTimestamps(packed, meta, spanPlanes(uint64(meta.MaxTime-meta.MinTime))); err != nil {
		s.r.ts = s.r.ts[:0]
		return err
	}
	return nil
}

// AppendPackedLengths appends the loaded line lengths (ColumnLengths or
// ColumnLines) to dst in the form LoadPackedLengths decodes.
func (s *BlockScanner) AppendPackedLengths(dst []byte) []byte {
	s.need(ColumnLengths)
	return append(dst, s.r.lens...)
}

// LoadPackedLengths decodes line lengths that AppendPackedLengths packed,
// for the block whose timestamps LoadPackedTimestamps loaded, as it does:
// LineBytes works after it.
func (s *BlockScanner) LoadPackedLengths(packed []byte, meta *BlockMeta) error {
	if len(s.r.ts) != int(meta.Entries) {
		return fmt.Errorf("lengths of a block whose timestamps are not loaded: %w", ErrCorrupt)
	}
	s.r.lens = append(s.r.lens[:0], packed...)
	if err := s.r.decodeLengths(s.r.lens, meta); err != nil {
		s.r.ts = s.r.ts[:0]
		return err
	}
	s.cols |= ColumnLengths
	return nil
}

// Len returns the number of entries loaded.
func (s *BlockScanner) Len() int { return len(s.r.ts) }

// Timestamps returns the timestamps of the entries, ascending.
func (s *BlockScanner) Timestamps() []int64 { return s.r.ts }

// Bounds returns the index range [lo, hi) of entries with from <= ts <
// through.
func (s *BlockScanner) Bounds(from, through int64) (lo, hi int) {
	ts := s.r.ts
	lo = sort.Search(len(ts), func(i int) bool { return ts[i] >= from })
	hi = lo + sort.Search(len(ts)-lo, func(i int) bool { return ts[lo+i] >= through })
	return lo, hi
}

// LineBytes returns the total length of the lines of entries [lo, hi)
// (ColumnLengths or ColumnLines).
func (s *BlockScanner) LineBytes(lo, hi int) int64 {
	if hi <= lo {
		return 0
	}
	s.need(ColumnLengths)
	return int64(s.r.ends[hi-1]) - int64(s.r.offs[lo])
}

// Line returns the line of entry i (ColumnLines).
func (s *BlockScanner) Line(i int) []byte {
	s.need(ColumnLines)
	return s.r.line(i)
}

// Metadata returns the structured metadata of entry i (ColumnMetadata);
// consecutive entries with the same metadata share one value.
func (s *BlockScanner) Metadata(i int) labels.Labels {
	s.need(ColumnMetadata)
	return s.r.metadata(i)
}

// NextMatch returns the index of the first entry in [i, hi) whose line
// contains every needle (case-sensitively), or hi; empty needles match
// any line. It scans the decompressed lines at once rather than line by
// line (ColumnLines).
func (s *BlockScanner) NextMatch(i, hi int, needles [][]byte) int {
	s.need(ColumnLines)
	needles = nonEmpty(needles, s.r.needleBuf[:0])
	s.r.needleBuf = needles[:0]
	if len(needles) == 0 {
		return min(i, hi)
	}
	return s.r.nextMatch(i, hi, needles)
}

func (s *BlockScanner) need(c Columns) {
	if s.cols&c == 0 {
		panic("BUG: BlockScanner column not loaded")
	}
}
