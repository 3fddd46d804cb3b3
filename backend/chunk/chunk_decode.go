package chunk

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"

	"github.com/lode-logs/lode/backend/iter"
	"github.com/lode-logs/lode/backend/model"
	"github.com/prometheus/prometheus/model/labels"
)

// Chunk is a decoded chunk object: its header and block index, reading
// blocks from the data it was decoded from. Safe for concurrent reads.
type Chunk struct {
	data   []byte
	header Header
	blocks []BlockMeta
}

// Decode validates header, block index and footer checksums of a chunk
// object (blocks are checked when read) and returns a reader over data
// (data must stay unchanged while used).
func Decode(data []byte) (*Chunk, error) {
	if len(data) < footerSize+5 {
		return nil, fmt.Errorf("decode chunk: %d bytes: %w", len(data), ErrCorrupt)
	}
	if string(data[:4]) != magic {
		return nil, fmt.Errorf("decode chunk: bad magic: %w", ErrCorrupt)
	}
	if data[4] != version1 {
		return nil, fmt.Errorf("decode chunk: version %d: %w", data[4], ErrUnknownVersion)
	}
	f, err := readFooter(data)
	if err != nil {
		return nil, fmt.Errorf("decode chunk: %w", err)
	}
	c := &Chunk{data: data}
	if c.header, err = readHeader(data[:f.hdrLen]); err != nil {
		return nil, fmt.Errorf("decode chunk: %w", err)
	}
	if c.blocks, err = readIndex(data[f.idxOff:f.idxOff+f.idxLen], f.hdrLen, f.idxOff); err != nil {
		return nil, fmt.Errorf("decode chunk: %w", err)
	}
	if err := c.checkHeader(); err != nil {
		return nil, fmt.Errorf("decode chunk: %w", err)
	}
	return c, nil
}

type footer struct{ hdrLen, idxOff, idxLen uint32 }

func readFooter(data []byte) (footer, error) {
	fb := data[len(data)-footerSize:]
	if string(fb[20:]) != magic {
		return footer{}, fmt.Errorf("bad footer magic: %w", ErrCorrupt)
	}
	if crc32.Checksum(fb[:16], castagnoli) != binary.LittleEndian.Uint32(fb[16:]) {
		return footer{}, fmt.Errorf("footer checksum: %w", ErrCorrupt)
	}
	f := footer{
		hdrLen: binary.LittleEndian.Uint32(fb[0:]),
		idxOff: binary.LittleEndian.Uint32(fb[4:]),
		idxLen: binary.LittleEndian.Uint32(fb[8:]),
	}
	end := uint64(len(data) - footerSize)
	if uint64(f.idxOff)+uint64(f.idxLen) != end || f.hdrLen > f.idxOff || f.hdrLen < 5 {
		return footer{}, fmt.Errorf("footer offsets: %w", ErrCorrupt)
	}
	if crc32.Checksum(data[f.idxOff:end], castagnoli) != binary.LittleEndian.Uint32(fb[12:]) {
		return footer{}, fmt.Errorf("block index checksum: %w", ErrCorrupt)
	}
	return f, nil
}

// readHeader decodes magic, version and header body (b is exactly the
// header, as long as the footer says).
func readHeader(b []byte) (Header, error) {
	d := decbuf{b: b[5:]}
	n := d.uvarint()
	body := d.bytes(int(min(n, uint64(len(b)))))
	if d.err != nil || len(d.b) != 4 {
		return Header{}, fmt.Errorf("header length: %w", ErrCorrupt)
	}
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(d.b) {
		return Header{}, fmt.Errorf("header checksum: %w", ErrCorrupt)
	}
	var h Header
	d = decbuf{b: body}
	h.Codec = Codec(d.byte1())
	h.Fingerprint = model.Fingerprint(d.u64())
	h.From = d.varint()
	h.Through = d.varint()
	h.Entries = d.uvarint32()
	h.Tenant = string(d.bytes(int(d.uvarint32())))
	nl := d.uvarint()
	if nl > uint64(len(d.b)) {
		return Header{}, fmt.Errorf("header label count: %w", ErrCorrupt)
	}
	var sb labels.ScratchBuilder
	for range nl {
		name := d.bytes(int(d.uvarint32()))
		value := d.bytes(int(d.uvarint32()))
		sb.Add(string(name), string(value))
	}
	if d.err != nil || len(d.b) != 0 {
		return Header{}, fmt.Errorf("header body: %w", ErrCorrupt)
	}
	h.Labels = sb.Labels()
	if !h.Codec.Valid() {
		return Header{}, fmt.Errorf("header codec %d: %w", uint8(h.Codec), ErrUnknownCodec)
	}
	return h, nil
}

// readIndex decodes the block index; blocks must lie in [lo, hi).
func readIndex(b []byte, lo, hi uint32) ([]BlockMeta, error) {
	d := decbuf{b: b}
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.b)) {
		return nil, fmt.Errorf("block count: %w", ErrCorrupt)
	}
	metas := make([]BlockMeta, n)
	next := lo
	rest := d.b
	for i := range metas {
		m, r, err := ReadBlockMeta(rest)
		if err != nil {
			return nil, fmt.Errorf("block %d: %w", i, err)
		}
		rest = r
		if m.Offset != next || uint64(m.Offset)+uint64(m.Length) > uint64(hi) || m.Entries == 0 {
			return nil, fmt.Errorf("block %d at %d+%d: %w", i, m.Offset, m.Length, ErrCorrupt)
		}
		next = m.Offset + m.Length
		metas[i] = m
	}
	if len(rest) != 0 || next != hi {
		return nil, fmt.Errorf("block index: %w", ErrCorrupt)
	}
	return metas, nil
}

// checkHeader checks the header against the block index.
func (c *Chunk) checkHeader() error {
	var entries uint64
	for i, m := range c.blocks {
		entries += uint64(m.Entries)
		if m.MinTime < c.header.From || m.MaxTime > c.header.Through ||
			(i > 0 && compareMetaOrder(&c.blocks[i-1], &c.blocks[i]) > 0) {
			return fmt.Errorf("block %d range [%d, %d] vs header: %w", i, m.MinTime, m.MaxTime, ErrCorrupt)
		}
	}
	if entries != uint64(c.header.Entries) {
		return fmt.Errorf("header says %d entries, blocks %d: %w", c.header.Entries, entries, ErrCorrupt)
	}
	return nil
}

func compareMetaOrder(a, b *BlockMeta) int {
	if a.MinTime != b.MinTime {
		return cmpInt(a.MinTime, b.MinTime)
	}
	return cmpInt(a.MaxTime, b.MaxTime)
}

// Header returns the chunk header. Labels are shared; do not modify.
func (c *Chunk) Header() Header { return c.header }

// Blocks returns the block index, ordered by (MinTime, MaxTime). Offsets are
// relative to the start of the chunk. The slice is shared: do not modify.
func (c *Chunk) Blocks() []BlockMeta { return c.blocks }

// BlockData returns the encoded bytes of block i (Blocks()[i]), aliasing
// the chunk's data; BlockScanner.Load and BlockEntries read them.
func (c *Chunk) BlockData(i int) []byte {
	m := &c.blocks[i]
	return c.data[m.Offset : m.Offset+m.Length]
}

// Entries iterates entries with from <= ts < through in direction dir,
// merging blocks that overlap in time and dropping identical adjacent
// (timestamp, line) entries. Blocks outside the range or ruled out by
// o.Needles are skipped without reading them. Returned Line slices are
// valid until the next Next.
func (c *Chunk) Entries(from, through int64, dir model.Direction, o ReadOptions) iter.Iterator[model.Entry] {
	if from >= through {
		return iter.Empty[model.Entry]()
	}
	return newChunkIter(c, from, through, dir, o)
}
