package chunk

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"math"
	"slices"

	"github.com/lode-logs/lode/backend/model"
	"github.com/prometheus/prometheus/model/labels"
)

const (
	magic      = "LODC"
	version1   = 1
	footerSize = 24
	// minChunkSize is the smallest possible chunk: magic, version, a
	// one-byte body length, the shortest body, its CRC, an empty index and
	// the footer.
	minChunkSize = 4 + 1 + 1 + 1 + 8 + 3 + 2 + 4 + 1 + footerSize
)

// Header describes a chunk: whose entries it holds and what range.
type Header struct {
	Tenant        string
	Labels        labels.Labels
	Fingerprint   model.Fingerprint
	Codec         Codec
	From, Through int64 // min and max entry timestamp (inclusive), Unix ns
	Entries       uint32
}

// EncodedBlock is a block as BlockBuilder.Encode returns it.
type EncodedBlock struct {
	Meta BlockMeta
	Data []byte
}

// Encode assembles a chunk object (header, blocks, block index, footer with
// checksums) from blocks and appends it to dst. Blocks may overlap in time
// and come in any order: they are stored ordered by (MinTime, MaxTime,
// Entries, bytes), and blocks without entries are left out, so the result
// depends only on the header and the set of blocks. From, Through and
// Entries of h are ignored and derived from the blocks; a zero Fingerprint
// is computed from Tenant and Labels.
func Encode(dst []byte, h Header, blocks []EncodedBlock) ([]byte, error) {
	if !h.Codec.Valid() {
		return dst, fmt.Errorf("encode chunk: codec %d: %w", uint8(h.Codec), ErrUnknownCodec)
	}
	bs := make([]EncodedBlock, 0, len(blocks))
	for _, b := range blocks {
		if err := b.Meta.validate(); err != nil {
			return dst, fmt.Errorf("encode chunk: block: %w", err)
		}
		if uint64(len(b.Data)) != uint64(b.Meta.Length) {
			return dst, fmt.Errorf("encode chunk: block data %d bytes, meta says %d: %w", len(b.Data), b.Meta.Length, ErrCorrupt)
		}
		if b.Meta.Entries > 0 {
			bs = append(bs, b)
		}
	}
	slices.SortFunc(bs, compareBlocks)
	h.From, h.Through, h.Entries = 0, 0, 0
	var entries uint64
	for i, b := range bs {
		if i == 0 || b.Meta.MinTime < h.From {
			h.From = b.Meta.MinTime
		}
		if i == 0 || b.Meta.MaxTime > h.Through {
			h.Through = b.Meta.MaxTime
		}
		entries += uint64(b.Meta.Entries)
	}
	if entries > math.MaxUint32 {
		return dst, fmt.Errorf("encode chunk: %d entries is too many", entries)
	}
	h.Entries = uint32(entries)
	if h.Fingerprint == 0 {
		h.Fingerprint = model.StreamFingerprint(h.Tenant, h.Labels)
	}

	start := len(dst)
	dst = appendHeader(dst, &h)
	hdrLen := len(dst) - start
	metas := make([]BlockMeta, len(bs))
	for i, b := range bs {
		metas[i] = b.Meta
		off := len(dst) - start
		if uint64(off)+uint64(len(b.Data)) > math.MaxUint32 {
			return dst[:start], fmt.Errorf("encode chunk: larger than 4 GiB")
		}
		metas[i].Offset = uint32(off)
		dst = append(dst, b.Data...)
	}
	idxOff := len(dst) - start
	dst = binary.AppendUvarint(dst, uint64(len(metas)))
	for _, m := range metas {
		dst = AppendBlockMeta(dst, m)
	}
	idx := dst[start+idxOff:]
	if uint64(len(dst)-start)+footerSize > math.MaxUint32 {
		return dst[:start], fmt.Errorf("encode chunk: larger than 4 GiB")
	}
	f := len(dst)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(hdrLen))
	dst = binary.LittleEndian.AppendUint32(dst, uint32(idxOff))
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(idx)))
	dst = binary.LittleEndian.AppendUint32(dst, crc32.Checksum(idx, castagnoli))
	dst = binary.LittleEndian.AppendUint32(dst, crc32.Checksum(dst[f:f+16], castagnoli))
	return append(dst, magic...), nil
}

func compareBlocks(a, b EncodedBlock) int {
	switch {
	case a.Meta.MinTime != b.Meta.MinTime:
		return cmpInt(a.Meta.MinTime, b.Meta.MinTime)
	case a.Meta.MaxTime != b.Meta.MaxTime:
		return cmpInt(a.Meta.MaxTime, b.Meta.MaxTime)
	case a.Meta.Entries != b.Meta.Entries:
		return cmpInt(a.Meta.Entries, b.Meta.Entries)
	}
	if c := bytes.Compare(a.Data, b.Data); c != 0 {
		return c
	}
	return bytes.Compare(AppendBlockMeta(nil, a.Meta), AppendBlockMeta(nil, b.Meta))
}

func cmpInt[T int64 | uint32](a, b T) int {
	if a < b {
		return -1
	}
	if a > b {
		return 1
	}
	return 0
}

// appendHeader appends magic, version and the checksummed header body.
func appendHeader(dst []byte, h *Header) []byte {
	var body []byte
	body = append(body, byte(h.Codec))
	body = binary.LittleEndian.AppendUint64(body, uint64(h.Fingerprint))
	body = binary.AppendVarint(body, h.From)
	body = binary.AppendVarint(body, h.Through)
	body = binary.AppendUvarint(body, uint64(h.Entries))
	body = binary.AppendUvarint(body, uint64(len(h.Tenant)))
	body = append(body, h.Tenant...)
	body = binary.AppendUvarint(body, uint64(h.Labels.Len()))
	h.Labels.Range(func(l labels.Label) {
		body = binary.AppendUvarint(body, uint64(len(l.Name)))
		body = append(body, l.Name...)
		body = binary.AppendUvarint(body, uint64(len(l.Value)))
		body = append(body, l.Value...)
	})
	dst = append(dst, magic...)
	dst = append(dst, version1)
	dst = binary.AppendUvarint(dst, uint64(len(body)))
	dst = append(dst, body...)
	return binary.LittleEndian.AppendUint32(dst, crc32.Checksum(body, castagnoli))
}

// ObjectKey is the content-addressed object key of an encoded chunk:
// "<tenant>/chunks/<fingerprint %016x>/<hash of data>", the hash being the
// first 128 bits of SHA-256 in hex.
func ObjectKey(tenant string, fp model.Fingerprint, data []byte) string {
	sum := sha256.Sum256(data)
	return fmt.Sprintf("%s/chunks/%016x/%s", tenant, uint64(fp), hex.EncodeToString(sum[:16]))
}
