package rpc

import (
	"encoding/binary"
	"fmt"

	"github.com/prometheus/prometheus/model/labels"
	"google.golang.org/grpc/mem"

	"github.com/lode-logs/lode/backend/model"
)

// flagTimestampsOnly is bit 0 of a query request's flags.
const flagTimestampsOnly = 1

// queryRequest is the request of lode.Ingester/Query: a whole LogSelect.
type queryRequest struct {
	Sel       model.LogSelect
	decodeErr error
}

func (r *queryRequest) marshal() (mem.BufferSlice, error) {
	return mem.BufferSlice{mem.SliceBuffer(appendQueryRequest(nil, &r.Sel))}, nil
}

func appendQueryRequest(dst []byte, sel *model.LogSelect) []byte {
	dst = append(dst, wireVersion)
	dst = appendString(dst, sel.Tenant)
	dst = appendMatchers(dst, sel.Matchers)
	dst = binary.AppendVarint(dst, sel.Start)
	dst = binary.AppendVarint(dst, sel.End)
	dst = append(dst, byte(sel.Direction))
	dst = binary.AppendVarint(dst, int64(sel.Limit))
	dst = binary.AppendUvarint(dst, uint64(len(sel.Needles)))
	for _, n := range sel.Needles {
		dst = appendBytes(dst, n)
	}
	var flags byte
	if sel.TimestampsOnly {
		flags |= flagTimestampsOnly
	}
	return append(dst, flags)
}

// unmarshal reports failure in decodeErr, as pushRequest.unmarshal does.
func (r *queryRequest) unmarshal(data mem.BufferSlice) error {
	r.decodeErr = r.decode(data.Materialize())
	return nil
}

// decode fills r.Sel from b; needles are views of b.
func (r *queryRequest) decode(b []byte) error {
	d := decoder{b: b}
	d.version("query request")
	sel := model.LogSelect{Tenant: d.str(), Matchers: d.matchers(), Start: d.varint(), End: d.varint()}
	switch dir := d.u8(); dir {
	case byte(model.Backward), byte(model.Forward):
		sel.Direction = model.Direction(dir)
	default:
		d.fail(fmt.Sprintf("unknown direction %d", dir))
	}
	sel.Limit = int(d.varint())
	if n := d.count(1); n > 0 {
		sel.Needles = make([][]byte, n)
		for k := range sel.Needles {
			sel.Needles[k] = d.bytes()
		}
	}
	flags := d.u8()
	if flags&^flagTimestampsOnly != 0 {
		d.fail(fmt.Sprintf("unknown flags %#x", flags))
	}
	sel.TimestampsOnly = flags&flagTimestampsOnly != 0
	if err := d.end(); err != nil {
		return err
	}
	r.Sel = sel
	return nil
}

// batchWriter encodes entries of a query reply into batches (FORMAT.md).
// The header and stream table grow in one buffer and the entries in
// another; marshal hands both to gRPC and starts the next batch. Streams
// are told apart by fingerprint, as everywhere in Lode.
type batchWriter struct {
	pool     *bufPool
	table    *[]byte // header and stream table; nil until the first add
	entries  *[]byte
	index    map[model.Fingerprint]uint32 // stream -> row of the table
	nEntries int
	prevTs   int64
}

const (
	// batchHeaderSize is the version byte and the two u32 counts.
	batchHeaderSize = 1 + 4 + 4
	// batchStartCap is the least capacity of a new batch's entry buffer.
	batchStartCap = 64 << 10
)

func newBatchWriter(pool *bufPool) *batchWriter {
	return &batchWriter{pool: pool, index: make(map[model.Fingerprint]uint32)}
}

// add appends e (copying its line and metadata).
func (w *batchWriter) add(e *model.StreamEntry) {
	if w.table == nil {
		w.table = w.pool.Get(batchHeaderSize)
		w.entries = w.pool.Get(batchStartCap)
		*w.entries = (*w.entries)[:0]
	}
	row, ok := w.index[e.Fingerprint]
	if !ok {
		row = uint32(len(w.index))
		w.index[e.Fingerprint] = row
		t := appendFixed64(*w.table, uint64(e.Fingerprint))
		*w.table = appendLabels(t, e.Labels)
	}
	b := binary.AppendUvarint(*w.entries, uint64(row))
	b = binary.AppendVarint(b, e.Timestamp-w.prevTs)
	b = appendBytes(b, e.Line)
	*w.entries = appendLabels(b, e.Metadata)
	w.prevTs = e.Timestamp
	w.nEntries++
}

// size is the encoded size of the batch so far.
func (w *batchWriter) size() int {
	if w.table == nil {
		return 0
	}
	return len(*w.table) + len(*w.entries)
}

func (w *batchWriter) count() int { return w.nEntries }

func (w *batchWriter) marshal() (mem.BufferSlice, error) {
	if w.table == nil {
		panic("BUG: marshal of an empty query batch")
	}
	t := *w.table
	t[0] = wireVersion
	binary.LittleEndian.PutUint32(t[1:], uint32(len(w.index)))
	binary.LittleEndian.PutUint32(t[5:], uint32(w.nEntries))
	out := mem.BufferSlice{w.pool.wrap(w.table), w.pool.wrap(w.entries)}
	w.table, w.entries = nil, nil
	clear(w.index)
	w.nEntries, w.prevTs = 0, 0
	return out, nil
}

// release returns the buffers of an unsent batch.
func (w *batchWriter) release() {
	if w.table != nil {
		w.pool.Put(w.table)
		w.pool.Put(w.entries)
		w.table, w.entries = nil, nil
	}
}

// batchStream is one row of a received batch's stream table.
type batchStream struct {
	labels labels.Labels
	fp     model.Fingerprint
}

// queryBatch is a received query batch, decoded entry by entry by next.
// It is reused for every batch of a stream: lines are views of the held
// bytes, valid until the next batch is received or release is called.
type queryBatch struct {
	pool    *bufPool
	held    heldBytes
	d       decoder // positioned at the next entry
	streams []batchStream
	left    int // entries not decoded yet
	prevTs  int64
	sb      labels.ScratchBuilder
}

func (q *queryBatch) unmarshal(data mem.BufferSlice) error {
	return q.parse(q.held.take(data, q.pool))
}

// parse reads the header and stream table of b and positions q at the
// first entry.
func (q *queryBatch) parse(b []byte) error {
	q.d = decoder{b: b}
	q.d.version("query batch")
	ns, ne := int(q.d.u32()), int(q.d.u32())
	if q.d.err == nil && (ns > q.d.remaining()/minBatchStreamSize || ne > q.d.remaining()/minEntrySize) {
		q.d.fail("count exceeds message")
	}
	clear(q.streams)
	q.streams = q.streams[:0]
	for range ns {
		if q.d.err != nil {
			break
		}
		fp := model.Fingerprint(q.d.fixed64())
		q.streams = append(q.streams, batchStream{fp: fp, labels: q.d.labels(&q.sb)})
	}
	q.left, q.prevTs = ne, 0
	if ne == 0 {
		_ = q.d.end()
	}
	if q.d.err != nil {
		q.left = 0
		return q.d.err
	}
	return nil
}

// next decodes the next entry into e. It returns false at the end of the
// batch or on malformed data (then err is set).
func (q *queryBatch) next(e *model.StreamEntry) bool {
	if q.left == 0 {
		return false
	}
	q.left--
	row := q.d.uvarint()
	q.prevTs += q.d.varint()
	line, md := q.d.bytes(), q.d.labels(&q.sb)
	if q.d.err == nil && row >= uint64(len(q.streams)) {
		q.d.fail(fmt.Sprintf("stream %d not in table", row))
	}
	if q.left == 0 {
		_ = q.d.end()
	}
	if q.d.err != nil {
		q.left = 0
		return false
	}
	s := &q.streams[row]
	*e = model.StreamEntry{Labels: s.labels, Fingerprint: s.fp, Entry: model.Entry{Timestamp: q.prevTs, Line: line, Metadata: md}}
	return true
}

func (q *queryBatch) err() error { return q.d.err }

func (q *queryBatch) release() {
	q.held.release()
	q.d = decoder{}
	q.left = 0
}
