package rpc

import (
	"google.golang.org/grpc/mem"
)

// clusterRequest is the request of lode.Cluster/Call. On the server, Body
// is a view of a fresh copy of the message that the handler may keep.
type clusterRequest struct {
	Op        string
	Body      []byte
	decodeErr error
}

func (r *clusterRequest) marshal() (mem.BufferSlice, error) {
	b := make([]byte, 0, 1+5+len(r.Op)+5+len(r.Body))
	b = append(b, wireVersion)
	b = appendString(b, r.Op)
	b = appendBytes(b, r.Body)
	return mem.BufferSlice{mem.SliceBuffer(b)}, nil
}

// unmarshal reports failure in decodeErr, as pushRequest.unmarshal does.
func (r *clusterRequest) unmarshal(data mem.BufferSlice) error {
	d := decoder{b: data.Materialize()}
	d.version("cluster request")
	r.Op, r.Body = d.str(), d.bytes()
	r.decodeErr = d.end()
	return nil
}

// clusterReply is the reply of lode.Cluster/Call. On the client, Body is a
// view of a fresh copy of the message that the caller owns.
type clusterReply struct {
	Body []byte
}

func (r *clusterReply) marshal() (mem.BufferSlice, error) {
	b := make([]byte, 0, 1+5+len(r.Body))
	b = append(b, wireVersion)
	b = appendBytes(b, r.Body)
	return mem.BufferSlice{mem.SliceBuffer(b)}, nil
}

func (r *clusterReply) unmarshal(data mem.BufferSlice) error {
	d := decoder{b: data.Materialize()}
	d.version("cluster reply")
	r.Body = d.bytes()
	return d.end()
}
