package ingester

import (
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/klauspost/compress/s2"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/model"
)

// WAL record bodies are stored s2-compressed (version walVersionS2) when
// that saves at least an eighth of their size; otherwise, and for bodies
// under minCompressedBody or over maxCompressedBody bytes, as they are
// (recordVersion). s2's default block encoder was measured against its
// Snappy-compatible and "better" encoders on the bodies loggen's corpus
// gives (BenchmarkWALCompression, pushes of 1 MiB over 20 and over 200
// streams, two runs): compressed/raw 0.285 and 0.380 for s2 at 650-800 MB
// per CPU-second, 0.287 and 0.381 for Snappy at 615-840, 0.269 and 0.367
// for better at 220-390 (better also allocates its match tables on every
// call). s2 and Snappy cost the same; s2 is a little smaller. Decoding, on
// replay only, runs at 1.4-1.8 GB per CPU-second.
const (
	minCompressedBody = 64
	// maxCompressedBody bounds what replay allocates for one compressed
	// body: a record body is at most maxRecordBytes plus one entry, so
	// only a push with a line of several MiB makes a larger body, which is
	// stored uncompressed.
	maxCompressedBody = 4 * maxRecordBytes
)

// appendWALValue appends the stored form of a WAL record whose body (WAL
// entries) is body: a version byte, then the body as it is or as one s2
// block (FORMAT.md, WAL record).
func appendWALValue(dst, body []byte) []byte {
	if n := len(body); n >= minCompressedBody && n <= maxCompressedBody {
		start := len(dst)
		dst = append(dst, walVersionS2)
		dst = slices.Grow(dst, s2.MaxEncodedLen(n))
		z := s2.Encode(dst[len(dst):], body)
		if len(z) <= n-n/8 {
			return dst[:len(dst)+len(z)]
		}
		dst = dst[:start]
	}
	dst = append(dst, recordVersion)
	return append(dst, body...)
}

// readWALValue returns the body of a stored WAL record, decompressing it
// into buf (grown if needed) when it is compressed; otherwise body aliases
// val. The body's entries are not checked. Errors wrap ErrCorrupt.
func readWALValue(val, buf []byte) (body, newBuf []byte, err error) {
	if len(val) == 0 {
		return nil, buf, fmt.Errorf("empty WAL record: %w", ErrCorrupt)
	}
	switch val[0] {
	case recordVersion:
		return val[1:], buf, nil
	case walVersionS2:
		n, err := s2.DecodedLen(val[1:])
		if err != nil || n > maxCompressedBody {
			return nil, buf, fmt.Errorf("compressed WAL record: length: %w", ErrCorrupt)
		}
		if cap(buf) < n {
			buf = make([]byte, n)
		}
		body, err := s2.Decode(buf[:n], val[1:])
		if err != nil {
			return nil, buf, fmt.Errorf("compressed WAL record: %w: %w", ErrCorrupt, err)
		}
		return body, buf, nil
	}
	return nil, buf, fmt.Errorf("WAL record version %d: %w", val[0], ErrCorrupt)
}

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

// entryReader decodes a sequence of WAL entries (a record body or a page
// of a head). It never allocates.
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

// checkEntries reports whether body is a well-formed sequence of WAL
// entries; the error wraps ErrCorrupt.
func checkEntries(body []byte) error {
	r := entryReader{b: body}
	var e walEntry
	for r.next(&e) {
	}
	return r.err
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
