package ingester

import (
	"encoding/binary"
	"fmt"
)

// Cut reasons, stored in cut records (FORMAT.md) and used as metric labels.
const (
	cutSize   byte = 1
	cutAge    byte = 2
	cutIdle   byte = 3
	cutForced byte = 4
	cutReplay byte = 5
)

func cutReasonName(r byte) string {
	switch r {
	case cutSize:
		return "size"
	case cutAge:
		return "age"
	case cutIdle:
		return "idle"
	case cutForced:
		return "forced"
	case cutReplay:
		return "replay"
	}
	return "unknown"
}

// appendBlockMetaRecord encodes a block meta record: version, the chunk's
// window start, then chunk.AppendBlockMeta's bytes (passed as meta).
func appendBlockMetaRecord(dst []byte, windowStart int64, meta []byte) []byte {
	dst = append(dst, recordVersion)
	dst = binary.AppendVarint(dst, windowStart)
	return append(dst, meta...)
}

// readBlockMetaRecord returns the window start and the chunk block meta
// bytes of a block meta record.
func readBlockMetaRecord(b []byte) (int64, []byte, error) {
	d := decoder{b: b}
	if v := d.byte1(); v != recordVersion && d.err == nil {
		return 0, nil, fmt.Errorf("block meta record version %d: %w", v, ErrCorrupt)
	}
	w := d.varint()
	if d.err != nil {
		return 0, nil, fmt.Errorf("block meta record: %w", ErrCorrupt)
	}
	return w, d.b, nil
}

// appendCutRecord encodes a cut record.
func appendCutRecord(dst []byte, blocks int, reason byte) []byte {
	dst = append(dst, recordVersion)
	dst = binary.AppendUvarint(dst, uint64(blocks))
	return append(dst, reason)
}

// readCutRecord decodes a cut record.
func readCutRecord(b []byte) (blocks int, reason byte, err error) {
	d := decoder{b: b}
	if v := d.byte1(); v != recordVersion && d.err == nil {
		return 0, 0, fmt.Errorf("cut record version %d: %w", v, ErrCorrupt)
	}
	n := d.uvarint()
	reason = d.byte1()
	if d.err != nil || len(d.b) != 0 || n > 1<<31 {
		return 0, 0, fmt.Errorf("cut record: %w", ErrCorrupt)
	}
	return int(n), reason, nil
}

// appendBlockDataRecord encodes a block data record: version, the block's
// token filter, then the encoded block.
func appendBlockDataRecord(dst, filter, block []byte) []byte {
	dst = append(dst, recordVersion)
	dst = binary.AppendUvarint(dst, uint64(len(filter)))
	dst = append(dst, filter...)
	return append(dst, block...)
}

// readBlockDataRecord splits a block data record into the token filter and
// the encoded block, both aliasing b.
func readBlockDataRecord(b []byte) (filter, block []byte, err error) {
	d := decoder{b: b}
	if v := d.byte1(); v != recordVersion && d.err == nil {
		return nil, nil, fmt.Errorf("block data record version %d: %w", v, ErrCorrupt)
	}
	filter = d.bytes(d.uvarint())
	if d.err != nil {
		return nil, nil, fmt.Errorf("block data record: %w", ErrCorrupt)
	}
	if len(filter) == 0 {
		filter = nil
	}
	return filter, d.b, nil
}
