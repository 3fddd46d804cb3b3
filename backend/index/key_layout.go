package index

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/lode-logs/lode/backend/model"
)

// Key layout (see FORMAT.md). Every index key starts with keyNamespace, then
// the tenant as an escaped string, then the period, then a kind byte.
const (
	keyNamespace byte = 'i'

	kindChunk    byte = 'C' // period | 'C' | fp | from | object key  → chunkValue
	kindPostings byte = 'P' // period | 'P' | name | value | fp        → empty
	kindStream   byte = 'S' // period | 'S' | fp                      → labels
)

// PeriodNanos is the length of an index period: one Unix epoch day.
const PeriodNanos int64 = 24 * 60 * 60 * 1e9

// Period numbers a 24h period: the Unix epoch day (floored) holding a
// timestamp. Negative timestamps give negative periods.
type Period int32

// PeriodOf returns the period holding ts (Unix ns).
func PeriodOf(ts int64) Period {
	d := ts / PeriodNanos
	if ts%PeriodNanos < 0 {
		d--
	}
	return Period(d)
}

// Start returns the first nanosecond of p.
func (p Period) Start() int64 { return int64(p) * PeriodNanos }

const (
	escByte  byte = 0x00 // escape and terminator lead byte
	escZero  byte = 0x01 // 0x00 0x01 encodes a 0x00 byte
	escEnd   byte = 0x00 // 0x00 0x00 ends a string
	sign64        = uint64(1) << 63
	sign32        = uint32(1) << 31
	fpLen         = 8
	periodLn      = 4
)

// appendString appends s escaped and terminated: every 0x00 byte becomes
// 0x00 0x01 and the string ends with 0x00 0x00. The encoding keeps byte
// order and no encoded string is a prefix of another.
func appendString(dst []byte, s string) []byte {
	for {
		i := indexZero(s)
		if i < 0 {
			dst = append(dst, s...)
			break
		}
		dst = append(dst, s[:i]...)
		dst = append(dst, escByte, escZero)
		s = s[i+1:]
	}
	return append(dst, escByte, escEnd)
}

func indexZero(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return i
		}
	}
	return -1
}

// appendStringPrefix appends the escaped bytes of s without terminator:
// a prefix of the encoding of every string starting with s.
func appendStringPrefix(dst []byte, s string) []byte {
	dst = appendString(dst, s)
	return dst[:len(dst)-2]
}

// splitString returns the length of the escaped string at the start of b
// (terminator included) and whether it contains escaped 0x00 bytes.
func splitString(b []byte) (n int, escaped bool, err error) {
	for i := 0; i+1 < len(b); i++ {
		if b[i] != escByte {
			continue
		}
		switch b[i+1] {
		case escEnd:
			return i + 2, escaped, nil
		case escZero:
			escaped = true
			i++
		default:
			return 0, false, fmt.Errorf("bad escape 0x%02x: %w", b[i+1], ErrCorrupt)
		}
	}
	return 0, false, fmt.Errorf("unterminated string: %w", ErrCorrupt)
}

// decodeString decodes the escaped string at the start of b and returns it
// with the rest of b.
func decodeString(b []byte) (string, []byte, error) {
	n, escaped, err := splitString(b)
	if err != nil {
		return "", nil, err
	}
	raw := b[:n-2]
	if !escaped {
		return string(raw), b[n:], nil
	}
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		out = append(out, raw[i])
		if raw[i] == escByte {
			i++ // skip escZero
		}
	}
	return string(out), b[n:], nil
}

func appendPeriod(dst []byte, p Period) []byte {
	return binary.BigEndian.AppendUint32(dst, uint32(p)^sign32)
}

func decodePeriod(b []byte) Period {
	return Period(int32(binary.BigEndian.Uint32(b) ^ sign32))
}

func appendTime(dst []byte, ts int64) []byte {
	return binary.BigEndian.AppendUint64(dst, uint64(ts)^sign64)
}

func decodeTime(b []byte) int64 { return int64(binary.BigEndian.Uint64(b) ^ sign64) }

func appendFingerprint(dst []byte, fp model.Fingerprint) []byte {
	return binary.BigEndian.AppendUint64(dst, uint64(fp))
}

func decodeFingerprint(b []byte) model.Fingerprint {
	return model.Fingerprint(binary.BigEndian.Uint64(b))
}

// tenantPrefix appends 'i' | tenant.
func tenantPrefix(dst []byte, tenant string) []byte {
	return appendString(append(dst, keyNamespace), tenant)
}

// kindPrefix appends 'i' | tenant | period | kind.
func kindPrefix(dst []byte, tenant string, p Period, kind byte) []byte {
	return append(appendPeriod(tenantPrefix(dst, tenant), p), kind)
}

func streamKey(dst []byte, tenant string, p Period, fp model.Fingerprint) []byte {
	return appendFingerprint(kindPrefix(dst, tenant, p, kindStream), fp)
}

func postingKey(dst []byte, tenant string, p Period, name, value string, fp model.Fingerprint) []byte {
	dst = appendString(kindPrefix(dst, tenant, p, kindPostings), name)
	return appendFingerprint(appendString(dst, value), fp)
}

func chunkKeyPrefix(dst []byte, tenant string, p Period, fp model.Fingerprint) []byte {
	return appendFingerprint(kindPrefix(dst, tenant, p, kindChunk), fp)
}

func chunkKey(dst []byte, p Period, r *ChunkRef) []byte {
	dst = appendTime(chunkKeyPrefix(dst, r.Tenant, p, r.Fingerprint), r.From)
	return append(dst, r.Key...)
}

// chunkValue: through (8, sign-flipped BE) | size (4 BE) | entries (4 BE).
const chunkValueLen = 16

func appendChunkValue(dst []byte, r *ChunkRef) []byte {
	dst = appendTime(dst, r.Through)
	dst = binary.BigEndian.AppendUint32(dst, r.Size)
	return binary.BigEndian.AppendUint32(dst, r.Entries)
}

// decodeChunk decodes a chunk key (after its fingerprint prefix, i.e. rest
// = from | object key) and value into r.
func decodeChunk(rest, value []byte, r *ChunkRef) error {
	if len(rest) < 8 || len(value) != chunkValueLen {
		return fmt.Errorf("chunk record (%d key bytes, %d value bytes): %w", len(rest), len(value), ErrCorrupt)
	}
	r.From = decodeTime(rest)
	r.Key = string(rest[8:])
	r.Through = decodeTime(value)
	r.Size = binary.BigEndian.Uint32(value[8:])
	r.Entries = binary.BigEndian.Uint32(value[12:])
	return nil
}

// prefixSuccessor returns the smallest key greater than every key starting
// with prefix, or nil if there is none (prefix is all 0xff).
func prefixSuccessor(prefix []byte) []byte {
	out := bytes.Clone(prefix)
	for i := len(out) - 1; i >= 0; i-- {
		if out[i] != 0xff {
			out[i]++
			return out[:i+1]
		}
	}
	return nil
}
