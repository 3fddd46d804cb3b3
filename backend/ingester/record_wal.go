package ingester

import (
	"encoding/binary"
	"fmt"

	"github.com/lode-logs/lode/backend/model"
	"github.com/prometheus/prometheus/model/labels"
)

// appendEntry appends e in the WAL entry encoding (FORMAT.md, WAL record).
func appendEntry(dst []byte, e *model.Entry) []byte {
	dst = binary.AppendVarint(dst, e.Timestamp)
	dst = binary.AppendUvarint(dst, uint64(len(e.Line)))
	dst = append(dst, e.Line...)
	if e.Metadata.IsEmpty() {
		return append(dst, 0)
	}
	dst = binary.AppendUvarint(dst, uint64(e.Metadata.Len()))
	e.Metadata.Range(func(l labels.Label) {
		dst = binary.AppendUvarint(dst, uint64(len(l.Name)))
		dst = append(dst, l.Name...)
		dst = binary.AppendUvarint(dst, uint64(len(l.Value)))
		dst = append(dst, l.Value...)
	})
	return dst
}

// walEntry is one decoded entry; Line and md alias the decoded buffer.
type walEntry struct {
	ts   int64
	line []byte
	md   []byte // metadata: pair count uvarint, then the pairs
}

// entryReader decodes a sequence of WAL entries (a record body or a head
// arena). It never allocates.
type entryReader struct {
	b   []byte
	off int // offset of the next entry
	err error
}

// next decodes the next entry into e and reports whether there was one.
// On malformed input it sets r.err (wrapping ErrCorrupt) and returns false.
func (r *entryReader) next(e *walEntry) bool {
	if r.err != nil || r.off >= len(r.b) {
		return false
	}
	b := r.b[r.off:]
	ts, n := binary.Varint(b)
	if n <= 0 {
		return r.fail()
	}
	b = b[n:]
	l, n := binary.Uvarint(b)
	if n <= 0 || l > uint64(len(b)-n) {
		return r.fail()
	}
	line := b[n : n+int(l) : n+int(l)]
	b = b[n+int(l):]
	mdStart := b
	pairs, n := binary.Uvarint(b)
	if n <= 0 || pairs > uint64(len(b)) {
		return r.fail()
	}
	b = b[n:]
	for i := uint64(0); i < 2*pairs; i++ {
		l, n := binary.Uvarint(b)
		if n <= 0 || l > uint64(len(b)-n) {
			return r.fail()
		}
		b = b[n+int(l):]
	}
	e.ts, e.line = ts, line
	e.md = mdStart[:len(mdStart)-len(b)]
	r.off = len(r.b) - len(b)
	return true
}

func (r *entryReader) fail() bool {
	r.err = fmt.Errorf("WAL entry at offset %d: %w", r.off, ErrCorrupt)
	return false
}

// metadataLabels decodes a WAL metadata field into labels, reusing sb.
func metadataLabels(md []byte, sb *labels.ScratchBuilder) labels.Labels {
	if len(md) == 0 || md[0] == 0 {
		return labels.EmptyLabels()
	}
	pairs, n := binary.Uvarint(md)
	b := md[n:]
	sb.Reset()
	for i := uint64(0); i < pairs; i++ {
		name, rest := readString(b)
		value, rest := readString(rest)
		b = rest
		sb.Add(name, value)
	}
	sb.Sort()
	return sb.Labels()
}

// readString reads a uvarint-length-prefixed string from b, which the
// caller has validated (entryReader.next checked every length).
func readString(b []byte) (string, []byte) {
	l, n := binary.Uvarint(b)
	return string(b[n : n+int(l)]), b[n+int(l):]
}
