package push

import "sync"

// Pooled requests keep their buffers and slices for reuse, up to these
// bounds; larger ones are left to the garbage collector.
const (
	maxPooledBuffer  = 8 << 20
	maxPooledEntries = 1 << 16
)

var requestPool sync.Pool // of *Request

// GetRequest returns an empty Request, reusing one given back by
// PutRequest when there is one.
func GetRequest() *Request {
	if r, ok := requestPool.Get().(*Request); ok {
		return r
	}
	return &Request{}
}

// PutRequest empties r and gives it back to the pool. Nothing decoded into
// r (lines, labels, metadata) may be used afterwards.
func PutRequest(r *Request) {
	if r == nil {
		return
	}
	entries := 0
	streams := r.Streams[:cap(r.Streams)]
	for i := range streams {
		s := &streams[i]
		s.Labels = ""
		all := s.Entries[:cap(s.Entries)]
		entries += len(all)
		for j := range all {
			all[j].Line = nil
			clear(all[j].Metadata[:cap(all[j].Metadata)])
		}
	}
	if entries > maxPooledEntries {
		return
	}
	r.Streams = r.Streams[:0]
	if cap(r.raw) > maxPooledBuffer {
		r.raw = nil
	}
	if cap(r.buf) > maxPooledBuffer {
		r.buf = nil
	}
	r.raw, r.buf = r.raw[:0], r.buf[:0]
	requestPool.Put(r)
}
