package chunk

import (
	"encoding/binary"
	"fmt"
)

// BlockMeta describes one encoded block: where it is, what it covers and how
// its sections are laid out (see FORMAT.md).
type BlockMeta struct {
	Offset, Length   uint32 // position of the encoded block inside the chunk (Offset 0 for a lone block)
	MinTime, MaxTime int64  // smallest and largest entry timestamp, inclusive
	Entries          uint32
	RawSize          uint32 // bytes of lines + metadata before compression
	Filter           []byte // token filter; see MayContain
	Codec            Codec

	// Section layout: [timestamps][lengths][lines][metadata][crc32c];
	// compressed and uncompressed lengths of each section.
	TimestampsLen, LengthsLen, LinesLen, MetadataLen uint32
	TimestampsRaw, LengthsRaw, LinesRaw, MetadataRaw uint32
}

// MayContain reports false only if no line of the block can contain needle
// (case-sensitively; the filter folds ASCII case, so it also never rules out
// a case-insensitive match). Needles shorter than 4 bytes always may.
func (m *BlockMeta) MayContain(needle []byte) bool {
	return filterMayContain(m.Filter, needle)
}

// mayContainAll reports whether the block may contain every needle.
func (m *BlockMeta) mayContainAll(needles [][]byte) bool {
	for _, n := range needles {
		if !filterMayContain(m.Filter, n) {
			return false
		}
	}
	return true
}

// overlaps reports whether the block may hold entries with from <= ts < through.
func (m *BlockMeta) overlaps(from, through int64) bool {
	return m.Entries > 0 && m.MaxTime >= from && m.MinTime < through
}

// AppendBlockMeta appends the compact binary form of m (FORMAT.md, block meta).
func AppendBlockMeta(dst []byte, m BlockMeta) []byte {
	dst = append(dst, byte(m.Codec))
	dst = binary.AppendUvarint(dst, uint64(m.Offset))
	dst = binary.AppendUvarint(dst, uint64(m.Length))
	dst = binary.AppendVarint(dst, m.MinTime)
	dst = binary.AppendUvarint(dst, uint64(m.MaxTime-m.MinTime))
	dst = binary.AppendUvarint(dst, uint64(m.Entries))
	dst = binary.AppendUvarint(dst, uint64(m.RawSize))
	dst = binary.AppendUvarint(dst, uint64(m.TimestampsLen))
	dst = binary.AppendUvarint(dst, uint64(m.LengthsLen))
	dst = binary.AppendUvarint(dst, uint64(m.LinesLen))
	dst = binary.AppendUvarint(dst, uint64(m.MetadataLen))
	dst = binary.AppendUvarint(dst, uint64(m.TimestampsRaw))
	dst = binary.AppendUvarint(dst, uint64(m.LengthsRaw))
	dst = binary.AppendUvarint(dst, uint64(m.LinesRaw))
	dst = binary.AppendUvarint(dst, uint64(m.MetadataRaw))
	dst = binary.AppendUvarint(dst, uint64(len(m.Filter)))
	return append(dst, m.Filter...)
}

// ReadBlockMeta decodes a BlockMeta written by AppendBlockMeta from the
// start of b and returns the rest of b. The returned Filter aliases b.
func ReadBlockMeta(b []byte) (BlockMeta, []byte, error) {
	var m BlockMeta
	d := decbuf{b: b}
	m.Codec = Codec(d.byte1())
	m.Offset = d.uvarint32()
	m.Length = d.uvarint32()
	m.MinTime = d.varint()
	span := d.uvarint()
	m.MaxTime = m.MinTime + int64(span)
	m.Entries = d.uvarint32()
	m.RawSize = d.uvarint32()
	m.TimestampsLen = d.uvarint32()
	m.LengthsLen = d.uvarint32()
	m.LinesLen = d.uvarint32()
	m.MetadataLen = d.uvarint32()
	m.TimestampsRaw = d.uvarint32()
	m.LengthsRaw = d.uvarint32()
	m.LinesRaw = d.uvarint32()
	m.MetadataRaw = d.uvarint32()
	m.Filter = d.bytes(int(d.uvarint32()))
	if d.err != nil {
		return BlockMeta{}, b, fmt.Errorf("read block meta: %w", d.err)
	}
	if err := m.validate(); err != nil {
		return BlockMeta{}, b, fmt.Errorf("read block meta: %w", err)
	}
	if len(m.Filter) == 0 {
		m.Filter = nil
	}
	return m, d.b, nil
}

// validate checks the internal consistency of m.
func (m *BlockMeta) validate() error {
	if !m.Codec.Valid() {
		return fmt.Errorf("codec %d: %w", uint8(m.Codec), ErrUnknownCodec)
	}
	if m.MaxTime < m.MinTime {
		return fmt.Errorf("time range [%d, %d]: %w", m.MinTime, m.MaxTime, ErrCorrupt)
	}
	sum := uint64(m.TimestampsLen) + uint64(m.LengthsLen) + uint64(m.LinesLen) + uint64(m.MetadataLen) + 4
	if sum != uint64(m.Length) {
		return fmt.Errorf("block length %d, sections %d: %w", m.Length, sum, ErrCorrupt)
	}
	// Every entry takes 8 bytes of timestamps and at least one byte of
	// lengths.
	if uint64(m.TimestampsRaw) != 8*uint64(m.Entries) || m.LengthsRaw < m.Entries || (m.Entries == 0 && m.LengthsRaw+m.LinesRaw+m.MetadataRaw != 0) {
		return fmt.Errorf("%d entries in sections of %d/%d/%d bytes: %w", m.Entries, m.TimestampsRaw, m.LengthsRaw, m.LinesRaw, ErrCorrupt)
	}
	if m.LengthsRaw > maxSectionRaw || m.LinesRaw > maxSectionRaw || m.MetadataRaw > maxSectionRaw || m.TimestampsRaw > maxSectionRaw {
		return fmt.Errorf("section too large: %w", ErrCorrupt)
	}
	return nil
}

// decbuf reads varints with a sticky error.
type decbuf struct {
	b   []byte
	err error
}

func (d *decbuf) fail() {
	if d.err == nil {
		d.err = fmt.Errorf("truncated or malformed: %w", ErrCorrupt)
	}
	d.b = nil
}

func (d *decbuf) byte1() byte {
	if len(d.b) < 1 {
		d.fail()
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decbuf) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decbuf) uvarint32() uint32 {
	v := d.uvarint()
	if v > 1<<32-1 {
		d.fail()
		return 0
	}
	return uint32(v)
}

func (d *decbuf) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decbuf) bytes(n int) []byte {
	if n < 0 || len(d.b) < n {
		d.fail()
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *decbuf) u64() uint64 {
	if len(d.b) < 8 {
		d.fail()
		return 0
	}
	v := binary.LittleEndian.Uint64(d.b)
	d.b = d.b[8:]
	return v
}
