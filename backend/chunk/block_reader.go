package chunk

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math/bits"
	"slices"
	"sort"
	"sync"

	"github.com/prometheus/prometheus/model/labels"
)

// blockReader holds one block, opened (checksum checked, sections
// located) and decoded section by section as needed: timestamps, and
// line and metadata positions in the decompressed sections. Pooled; see
// getBlockReader / putBlockReader.
type blockReader struct {
	secs  [4][]byte // compressed sections of the open block: timestamps, lengths, lines, metadata
	have  Columns   // sections decoded (columnTimestamps, ColumnLengths, ColumnLines, ColumnMetadata)
	ts    []int64
	tsRaw []byte   // decompressed timestamps section (scratch)
	lens  []byte   // decompressed lengths section (scratch)
	lines []byte   // decompressed lines section
	offs  []uint32 // start of line i in lines; line i ends at ends[i] (ColumnLengths)
	ends  []uint32
	md    []byte   // decompressed metadata section, or nil
	mdOff []uint32 // start of entry i's metadata (pair count) in md
	match []uint64 // bitmap of entries whose line holds the needles (markMatches)

	needleBuf  [][]byte     // scratch of markMatches
	search     needleSearch // search of the first needle (nextMatch)
	searchFrom int          // no instance of search's needle starts before this offset of lines

	// metadata decode cache: the last decoded metadata bytes and labels.
	sb       labels.ScratchBuilder
	lastMD   []byte
	lastLbls labels.Labels
}

var blockReaders = sync.Pool{New: func() any { return new(blockReader) }}

func getBlockReader() *blockReader { return blockReaders.Get().(*blockReader) }

func putBlockReader(r *blockReader) {
	r.lastMD, r.lastLbls = nil, labels.EmptyLabels()
	r.secs = [4][]byte{} // do not keep the block's data alive
	blockReaders.Put(r)
}

// Columns selects the sections of a block a reader decodes besides the
// timestamps, which it always decodes.
type Columns uint8

const (
	// ColumnLengths decodes the line lengths (BlockScanner.LineBytes).
	ColumnLengths Columns = 1 << iota
	// ColumnLines decodes the lines (and their lengths).
	ColumnLines
	// ColumnMetadata decodes the structured metadata.
	ColumnMetadata

	// columnTimestamps marks decoded timestamps in blockReader.have (they
	// are always decoded, so no caller names them).
	columnTimestamps Columns = 1 << 7
)

// load opens the block data (exactly m.Length bytes; with verify, its
// checksum is checked) and decodes the timestamps and the sections cols
// names.
func (r *blockReader) load(data []byte, m *BlockMeta, cols Columns, verify bool, st *ReadStats) error {
	if err := r.open(data, m, verify); err != nil {
		return err
	}
	return r.need(m, cols, st)
}

// open checks the length of the block data and, with verify, its
// checksum, and locates its sections; it decodes nothing.
func (r *blockReader) open(data []byte, m *BlockMeta, verify bool) error {
	r.have, r.secs = 0, [4][]byte{}
	r.ts, r.lines, r.offs, r.ends, r.md, r.mdOff = r.ts[:0], r.lines[:0], r.offs[:0], r.ends[:0], r.md[:0], r.mdOff[:0]
	r.lastMD = nil
	r.searchFrom = 0
	if uint64(len(data)) != uint64(m.Length) || m.Length < 4 {
		return fmt.Errorf("block of %d bytes, meta says %d: %w", len(data), m.Length, ErrCorrupt)
	}
	body := data[:len(data)-4]
	if verify && crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(data[len(body):]) {
		return fmt.Errorf("block checksum: %w", ErrCorrupt)
	}
	p := m.TimestampsLen
	q := p + m.LengthsLen
	r.secs = [4][]byte{body[:p:p], body[p:q:q], body[q : q+m.LinesLen : q+m.LinesLen], body[q+m.LinesLen:]}
	return nil
}

// need decodes the timestamps and the sections cols names (ColumnLines
// implies ColumnLengths) that the open block has not decoded yet.
func (r *blockReader) need(m *BlockMeta, cols Columns, st *ReadStats) error {
	if cols&ColumnLines != 0 {
		cols |= ColumnLengths
	}
	if r.have&columnTimestamps == 0 {
		if err := r.loadTimestamps(r.secs[0], m, st); err != nil {
			return err
		}
		r.have |= columnTimestamps
	}
	if cols&ColumnLengths != 0 && r.have&ColumnLengths == 0 {
		if err := r.loadLengths(r.secs[1], m, st); err != nil {
			return err
		}
		r.have |= ColumnLengths
	}
	if cols&ColumnLines != 0 {
		if err := r.needLines(m, st); err != nil {
			return err
		}
	}
	if cols&ColumnMetadata != 0 && r.have&ColumnMetadata == 0 {
		if err := r.loadMetadata(r.secs[3], m, st); err != nil {
			return err
		}
		r.have |= ColumnMetadata
	}
	return nil
}

// needLines decompresses the lines section of the open block, if not
// done yet; line positions need the lengths too (need).
func (r *blockReader) needLines(m *BlockMeta, st *ReadStats) error {
	if r.have&ColumnLines != 0 {
		return nil
	}
	if err := r.loadLines(r.secs[2], m, st); err != nil {
		return err
	}
	r.have |= ColumnLines
	return nil
}

// loadTimestamps decodes the timestamps section: byte planes of deltas
// from MinTime. No delta exceeds MaxTime-MinTime, so the planes above that
// span's width must be zero; they are checked, not decoded.
func (r *blockReader) loadTimestamps(sec []byte, m *BlockMeta, st *ReadStats) error {
	raw, err := appendDecompressed(m.Codec, scratch(r.tsRaw, int(m.TimestampsRaw)), sec, int(m.TimestampsRaw))
	r.tsRaw = raw
	if err != nil {
		return fmt.Errorf("timestamps: %w", err)
	}
	st.addRead(len(sec), len(raw))
	return r.decodeTimestamps(raw, m, 8)
}

// decodeTimestamps decodes timestamps from stored byte planes of their
// deltas (8 planes as in a block, or just those the block's span needs).
func (r *blockReader) decodeTimestamps(raw []byte, m *BlockMeta, stored int) error {
	n := int(m.Entries)
	if len(raw) != stored*n {
		return fmt.Errorf("timestamps of %d bytes for %d entries: %w", len(raw), n, ErrCorrupt)
	}
	if cap(r.ts) < n {
		r.ts = make([]int64, n)
	}
	r.ts = r.ts[:n]
	if n == 0 {
		return nil
	}
	span := uint64(m.MaxTime - m.MinTime)
	planes := spanPlanes(span)
	if stored < planes || !allZero(raw[planes*n:]) {
		return fmt.Errorf("timestamp delta beyond the block range: %w", ErrCorrupt)
	}
	if !firstDeltaZero(raw, n, planes) {
		return fmt.Errorf("first timestamp after block start: %w", ErrCorrupt)
	}
	sum, wrapped := sumDeltas(r.ts, raw, n, planes, m.MinTime)
	if wrapped || sum != span {
		return fmt.Errorf("timestamps end at %d past the block start, block spans %d: %w", sum, span, ErrCorrupt)
	}
	return nil
}

// spanPlanes is the number of low byte planes that deltas within a block
// spanning span nanoseconds can use.
func spanPlanes(span uint64) int { return (bits.Len64(span) + 7) / 8 }

// appendSpanPlanes appends the byte planes of the deltas of ts (ascending,
// starting at base) that a block spanning span needs.
func appendSpanPlanes(dst []byte, ts []int64, base int64, span uint64) []byte {
	n := len(ts)
	planes := spanPlanes(span)
	start := len(dst)
	dst = slices.Grow(dst, planes*n)[:start+planes*n]
	prev := base
	for i, t := range ts {
		d := uint64(t - prev)
		prev = t
		for k := range planes {
			dst[start+k*n+i] = byte(d >> (8 * k))
		}
	}
	return dst
}

func firstDeltaZero(raw []byte, n, planes int) bool {
	for k := range planes {
		if raw[k*n] != 0 {
			return false
		}
	}
	return true
}

// sumDeltas writes base plus the running sum of the deltas held in the
// low planes of raw (the others are zero) into ts, in one pass, and
// returns the sum and whether a step wrapped around (which no valid block
// has: every partial sum is then at most the last).
func sumDeltas(ts []int64, raw []byte, n, planes int, base int64) (sum uint64, wrapped bool) {
	var p [8][]byte
	for k := range planes {
		p[k] = raw[k*n : (k+1)*n]
	}
	switch planes {
	case 0:
		for i := range ts {
			ts[i] = base
		}
		return 0, false
	case 1:
		p0 := p[0][:len(ts)]
		for i := range ts {
			sum += uint64(p0[i])
			ts[i] = base + int64(sum)
		}
		return sum, false
	case 2:
		p0, p1 := p[0][:len(ts)], p[1][:len(ts)]
		for i := range ts {
			sum += uint64(p0[i]) | uint64(p1[i])<<8
			ts[i] = base + int64(sum)
		}
		return sum, false
	case 3:
		p0, p1, p2 := p[0][:len(ts)], p[1][:len(ts)], p[2][:len(ts)]
		for i := range ts {
			sum += uint64(p0[i]) | uint64(p1[i])<<8 | uint64(p2[i])<<16
			ts[i] = base + int64(sum)
		}
		return sum, false
	case 4:
		p0, p1, p2, p3 := p[0][:len(ts)], p[1][:len(ts)], p[2][:len(ts)], p[3][:len(ts)]
		for i := range ts {
			sum += uint64(p0[i]) | uint64(p1[i])<<8 | uint64(p2[i])<<16 | uint64(p3[i])<<24
			ts[i] = base + int64(sum)
		}
		return sum, false
	case 5:
		p0, p1, p2, p3, p4 := p[0][:len(ts)], p[1][:len(ts)], p[2][:len(ts)], p[3][:len(ts)], p[4][:len(ts)]
		for i := range ts {
			sum += uint64(p0[i]) | uint64(p1[i])<<8 | uint64(p2[i])<<16 | uint64(p3[i])<<24 | uint64(p4[i])<<32
			ts[i] = base + int64(sum)
		}
		// Deltas below 2^40, at most 2^23 of them: no wrap.
		return sum, false
	}
	for i := range ts {
		var d uint64
		for k := range planes {
			d |= uint64(p[k][i]) << (8 * k)
		}
		next := sum + d
		wrapped = wrapped || next < sum
		sum = next
		ts[i] = base + int64(sum)
	}
	return sum, wrapped
}

// allZero reports whether b holds only zero bytes.
func allZero(b []byte) bool {
	for len(b) >= 8 {
		if binary.LittleEndian.Uint64(b) != 0 {
			return false
		}
		b = b[8:]
	}
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}

// loadLengths decodes the line lengths into line positions in the (not
// necessarily decompressed) lines section.
func (r *blockReader) loadLengths(lensSec []byte, m *BlockMeta, st *ReadStats) error {
	lens, err := appendDecompressed(m.Codec, scratch(r.lens, int(m.LengthsRaw)), lensSec, int(m.LengthsRaw))
	r.lens = lens
	if err != nil {
		return fmt.Errorf("lengths: %w", err)
	}
	st.addRead(len(lensSec), len(lens))
	return r.decodeLengths(lens, m)
}

// decodeLengths turns the decompressed lengths section into line
// positions.
func (r *blockReader) decodeLengths(lens []byte, m *BlockMeta) error {
	if uint64(len(lens)) != uint64(m.LengthsRaw) {
		return fmt.Errorf("lengths of %d bytes, meta says %d: %w", len(lens), m.LengthsRaw, ErrCorrupt)
	}
	n := int(m.Entries)
	if cap(r.offs) < n {
		r.offs = make([]uint32, n)
		r.ends = make([]uint32, n)
	}
	r.offs, r.ends = r.offs[:n], r.ends[:n]
	total := uint64(m.LinesRaw)
	pos, end := uint64(0), uint64(0)
	for i := range n {
		l, k := binary.Uvarint(lens)
		end += l
		if k <= 0 || end > total {
			return fmt.Errorf("length of line %d: %w", i, ErrCorrupt)
		}
		lens = lens[k:]
		r.offs[i] = uint32(pos)
		pos = end
		r.ends[i] = uint32(pos)
	}
	if pos != total || len(lens) != 0 {
		return fmt.Errorf("lines section: %d trailing bytes: %w", total-pos+uint64(len(lens)), ErrCorrupt)
	}
	return nil
}

// loadLines decompresses the lines section.
func (r *blockReader) loadLines(linesSec []byte, m *BlockMeta, st *ReadStats) error {
	raw, err := appendDecompressed(m.Codec, scratch(r.lines, int(m.LinesRaw)), linesSec, int(m.LinesRaw))
	r.lines = raw
	if err != nil {
		return fmt.Errorf("lines: %w", err)
	}
	st.addRead(len(linesSec), len(raw))
	if uint64(len(raw)) != uint64(m.LinesRaw) {
		return fmt.Errorf("lines section of %d bytes, meta says %d: %w", len(raw), m.LinesRaw, ErrCorrupt)
	}
	return nil
}

func (r *blockReader) loadMetadata(sec []byte, m *BlockMeta, st *ReadStats) error {
	if m.MetadataRaw == 0 {
		if len(sec) != 0 {
			return fmt.Errorf("metadata section without raw length: %w", ErrCorrupt)
		}
		return nil
	}
	raw, err := appendDecompressed(m.Codec, scratch(r.md, int(m.MetadataRaw)), sec, int(m.MetadataRaw))
	r.md = raw
	if err != nil {
		return fmt.Errorf("metadata: %w", err)
	}
	st.addRead(len(sec), len(raw))
	n := int(m.Entries)
	if cap(r.mdOff) < n+1 {
		r.mdOff = make([]uint32, n+1)
	}
	r.mdOff = r.mdOff[:n+1]
	d := decbuf{b: raw}
	for i := range n {
		r.mdOff[i] = uint32(len(raw) - len(d.b))
		pairs := d.uvarint()
		if pairs > uint64(len(d.b)) {
			return fmt.Errorf("metadata of entry %d: %w", i, ErrCorrupt)
		}
		for range 2 * pairs {
			d.bytes(int(d.uvarint32()))
		}
		if d.err != nil {
			return fmt.Errorf("metadata of entry %d: %w", i, d.err)
		}
	}
	if len(d.b) != 0 {
		return fmt.Errorf("metadata section has trailing bytes: %w", ErrCorrupt)
	}
	r.mdOff[n] = uint32(len(raw))
	return nil
}

// scratch returns buf emptied, with room to decompress a section of n
// bytes into (zstdSlack included). A new array gets an eighth more, so
// that a buffer reused for blocks of slightly different sizes is seldom
// reallocated; section sizes are bounded by maxSectionRaw.
func scratch(buf []byte, n int) []byte {
	if cap(buf) >= n+zstdSlack || n > maxSectionRaw {
		return buf[:0]
	}
	return make([]byte, 0, n+n/8+zstdSlack)
}

// line returns line i (lines must be loaded).
func (r *blockReader) line(i int) []byte { return r.lines[r.offs[i]:r.ends[i]:r.ends[i]] }

// metadata returns the metadata of entry i (empty without a metadata section).
func (r *blockReader) metadata(i int) labels.Labels {
	if len(r.md) == 0 {
		return labels.EmptyLabels()
	}
	b := r.md[r.mdOff[i]:r.mdOff[i+1]]
	if r.lastMD != nil && string(b) == string(r.lastMD) {
		return r.lastLbls
	}
	d := decbuf{b: b}
	pairs := d.uvarint()
	r.sb.Reset()
	for range pairs {
		name := d.bytes(int(d.uvarint32()))
		value := d.bytes(int(d.uvarint32()))
		r.sb.Add(string(name), string(value))
	}
	r.sb.Sort()
	r.lastLbls = r.sb.Labels()
	r.lastMD = b
	return r.lastLbls
}

// bounds returns the index range [lo, hi) of entries with from <= ts < through.
func (r *blockReader) bounds(from, through int64) (int, int) {
	lo := sort.Search(len(r.ts), func(i int) bool { return r.ts[i] >= from })
	hi := sort.Search(len(r.ts), func(i int) bool { return r.ts[i] >= through })
	return lo, max(lo, hi)
}
