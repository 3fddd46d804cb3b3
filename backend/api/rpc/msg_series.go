package rpc

import (
	"encoding/binary"

	"github.com/prometheus/prometheus/model/labels"
	"google.golang.org/grpc/mem"

	"github.com/lode-logs/lode/backend/index"
	"github.com/lode-logs/lode/backend/model"
)

// seriesRequest is the request of lode.Ingester/Series.
type seriesRequest struct {
	Tenant        string
	From, Through int64
	Matchers      []*labels.Matcher
	decodeErr     error
}

func (r *seriesRequest) marshal() (mem.BufferSlice, error) {
	b := []byte{wireVersion}
	b = appendString(b, r.Tenant)
	b = binary.AppendVarint(b, r.From)
	b = binary.AppendVarint(b, r.Through)
	b = appendMatchers(b, r.Matchers)
	return mem.BufferSlice{mem.SliceBuffer(b)}, nil
}

// unmarshal reports failure in decodeErr, as pushRequest.unmarshal does.
func (r *seriesRequest) unmarshal(data mem.BufferSlice) error {
	d := decoder{b: data.Materialize()}
	d.version("series request")
	r.Tenant, r.From, r.Through = d.str(), d.varint(), d.varint()
	r.Matchers = d.matchers()
	r.decodeErr = d.end()
	return nil
}

// seriesReply is the reply of lode.Ingester/Series.
type seriesReply struct {
	Streams []index.Stream
}

func (r *seriesReply) marshal() (mem.BufferSlice, error) {
	n := 1 + 5
	for k := range r.Streams {
		n += 8 + labelsSizeHint(r.Streams[k].Labels)
	}
	b := make([]byte, 0, n)
	b = append(b, wireVersion)
	b = binary.AppendUvarint(b, uint64(len(r.Streams)))
	for k := range r.Streams {
		b = appendFixed64(b, uint64(r.Streams[k].Fingerprint))
		b = appendLabels(b, r.Streams[k].Labels)
	}
	return mem.BufferSlice{mem.SliceBuffer(b)}, nil
}

func (r *seriesReply) unmarshal(data mem.BufferSlice) error {
	b := data.Materialize()
	d := decoder{b: b}
	d.version("series reply")
	n := d.count(minBatchStreamSize)
	var sb labels.ScratchBuilder
	r.Streams = nil
	if n > 0 {
		r.Streams = make([]index.Stream, n)
	}
	for k := range r.Streams {
		r.Streams[k].Fingerprint = model.Fingerprint(d.fixed64())
		r.Streams[k].Labels = d.labels(&sb)
	}
	return d.end()
}
