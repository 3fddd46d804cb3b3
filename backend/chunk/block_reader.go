package chunk

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"sort"
	"sync"

	"github.com/prometheus/prometheus/model/labels"
)

// blockReader holds one decoded block: timestamps, and (unless only
// timestamps were asked for) line and metadata positions in the
// decompressed sections. Pooled; see getBlockReader / putBlockReader.
type blockReader struct {
	ts    []int64
	lens  []byte   // decompressed lengths section (scratch)
	lines []byte   // decompressed lines section
	offs  []uint32 // start of line i in lines; line i ends at ends[i]
	ends  []uint32
	md    []byte   // decompressed metadata section, or nil
	mdOff []uint32 // start of entry i's metadata (pair count) in md

	// metadata decode cache: the last decoded metadata bytes and labels.
	sb       labels.ScratchBuilder
	lastMD   []byte
	lastLbls labels.Labels
}

var blockReaders = sync.Pool{New: func() any { return new(blockReader) }}

func getBlockReader() *blockReader { return blockReaders.Get().(*blockReader) }

func putBlockReader(r *blockReader) {
	r.lastMD, r.lastLbls = nil, labels.EmptyLabels()
	blockReaders.Put(r)
}

// load decodes the block data (exactly meta.Length bytes) into r. With
// verify, the block checksum is checked first.
func (r *blockReader) load(data []byte, m *BlockMeta, tsOnly, verify bool, st *ReadStats) error {
	if uint64(len(data)) != uint64(m.Length) || m.Length < 4 {
		return fmt.Errorf("block of %d bytes, meta says %d: %w", len(data), m.Length, ErrCorrupt)
	}
	body := data[:len(data)-4]
	if verify && crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(data[len(body):]) {
		return fmt.Errorf("block checksum: %w", ErrCorrupt)
	}
	p := m.TimestampsLen
	tsSec := body[:p]
	lensSec := body[p : p+m.LengthsLen]
	p += m.LengthsLen
	linesSec := body[p : p+m.LinesLen]
	mdSec := body[p+m.LinesLen:]
	if err := r.loadTimestamps(tsSec, m, st); err != nil {
		return err
	}
	r.lines, r.offs, r.ends, r.md, r.mdOff = r.lines[:0], r.offs[:0], r.ends[:0], r.md[:0], r.mdOff[:0]
	r.lastMD = nil
	if tsOnly {
		return r.loadMetadata(mdSec, m, st)
	}
	if err := r.loadLines(lensSec, linesSec, m, st); err != nil {
		return err
	}
	return r.loadMetadata(mdSec, m, st)
}

func (r *blockReader) loadTimestamps(sec []byte, m *BlockMeta, st *ReadStats) error {
	raw, err := appendDecompressed(m.Codec, r.lines[:0], sec, int(m.TimestampsRaw))
	r.lines = raw // borrow the lines buffer as scratch
	if err != nil {
		return fmt.Errorf("timestamps: %w", err)
	}
	st.addRead(len(sec), len(raw))
	n := int(m.Entries)
	if len(raw) != 8*n {
		return fmt.Errorf("timestamps section of %d bytes for %d entries: %w", len(raw), n, ErrCorrupt)
	}
	if cap(r.ts) < n {
		r.ts = make([]int64, n)
	}
	r.ts = r.ts[:n]
	t := m.MinTime
	for i := range n {
		var d uint64
		for k := range 8 {
			d |= uint64(raw[k*n+i]) << (8 * k)
		}
		if d > uint64(m.MaxTime-t) || (i == 0 && d != 0) {
			return fmt.Errorf("timestamp %d outside block range: %w", i, ErrCorrupt)
		}
		t += int64(d)
		r.ts[i] = t
	}
	if n > 0 && t != m.MaxTime {
		return fmt.Errorf("last timestamp %d, block ends at %d: %w", t, m.MaxTime, ErrCorrupt)
	}
	return nil
}

func (r *blockReader) loadLines(lensSec, linesSec []byte, m *BlockMeta, st *ReadStats) error {
	lens, err := appendDecompressed(m.Codec, r.lens[:0], lensSec, int(m.LengthsRaw))
	r.lens = lens
	if err != nil {
		return fmt.Errorf("lengths: %w", err)
	}
	st.addRead(len(lensSec), len(lens))
	raw, err := appendDecompressed(m.Codec, r.lines[:0], linesSec, int(m.LinesRaw))
	r.lines = raw
	if err != nil {
		return fmt.Errorf("lines: %w", err)
	}
	st.addRead(len(linesSec), len(raw))
	n := int(m.Entries)
	if cap(r.offs) < n {
		r.offs = make([]uint32, n)
		r.ends = make([]uint32, n)
	}
	r.offs, r.ends = r.offs[:n], r.ends[:n]
	pos, end := 0, uint64(0)
	for i := range n {
		l, k := binary.Uvarint(lens)
		end += l
		if k <= 0 || end > uint64(len(raw)) {
			return fmt.Errorf("length of line %d: %w", i, ErrCorrupt)
		}
		lens = lens[k:]
		r.offs[i] = uint32(pos)
		pos = int(end)
		r.ends[i] = uint32(pos)
	}
	if pos != len(raw) || len(lens) != 0 {
		return fmt.Errorf("lines section: %d trailing bytes: %w", len(raw)-pos+len(lens), ErrCorrupt)
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
	raw, err := appendDecompressed(m.Codec, r.md[:0], sec, int(m.MetadataRaw))
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
