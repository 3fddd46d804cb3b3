package chunk

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"slices"

	"github.com/prometheus/prometheus/model/labels"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// builderEntry locates one appended entry in the builder's arena.
type builderEntry struct {
	ts           int64
	line, md     uint32 // offsets in arena
	lineLen, mdN uint32 // line length; metadata length (serialized)
}

// BlockBuilder accumulates the entries of one head block, in any timestamp
// order, and encodes them into a block. Not goroutine-safe. A builder may be
// reused after Encode.
type BlockBuilder struct {
	comp    compressor
	entries []builderEntry
	arena   []byte // lines and serialized metadata, back to back
	rawSize int
	sorted  bool // entries are in (ts, line, md) order so far
	anyMD   bool

	// scratch, reused between Encodes
	deltas       []uint64
	ts, lens, md []byte
	lines        []byte // the lines section: linesBuf or a prefix of arena
	linesBuf     []byte
	filter       filterBuilder
}

// NewBlockBuilder returns an empty builder that compresses with codec. It
// panics on a codec this build cannot write (a programming error).
func NewBlockBuilder(codec Codec) *BlockBuilder {
	if !codec.Valid() {
		panic("BUG: NewBlockBuilder with unknown codec " + codec.String())
	}
	return newBlockBuilder(newCompressor(codec))
}

func newBlockBuilder(c compressor) *BlockBuilder {
	return &BlockBuilder{comp: c, sorted: true}
}

// Append adds an entry; line and md are copied.
func (b *BlockBuilder) Append(ts int64, line []byte, md labels.Labels) {
	e := builderEntry{ts: ts, line: uint32(len(b.arena)), lineLen: uint32(len(line))}
	b.arena = append(b.arena, line...)
	e.md = uint32(len(b.arena))
	if !md.IsEmpty() {
		b.arena = appendMetadata(b.arena, md)
		b.anyMD = true
	}
	e.mdN = uint32(len(b.arena)) - e.md
	b.rawSize += len(line) + int(e.mdN)
	if b.sorted && len(b.entries) > 0 && b.compare(&b.entries[len(b.entries)-1], &e) > 0 {
		b.sorted = false
	}
	b.entries = append(b.entries, e)
}

// appendMetadata serializes md without its pair count.
func appendMetadata(dst []byte, md labels.Labels) []byte {
	md.Range(func(l labels.Label) {
		dst = binary.AppendUvarint(dst, uint64(len(l.Name)))
		dst = append(dst, l.Name...)
		dst = binary.AppendUvarint(dst, uint64(len(l.Value)))
		dst = append(dst, l.Value...)
	})
	return dst
}

// Len returns the number of entries appended since the last Encode.
func (b *BlockBuilder) Len() int { return len(b.entries) }

// RawSize returns the bytes of lines and metadata appended since the last
// Encode.
func (b *BlockBuilder) RawSize() int { return b.rawSize }

func (b *BlockBuilder) lineOf(e *builderEntry) []byte {
	return b.arena[e.line : e.line+e.lineLen]
}

func (b *BlockBuilder) mdOf(e *builderEntry) []byte {
	return b.arena[e.md : e.md+e.mdN]
}

// compare orders entries by (timestamp, line, metadata).
func (b *BlockBuilder) compare(x, y *builderEntry) int {
	if x.ts != y.ts {
		if x.ts < y.ts {
			return -1
		}
		return 1
	}
	if c := bytes.Compare(b.lineOf(x), b.lineOf(y)); c != 0 {
		return c
	}
	return bytes.Compare(b.mdOf(x), b.mdOf(y))
}

// Encode sorts entries by (timestamp, line) — so the result depends only on
// the set of entries —, drops adjacent entries with the same timestamp and
// line (keeping the one with the smallest metadata), compresses, appends
// the encoded block to dst and returns it with its meta; then resets b.
// Encoding an empty builder appends an empty block (Entries 0). Callers cut
// blocks well below MaxBlockSize; Encode panics past it.
func (b *BlockBuilder) Encode(dst []byte) ([]byte, BlockMeta) {
	if !b.sorted {
		b.sortEntries()
	}
	meta := BlockMeta{Codec: b.comp.codec}
	b.buildSections(&meta)
	if max(len(b.ts), len(b.lens), len(b.lines), len(b.md)) > MaxBlockSize {
		panic(fmt.Sprintf("BUG: block of %d entries and %d bytes exceeds MaxBlockSize", len(b.entries), b.rawSize))
	}

	start := len(dst)
	dst = b.comp.appendCompressed(dst, b.ts)
	meta.TimestampsLen = uint32(len(dst) - start)
	dst = b.comp.appendCompressed(dst, b.lens)
	meta.LengthsLen = uint32(len(dst)-start) - meta.TimestampsLen
	dst = b.comp.appendCompressed(dst, b.lines)
	meta.LinesLen = uint32(len(dst)-start) - meta.TimestampsLen - meta.LengthsLen
	dst = b.comp.appendCompressed(dst, b.md)
	meta.MetadataLen = uint32(len(dst)-start) - meta.TimestampsLen - meta.LengthsLen - meta.LinesLen
	dst = binary.LittleEndian.AppendUint32(dst, crc32.Checksum(dst[start:], castagnoli))
	meta.Length = uint32(len(dst) - start)
	if meta.Entries > 0 {
		meta.Filter = b.filter.appendFilter(nil, len(dst)-start)
	}
	b.reset()
	return dst, meta
}

// sortEntries sorts the entries by (timestamp, line, metadata). Entries
// usually arrive in timestamp order but for a few (lines of equal
// timestamps, a late push), so an insertion sort runs first, in place and
// in linear time for such input; past a budget of moves it hands over to
// slices.SortFunc.
func (b *BlockBuilder) sortEntries() {
	es := b.entries
	budget := 8*len(es) + 64
	for i := 1; i < len(es); i++ {
		if b.compare(&es[i-1], &es[i]) <= 0 {
			continue
		}
		e := es[i]
		j := i - 1
		for j > 0 && b.compare(&es[j-1], &e) > 0 {
			j--
		}
		copy(es[j+1:i+1], es[j:i])
		es[j] = e
		if budget -= i - j; budget < 0 {
			slices.SortFunc(es, func(x, y builderEntry) int {
				// Timestamps first, inline: most pairs differ there.
				if x.ts != y.ts {
					return cmp.Compare(x.ts, y.ts)
				}
				return b.compare(&x, &y)
			})
			return
		}
	}
}

// buildSections fills the raw timestamp, line and metadata sections and the
// token filter from the sorted entries, dropping duplicates. While the kept
// lines lie back to back in the arena from its start (entries appended in
// order, no metadata, no duplicate), the lines section is the arena itself
// and nothing is copied.
func (b *BlockBuilder) buildSections(meta *BlockMeta) {
	b.deltas, b.lens, b.md = b.deltas[:0], b.lens[:0], b.md[:0]
	b.filter.reset(len(b.arena))
	var prev *builderEntry
	aliased := true // lines section is b.arena[:linesEnd]
	linesEnd := uint32(0)
	for i := range b.entries {
		e := &b.entries[i]
		line := b.lineOf(e)
		if prev != nil && prev.ts == e.ts && bytes.Equal(b.lineOf(prev), line) {
			continue
		}
		if prev == nil {
			meta.MinTime = e.ts
			b.deltas = append(b.deltas, 0)
		} else {
			b.deltas = append(b.deltas, uint64(e.ts-prev.ts))
		}
		b.lens = binary.AppendUvarint(b.lens, uint64(len(line)))
		if aliased && e.line == linesEnd {
			linesEnd += e.lineLen
		} else {
			if aliased {
				aliased = false
				b.linesBuf = append(b.linesBuf[:0], b.arena[:linesEnd]...)
			}
			b.linesBuf = append(b.linesBuf, line...)
		}
		b.filter.add(line)
		if b.anyMD {
			b.md = appendMetadataEntry(b.md, b.mdOf(e))
		}
		meta.RawSize += uint32(len(line)) + e.mdN
		meta.Entries++
		meta.MaxTime = e.ts
		prev = e
	}
	b.lines = b.linesBuf
	if aliased {
		b.lines = b.arena[:linesEnd:linesEnd]
	}
	b.ts = appendPlanes(b.ts[:0], b.deltas)
	meta.TimestampsRaw = uint32(len(b.ts))
	meta.LengthsRaw = uint32(len(b.lens))
	meta.LinesRaw = uint32(len(b.lines))
	meta.MetadataRaw = uint32(len(b.md))
}

// appendPlanes appends the deltas as 8 byte planes: the lowest byte of
// every delta, then the second byte of every delta, and so on. Compressors
// see the nearly constant high bytes apart from the noisy low ones.
func appendPlanes(dst []byte, deltas []uint64) []byte {
	n := len(deltas)
	start := len(dst)
	dst = append(dst, make([]byte, 8*n)...)
	planes := dst[start:]
	for i, d := range deltas {
		for k := range 8 {
			planes[k*n+i] = byte(d >> (8 * k))
		}
	}
	return dst
}

// appendMetadataEntry appends one entry's metadata: pair count, then the
// serialized pairs.
func appendMetadataEntry(dst, pairs []byte) []byte {
	n := 0
	for p := pairs; len(p) > 0; n++ {
		for range 2 {
			l, k := binary.Uvarint(p)
			p = p[k+int(l):]
		}
	}
	dst = binary.AppendUvarint(dst, uint64(n))
	return append(dst, pairs...)
}

func (b *BlockBuilder) reset() {
	b.lines = nil // may alias arena
	b.entries = b.entries[:0]
	b.arena = b.arena[:0]
	b.rawSize = 0
	b.sorted = true
	b.anyMD = false
}
