package push

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"unsafe"
)

// Protobuf field numbers of Loki's push.proto (and google.protobuf.Timestamp).
const (
	fieldRequestStreams = 1 // PushRequest.streams (StreamAdapter)

	fieldStreamLabels  = 1 // StreamAdapter.labels (string)
	fieldStreamEntries = 2 // StreamAdapter.entries (EntryAdapter)
	// StreamAdapter.hash=3 (uint64) is skipped like any unknown field.

	fieldEntryTimestamp = 1 // EntryAdapter.timestamp (Timestamp)
	fieldEntryLine      = 2 // EntryAdapter.line (string)
	fieldEntryMetadata  = 3 // EntryAdapter.structuredMetadata (LabelPairAdapter)

	fieldTimestampSeconds = 1
	fieldTimestampNanos   = 2

	fieldPairName  = 1
	fieldPairValue = 2
)

// Protobuf wire types.
const (
	wireVarint  = 0
	wireFixed64 = 1
	wireBytes   = 2
	wireStart   = 3 // deprecated groups
	wireEnd     = 4
	wireFixed32 = 5
)

var (
	errTruncated    = errors.New("truncated input")
	errVarint       = errors.New("invalid varint")
	errFieldNumber  = errors.New("invalid field number")
	errGroup        = errors.New("unsupported group wire type")
	errWireType     = errors.New("invalid wire type")
	errLengthPrefix = errors.New("length prefix exceeds the input")
)

// Unmarshal decodes a protobuf PushRequest from b into r, replacing what r
// held (its slices are reused). It does not copy: labels, lines and metadata
// point into b, which must stay unchanged while r is used. Unknown fields
// (Loki's stream hash=3, entry parsed=4, request format=2, ...) are skipped.
// A timestamp outside the int64 nanosecond range saturates to the nearest
// bound, so that validation rejects it as too old or too new.
func (r *Request) Unmarshal(b []byte) error {
	r.Streams = r.Streams[:0]
	for len(b) > 0 {
		num, typ, n, err := readKey(b)
		if err != nil {
			return malformed("protobuf", err)
		}
		b = b[n:]
		if num != fieldRequestStreams {
			if n, err = skipField(b, typ); err != nil {
				return malformed("protobuf", fmt.Errorf("field %d: %w", num, err))
			}
			b = b[n:]
			continue
		}
		v, n, err := readBytesField(b, typ)
		if err != nil {
			return malformed("protobuf", fmt.Errorf("stream %d: %w", len(r.Streams), err))
		}
		b = b[n:]
		s := r.nextStream()
		if err := s.unmarshal(v); err != nil {
			return malformed("protobuf", fmt.Errorf("stream %d: %w", len(r.Streams)-1, err))
		}
	}
	return nil
}

// nextStream appends a stream to r, reusing the Entries of a stream left in
// the backing array by an earlier decode.
func (r *Request) nextStream() *Stream {
	if len(r.Streams) < cap(r.Streams) {
		r.Streams = r.Streams[:len(r.Streams)+1]
	} else {
		r.Streams = append(r.Streams, Stream{})
	}
	s := &r.Streams[len(r.Streams)-1]
	s.Labels = ""
	s.Entries = s.Entries[:0]
	return s
}

func (s *Stream) nextEntry() *Entry {
	if len(s.Entries) < cap(s.Entries) {
		s.Entries = s.Entries[:len(s.Entries)+1]
	} else {
		s.Entries = append(s.Entries, Entry{})
	}
	e := &s.Entries[len(s.Entries)-1]
	e.Timestamp = 0
	e.Line = nil
	e.Metadata = e.Metadata[:0]
	return e
}

func (s *Stream) unmarshal(b []byte) error {
	for len(b) > 0 {
		num, typ, n, err := readKey(b)
		if err != nil {
			return err
		}
		b = b[n:]
		switch num {
		case fieldStreamLabels:
			v, n, err := readBytesField(b, typ)
			if err != nil {
				return fmt.Errorf("labels: %w", err)
			}
			b = b[n:]
			s.Labels = aliasString(v)
		case fieldStreamEntries:
			v, n, err := readBytesField(b, typ)
			if err != nil {
				return fmt.Errorf("entry %d: %w", len(s.Entries), err)
			}
			b = b[n:]
			if err := s.nextEntry().unmarshal(v); err != nil {
				return fmt.Errorf("entry %d: %w", len(s.Entries)-1, err)
			}
		default:
			if n, err = skipField(b, typ); err != nil {
				return fmt.Errorf("field %d: %w", num, err)
			}
			b = b[n:]
		}
	}
	return nil
}

func (e *Entry) unmarshal(b []byte) error {
	for len(b) > 0 {
		num, typ, n, err := readKey(b)
		if err != nil {
			return err
		}
		b = b[n:]
		switch num {
		case fieldEntryTimestamp:
			v, n, err := readBytesField(b, typ)
			if err != nil {
				return fmt.Errorf("timestamp: %w", err)
			}
			b = b[n:]
			if e.Timestamp, err = unmarshalTimestamp(v, e.Timestamp); err != nil {
				return fmt.Errorf("timestamp: %w", err)
			}
		case fieldEntryLine:
			v, n, err := readBytesField(b, typ)
			if err != nil {
				return fmt.Errorf("line: %w", err)
			}
			b = b[n:]
			e.Line = v[:len(v):len(v)]
		case fieldEntryMetadata:
			v, n, err := readBytesField(b, typ)
			if err != nil {
				return fmt.Errorf("structured metadata %d: %w", len(e.Metadata), err)
			}
			b = b[n:]
			p, err := unmarshalPair(v)
			if err != nil {
				return fmt.Errorf("structured metadata %d: %w", len(e.Metadata), err)
			}
			e.Metadata = append(e.Metadata, p)
		default:
			if n, err = skipField(b, typ); err != nil {
				return fmt.Errorf("field %d: %w", num, err)
			}
			b = b[n:]
		}
	}
	return nil
}

// unmarshalTimestamp decodes a google.protobuf.Timestamp. A repeated
// timestamp field merges into the previous one (prev), as protobuf does.
func unmarshalTimestamp(b []byte, prev int64) (int64, error) {
	sec, nsec := floorDiv(prev, 1e9)
	for len(b) > 0 {
		num, typ, n, err := readKey(b)
		if err != nil {
			return 0, err
		}
		b = b[n:]
		if (num == fieldTimestampSeconds || num == fieldTimestampNanos) && typ == wireVarint {
			v, n := readVarint(b)
			if n <= 0 {
				return 0, errVarint
			}
			b = b[n:]
			if num == fieldTimestampSeconds {
				sec = int64(v)
			} else {
				nsec = int64(int32(v))
			}
			continue
		}
		if n, err = skipField(b, typ); err != nil {
			return 0, fmt.Errorf("field %d: %w", num, err)
		}
		b = b[n:]
	}
	return unixNano(sec, nsec), nil
}

func unmarshalPair(b []byte) (LabelPair, error) {
	var p LabelPair
	for len(b) > 0 {
		num, typ, n, err := readKey(b)
		if err != nil {
			return p, err
		}
		b = b[n:]
		if num == fieldPairName || num == fieldPairValue {
			v, n, err := readBytesField(b, typ)
			if err != nil {
				return p, err
			}
			b = b[n:]
			if num == fieldPairName {
				p.Name = aliasString(v)
			} else {
				p.Value = aliasString(v)
			}
			continue
		}
		if n, err = skipField(b, typ); err != nil {
			return p, fmt.Errorf("field %d: %w", num, err)
		}
		b = b[n:]
	}
	return p, nil
}

// unixNano returns sec*1e9+nsec, saturated to the int64 range.
func unixNano(sec, nsec int64) int64 {
	const maxSec = math.MaxInt64 / int64(1e9)
	const minSec = math.MinInt64 / int64(1e9)
	if sec > maxSec {
		return math.MaxInt64
	}
	if sec < minSec {
		return math.MinInt64
	}
	t := sec * 1e9
	if nsec > 0 && t > math.MaxInt64-nsec {
		return math.MaxInt64
	}
	if nsec < 0 && t < math.MinInt64-nsec {
		return math.MinInt64
	}
	return t + nsec
}

// floorDiv splits ts into seconds and a non-negative remainder of d.
func floorDiv(ts, d int64) (int64, int64) {
	q, r := ts/d, ts%d
	if r < 0 {
		q--
		r += d
	}
	return q, r
}

// aliasString returns a string sharing b's bytes (no copy).
func aliasString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// readVarint decodes a base-128 varint; n <= 0 means truncated or overlong.
func readVarint(b []byte) (v uint64, n int) {
	if len(b) > 0 && b[0] < 0x80 {
		return uint64(b[0]), 1
	}
	var shift uint
	for i, c := range b {
		if i == 10 {
			return 0, -1
		}
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			if i == 9 && c > 1 {
				return 0, -1
			}
			return v, i + 1
		}
		shift += 7
	}
	return 0, 0
}

func readKey(b []byte) (num int32, typ int, n int, err error) {
	k, n := readVarint(b)
	if n <= 0 {
		return 0, 0, 0, errVarint
	}
	if k>>3 == 0 || k>>3 > math.MaxInt32 {
		return 0, 0, 0, errFieldNumber
	}
	return int32(k >> 3), int(k & 7), n, nil
}

// readBytesField reads the value of a length-delimited field.
func readBytesField(b []byte, typ int) ([]byte, int, error) {
	if typ != wireBytes {
		return nil, 0, fmt.Errorf("%w %d, want %d", errWireType, typ, wireBytes)
	}
	l, n := readVarint(b)
	if n <= 0 {
		return nil, 0, errVarint
	}
	if l > uint64(len(b)-n) {
		return nil, 0, fmt.Errorf("%w (%d > %d bytes)", errLengthPrefix, l, len(b)-n)
	}
	end := n + int(l)
	return b[n:end:end], end, nil
}

// skipField returns the size of a field value of wire type typ.
func skipField(b []byte, typ int) (int, error) {
	switch typ {
	case wireVarint:
		_, n := readVarint(b)
		if n <= 0 {
			return 0, errVarint
		}
		return n, nil
	case wireFixed64:
		if len(b) < 8 {
			return 0, errTruncated
		}
		return 8, nil
	case wireFixed32:
		if len(b) < 4 {
			return 0, errTruncated
		}
		return 4, nil
	case wireBytes:
		_, n, err := readBytesField(b, typ)
		return n, err
	case wireStart, wireEnd:
		return 0, errGroup
	default:
		return 0, fmt.Errorf("%w %d", errWireType, typ)
	}
}

// Size returns the length of r's protobuf encoding.
func (r *Request) Size() int {
	n := 0
	for i := range r.Streams {
		n += sizeBytesField(r.Streams[i].size())
	}
	return n
}

// AppendMarshal appends r's protobuf encoding (Loki's PushRequest) to dst.
// The encoding is deterministic and matches what Loki's generated code
// writes for the same content.
func (r *Request) AppendMarshal(dst []byte) []byte {
	if need := r.Size(); cap(dst)-len(dst) < need {
		dst = append(make([]byte, 0, len(dst)+need), dst...)
	}
	for i := range r.Streams {
		s := &r.Streams[i]
		dst = appendKey(dst, fieldRequestStreams, wireBytes)
		dst = appendVarint(dst, uint64(s.size()))
		dst = s.appendMarshal(dst)
	}
	return dst
}

func (s *Stream) size() int {
	n := 0
	if len(s.Labels) > 0 {
		n += sizeBytesField(len(s.Labels))
	}
	for i := range s.Entries {
		n += sizeBytesField(s.Entries[i].size())
	}
	return n
}

func (s *Stream) appendMarshal(dst []byte) []byte {
	if len(s.Labels) > 0 {
		dst = appendKey(dst, fieldStreamLabels, wireBytes)
		dst = appendVarint(dst, uint64(len(s.Labels)))
		dst = append(dst, s.Labels...)
	}
	for i := range s.Entries {
		e := &s.Entries[i]
		dst = appendKey(dst, fieldStreamEntries, wireBytes)
		dst = appendVarint(dst, uint64(e.size()))
		dst = e.appendMarshal(dst)
	}
	return dst
}

// The timestamp is always written, even when zero, like gogo's non-nullable
// stdtime fields; the line only when not empty (proto3 default).
func (e *Entry) size() int {
	n := sizeBytesField(timestampSize(e.Timestamp))
	if len(e.Line) > 0 {
		n += sizeBytesField(len(e.Line))
	}
	for i := range e.Metadata {
		n += sizeBytesField(e.Metadata[i].size())
	}
	return n
}

func (e *Entry) appendMarshal(dst []byte) []byte {
	dst = appendKey(dst, fieldEntryTimestamp, wireBytes)
	dst = appendVarint(dst, uint64(timestampSize(e.Timestamp)))
	sec, nsec := floorDiv(e.Timestamp, 1e9)
	if sec != 0 {
		dst = appendKey(dst, fieldTimestampSeconds, wireVarint)
		dst = appendVarint(dst, uint64(sec))
	}
	if nsec != 0 {
		dst = appendKey(dst, fieldTimestampNanos, wireVarint)
		dst = appendVarint(dst, uint64(nsec))
	}
	if len(e.Line) > 0 {
		dst = appendKey(dst, fieldEntryLine, wireBytes)
		dst = appendVarint(dst, uint64(len(e.Line)))
		dst = append(dst, e.Line...)
	}
	for i := range e.Metadata {
		p := &e.Metadata[i]
		dst = appendKey(dst, fieldEntryMetadata, wireBytes)
		dst = appendVarint(dst, uint64(p.size()))
		if len(p.Name) > 0 {
			dst = appendKey(dst, fieldPairName, wireBytes)
			dst = appendVarint(dst, uint64(len(p.Name)))
			dst = append(dst, p.Name...)
		}
		if len(p.Value) > 0 {
			dst = appendKey(dst, fieldPairValue, wireBytes)
			dst = appendVarint(dst, uint64(len(p.Value)))
			dst = append(dst, p.Value...)
		}
	}
	return dst
}

func (p *LabelPair) size() int {
	n := 0
	if len(p.Name) > 0 {
		n += sizeBytesField(len(p.Name))
	}
	if len(p.Value) > 0 {
		n += sizeBytesField(len(p.Value))
	}
	return n
}

func timestampSize(ts int64) int {
	sec, nsec := floorDiv(ts, 1e9)
	n := 0
	if sec != 0 {
		n += 1 + sizeVarint(uint64(sec))
	}
	if nsec != 0 {
		n += 1 + sizeVarint(uint64(nsec))
	}
	return n
}

// sizeBytesField is the size of a length-delimited field with a one-byte
// key (field numbers below 16) and a value of l bytes.
func sizeBytesField(l int) int { return 1 + sizeVarint(uint64(l)) + l }

func sizeVarint(v uint64) int { return (bits.Len64(v|1) + 6) / 7 }

func appendKey(dst []byte, num, typ int) []byte { return append(dst, byte(num<<3|typ)) }

func appendVarint(dst []byte, v uint64) []byte {
	for v >= 0x80 {
		dst = append(dst, byte(v)|0x80)
		v >>= 7
	}
	return append(dst, byte(v))
}
