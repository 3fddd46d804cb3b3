package rpc

import (
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/prometheus/prometheus/model/labels"
	"google.golang.org/grpc/mem"

	"github.com/lode-logs/lode/backend/model"
)

// maxPooledEntries bounds the entries slice a pooled request keeps.
const maxPooledEntries = 1 << 16

// pushRequest is the message of lode.Ingester/Push (FORMAT.md). The client
// sets Tenant and Streams, which it encodes straight into one pooled
// buffer. The server decodes into a pooled pushRequest whose lines are
// views of the received bytes; release hands them back.
type pushRequest struct {
	Tenant  string
	Streams []model.Stream

	pool      *bufPool
	held      heldBytes
	entries   []model.Entry // backing array of the decoded streams' entries
	sb        labels.ScratchBuilder
	decodeErr error // why unmarshal failed (see unmarshal)
}

func (r *pushRequest) marshal() (mem.BufferSlice, error) {
	b := r.pool.Get(pushSizeHint(r.Tenant, r.Streams))
	*b = appendPushRequest((*b)[:0], r.Tenant, r.Streams)
	return mem.BufferSlice{r.pool.wrap(b)}, nil
}

// pushSizeHint is about the encoded size of a push request.
func pushSizeHint(tenant string, streams []model.Stream) int {
	n := 1 + 5 + len(tenant) + 20
	for k := range streams {
		st := &streams[k]
		n += labelsSizeHint(st.Labels) + 8 + 5
		for j := range st.Entries {
			e := &st.Entries[j]
			n += 10 + 5 + len(e.Line) + labelsSizeHint(e.Metadata)
		}
	}
	return n
}

// appendPushRequest appends the encoded push request to dst.
func appendPushRequest(dst []byte, tenant string, streams []model.Stream) []byte {
	total := 0
	for k := range streams {
		total += len(streams[k].Entries)
	}
	dst = append(dst, wireVersion)
	dst = appendString(dst, tenant)
	dst = binary.AppendUvarint(dst, uint64(len(streams)))
	dst = binary.AppendUvarint(dst, uint64(total))
	for k := range streams {
		st := &streams[k]
		dst = appendLabels(dst, st.Labels)
		dst = appendFixed64(dst, uint64(st.Fingerprint))
		dst = binary.AppendUvarint(dst, uint64(len(st.Entries)))
		var prev int64
		for j := range st.Entries {
			e := &st.Entries[j]
			dst = binary.AppendVarint(dst, e.Timestamp-prev)
			prev = e.Timestamp
			dst = appendBytes(dst, e.Line)
			dst = appendLabels(dst, e.Metadata)
		}
	}
	return dst
}

// unmarshal decodes a request on the server. It reports failure in
// decodeErr, not as its result: gRPC would answer codes.Internal itself,
// while the handler answers codes.InvalidArgument.
func (r *pushRequest) unmarshal(data mem.BufferSlice) error {
	r.decodeErr = r.decode(r.held.take(data, r.pool))
	return nil
}

// decode fills Tenant and Streams from b, which must stay unchanged while
// they are used: lines are views of b, labels are fresh memory.
func (r *pushRequest) decode(b []byte) error {
	d := decoder{b: b}
	d.version("push request")
	r.Tenant = d.str()
	ns := d.count(minPushStreamSize)
	ne := d.count(minEntrySize)
	if d.err != nil {
		return d.err
	}
	r.Streams = slices.Grow(r.Streams[:0], ns)[:ns]
	r.entries = slices.Grow(r.entries[:0], ne)[:ne]
	used := 0
	for k := range r.Streams {
		st := &r.Streams[k]
		st.Labels = d.labels(&r.sb)
		st.Fingerprint = model.Fingerprint(d.fixed64())
		n := d.count(minEntrySize)
		if d.err != nil {
			return d.err
		}
		if n > ne-used {
			return fmt.Errorf("%w: push request: more entries than announced", ErrMalformed)
		}
		st.Entries = r.entries[used : used+n : used+n]
		used += n
		var ts int64
		for j := range st.Entries {
			ts += d.varint()
			st.Entries[j] = model.Entry{Timestamp: ts, Line: d.bytes(), Metadata: d.labels(&r.sb)}
		}
	}
	if err := d.end(); err != nil {
		return err
	}
	if used != ne {
		return fmt.Errorf("%w: push request: %d entries announced, %d found", ErrMalformed, ne, used)
	}
	return nil
}

// reset drops what the request points to (keeping its slices' capacity)
// and releases the received bytes.
func (r *pushRequest) reset() {
	clear(r.Streams)
	clear(r.entries)
	r.Tenant, r.Streams, r.entries = "", r.Streams[:0], r.entries[:0]
	if cap(r.entries) > maxPooledEntries {
		r.Streams, r.entries = nil, nil
	}
	r.decodeErr = nil
	r.held.release()
}

// emptyReply is a reply without content (Push's): only the version byte.
type emptyReply struct{}

func (emptyReply) marshal() (mem.BufferSlice, error) {
	return mem.BufferSlice{mem.SliceBuffer{wireVersion}}, nil
}

func (*emptyReply) unmarshal(data mem.BufferSlice) error {
	var b [1]byte
	if data.Len() != 1 || data.CopyTo(b[:]) != 1 || b[0] != wireVersion {
		return fmt.Errorf("%w: empty reply of %d bytes", ErrMalformed, data.Len())
	}
	return nil
}
