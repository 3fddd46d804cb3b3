package ring

import (
	"encoding/binary"
	"fmt"
)

// instanceVersion is the format version AppendInstance writes (FORMAT.md).
const instanceVersion = 1

const flagIngester = 1 << 0

// AppendInstance appends the binary encoding of in (format version 1,
// FORMAT.md) to dst and returns the extended slice.
func AppendInstance(dst []byte, in *Instance) []byte {
	dst = append(dst, instanceVersion)
	for _, s := range [...]string{in.ID, in.Addr, in.HTTPAddr, in.RaftAddr} {
		dst = binary.AppendUvarint(dst, uint64(len(s)))
		dst = append(dst, s...)
	}
	var flags byte
	if in.Ingester {
		flags |= flagIngester
	}
	dst = append(dst, flags, byte(in.State))
	dst = binary.AppendVarint(dst, in.Registered)
	dst = binary.AppendVarint(dst, in.Heartbeat)
	dst = binary.AppendUvarint(dst, in.AppliedIndex)
	dst = binary.AppendUvarint(dst, uint64(len(in.Tokens)))
	var prev uint32
	for _, t := range in.Tokens {
		dst = binary.AppendUvarint(dst, uint64(t-prev)) // wraps if unsorted
		prev = t
	}
	return dst
}

// ReadInstance decodes an Instance written by AppendInstance. b must hold
// exactly one encoded Instance. The result does not alias b. Errors wrap
// ErrUnknownVersion or ErrCorrupt.
func ReadInstance(b []byte) (Instance, error) {
	var in Instance
	if len(b) == 0 {
		return in, fmt.Errorf("read instance: empty: %w", ErrCorrupt)
	}
	if b[0] != instanceVersion {
		return in, fmt.Errorf("read instance: version %d: %w", b[0], ErrUnknownVersion)
	}
	d := decoder{b: b[1:]}
	in.ID = d.string()
	in.Addr = d.string()
	in.HTTPAddr = d.string()
	in.RaftAddr = d.string()
	flags, state := d.byte(), d.byte()
	in.Registered = d.varint()
	in.Heartbeat = d.varint()
	in.AppliedIndex = d.uvarint()
	n := d.uvarint()
	if d.err == nil && n > uint64(len(d.b)) { // every token takes a byte at least
		d.fail("token count %d past end", n)
	}
	if d.err == nil && n > 0 {
		in.Tokens = make([]uint32, n)
		var prev uint32
		for i := range in.Tokens {
			delta := d.uvarint()
			if delta > 1<<32-1 {
				d.fail("token delta %d overflows", delta)
			}
			prev += uint32(delta)
			in.Tokens[i] = prev
		}
	}
	switch {
	case d.err != nil:
	case flags&^flagIngester != 0:
		d.fail("unknown flags %#x", flags)
	case !State(state).valid():
		d.fail("state %d", state)
	case len(d.b) != 0:
		d.fail("%d trailing bytes", len(d.b))
	}
	if d.err != nil {
		return Instance{}, fmt.Errorf("read instance: %w", d.err)
	}
	in.Ingester = flags&flagIngester != 0
	in.State = State(state)
	return in, nil
}

// decoder reads fields in order; after the first error every read returns
// a zero value and err keeps that first error.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf(format+": %w", append(args, ErrCorrupt)...)
	}
	d.b = nil
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad uvarint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if len(d.b) == 0 {
		d.fail("truncated")
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) string() string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.b)) {
		d.fail("string length %d past end", n)
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}
