package rpc

import (
	"encoding/binary"
	"fmt"

	"github.com/prometheus/prometheus/model/labels"
)

// wireVersion is the version byte every message of FORMAT.md starts with.
const wireVersion = 1

// Smallest encodings, used to bound counts read from the wire before
// allocating for them.
const (
	minLabelPairSize   = 2  // two empty bytes
	minPushStreamSize  = 10 // empty labels, fingerprint, zero entries
	minEntrySize       = 3  // ts delta, empty line, empty metadata
	minBatchStreamSize = 9  // fingerprint, empty labels
	minMatcherSize     = 3  // type, empty name, empty value
)

func appendBytes(dst, b []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(b)))
	return append(dst, b...)
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func appendFixed64(dst []byte, v uint64) []byte {
	return binary.LittleEndian.AppendUint64(dst, v)
}

func appendLabels(dst []byte, ls labels.Labels) []byte {
	if ls.IsEmpty() {
		return append(dst, 0)
	}
	dst = binary.AppendUvarint(dst, uint64(ls.Len()))
	ls.Range(func(l labels.Label) {
		dst = appendString(dst, l.Name)
		dst = appendString(dst, l.Value)
	})
	return dst
}

// labelsSizeHint estimates the encoded size of ls (exact with the default
// string labels; close otherwise).
func labelsSizeHint(ls labels.Labels) int {
	if ls.IsEmpty() {
		return 1
	}
	return 2 + int(ls.ByteSize())
}

func appendMatchers(dst []byte, ms []*labels.Matcher) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(ms)))
	for _, m := range ms {
		dst = append(dst, matchTypeToWire(m.Type))
		dst = appendString(dst, m.Name)
		dst = appendString(dst, m.Value)
	}
	return dst
}

// matchTypeToWire and matchTypeFromWire map matcher types to their wire
// values (FORMAT.md), independently of labels.MatchType's values.
func matchTypeToWire(t labels.MatchType) byte {
	switch t {
	case labels.MatchEqual:
		return 0
	case labels.MatchNotEqual:
		return 1
	case labels.MatchRegexp:
		return 2
	case labels.MatchNotRegexp:
		return 3
	}
	panic(fmt.Sprintf("BUG: unknown matcher type %d", t))
}

func matchTypeFromWire(b byte) (labels.MatchType, bool) {
	switch b {
	case 0:
		return labels.MatchEqual, true
	case 1:
		return labels.MatchNotEqual, true
	case 2:
		return labels.MatchRegexp, true
	case 3:
		return labels.MatchNotRegexp, true
	}
	return 0, false
}

// decoder reads the primitives of FORMAT.md from b. The first failure is
// sticky: later reads return zero values, and err tells what went wrong.
type decoder struct {
	b   []byte
	off int
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s at byte %d", ErrMalformed, what, d.off)
	}
}

func (d *decoder) remaining() int { return len(d.b) - d.off }

func (d *decoder) u8() byte {
	if d.err != nil || d.off >= len(d.b) {
		d.fail("truncated")
		return 0
	}
	v := d.b[d.off]
	d.off++
	return v
}

func (d *decoder) u32() uint32 {
	if d.err != nil || d.remaining() < 4 {
		d.fail("truncated")
		return 0
	}
	v := binary.LittleEndian.Uint32(d.b[d.off:])
	d.off += 4
	return v
}

func (d *decoder) fixed64() uint64 {
	if d.err != nil || d.remaining() < 8 {
		d.fail("truncated")
		return 0
	}
	v := binary.LittleEndian.Uint64(d.b[d.off:])
	d.off += 8
	return v
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		d.fail("bad uvarint")
		return 0
	}
	d.off += n
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b[d.off:])
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.off += n
	return v
}

// count reads a count of items each at least minSize bytes long and checks
// that they can fit in what is left, so that garbage cannot make the
// caller allocate much.
func (d *decoder) count(minSize int) int {
	v := d.uvarint()
	if d.err == nil && v > uint64(d.remaining()/minSize) {
		d.fail("count exceeds message")
		return 0
	}
	return int(v)
}

// version reads and checks the version byte.
func (d *decoder) version(msg string) {
	if v := d.u8(); d.err == nil && v != wireVersion {
		d.fail(fmt.Sprintf("%s: unknown version %d", msg, v))
	}
}

// bytes returns the next length-prefixed bytes as a slice of d.b (capacity
// capped, so appending to it cannot overwrite what follows).
func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(d.remaining()) {
		d.fail("truncated bytes")
		return nil
	}
	end := d.off + int(n)
	b := d.b[d.off:end:end]
	d.off = end
	return b
}

// str returns the next length-prefixed bytes as a new string.
func (d *decoder) str() string { return string(d.bytes()) }

// labels decodes a label set into fresh memory (it never aliases d.b).
func (d *decoder) labels(sb *labels.ScratchBuilder) labels.Labels {
	n := d.count(minLabelPairSize)
	if n == 0 || d.err != nil {
		return labels.EmptyLabels()
	}
	sb.Reset()
	for range n {
		name, value := d.bytes(), d.bytes()
		addLabel(sb, name, value)
	}
	if d.err != nil {
		return labels.EmptyLabels()
	}
	return sb.Labels()
}

func (d *decoder) matchers() []*labels.Matcher {
	n := d.count(minMatcherSize)
	if n == 0 || d.err != nil {
		return nil
	}
	ms := make([]*labels.Matcher, 0, n)
	for range n {
		t, name, value := d.u8(), d.str(), d.str()
		if d.err != nil {
			return nil
		}
		mt, ok := matchTypeFromWire(t)
		if !ok {
			d.fail(fmt.Sprintf("unknown matcher type %d", t))
			return nil
		}
		m, err := labels.NewMatcher(mt, name, value)
		if err != nil {
			d.err = fmt.Errorf("%w: matcher %s: %w", ErrMalformed, name, err)
			return nil
		}
		ms = append(ms, m)
	}
	return ms
}

// end checks that the message was read to its last byte.
func (d *decoder) end() error {
	if d.err == nil && d.off != len(d.b) {
		d.fail("trailing bytes")
	}
	return d.err
}
