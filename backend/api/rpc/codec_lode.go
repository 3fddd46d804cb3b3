package rpc

import (
	"fmt"
	"sync"

	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
)

// ContentSubtype is the gRPC content-subtype of Lode's messages
// (content type application/grpc+lode) and the name of their codec.
const ContentSubtype = "lode"

// Buffer sizes.
const (
	// MaxMessageSize bounds one message in either direction (client call
	// options and ServerOptions).
	MaxMessageSize = 64 << 20
	// maxBatchBytes is the size at which a query batch is sent.
	maxBatchBytes = 1 << 20
	// maxPooledBuffer is the largest buffer kept for reuse.
	maxPooledBuffer = 8 << 20
	// minPooledBuffer is the smallest buffer allocated for the pool.
	minPooledBuffer = 4 << 10
)

// gRPC looks codecs up by content-subtype in its own registry, so the codec
// is registered once, at package load, as gRPC requires.
func init() { encoding.RegisterCodecV2(lodeCodec{}) }

// marshaler is a message that encodes itself. The returned buffers pass to
// gRPC, which frees them once written.
type marshaler interface {
	marshal() (mem.BufferSlice, error)
}

// unmarshaler is a message that decodes itself from data. data is freed by
// gRPC when unmarshal returns; a message that keeps views of it holds its
// own reference (heldBytes).
type unmarshaler interface {
	unmarshal(data mem.BufferSlice) error
}

// lodeCodec hands encoding to the messages themselves. It is stateless.
type lodeCodec struct{}

func (lodeCodec) Name() string { return ContentSubtype }

func (lodeCodec) Marshal(v any) (mem.BufferSlice, error) {
	m, ok := v.(marshaler)
	if !ok {
		return nil, fmt.Errorf("lode codec: cannot marshal %T", v)
	}
	return m.marshal()
}

func (lodeCodec) Unmarshal(data mem.BufferSlice, v any) error {
	m, ok := v.(unmarshaler)
	if !ok {
		return fmt.Errorf("lode codec: cannot unmarshal into %T", v)
	}
	return m.unmarshal(data)
}

// bufPool recycles message buffers. It implements mem.BufferPool so that
// gRPC returns encoded messages to it once they are written. A nil
// *bufPool allocates and recycles nothing.
type bufPool struct{ p sync.Pool }

// Get returns a buffer of length n.
func (bp *bufPool) Get(n int) *[]byte {
	if bp != nil {
		if v := bp.p.Get(); v != nil {
			b := v.(*[]byte)
			if cap(*b) >= n {
				*b = (*b)[:n]
				return b
			}
			*b = make([]byte, n, max(n, minPooledBuffer))
			return b
		}
	}
	b := make([]byte, n, max(n, minPooledBuffer))
	return &b
}

// Put recycles b; b must not be used afterwards.
func (bp *bufPool) Put(b *[]byte) {
	if bp == nil || cap(*b) > maxPooledBuffer {
		return
	}
	bp.p.Put(b)
}

// wrap makes b, obtained from bp and filled, a buffer gRPC frees into bp.
func (bp *bufPool) wrap(b *[]byte) mem.Buffer {
	if bp == nil {
		return mem.SliceBuffer(*b)
	}
	return mem.NewBuffer(b, bp)
}

// heldBytes keeps one received message readable as contiguous bytes: a
// reference on gRPC's buffer when the message came in one piece, else a
// copy in a pooled buffer. release gives it back.
type heldBytes struct {
	ref  mem.Buffer
	own  *[]byte
	pool *bufPool
}

// take releases what h held and holds data instead, returning its bytes.
func (h *heldBytes) take(data mem.BufferSlice, pool *bufPool) []byte {
	h.release()
	if len(data) == 1 {
		data[0].Ref()
		h.ref = data[0]
		return data[0].ReadOnlyData()
	}
	b := pool.Get(data.Len())
	data.CopyTo(*b)
	h.own, h.pool = b, pool
	return *b
}

func (h *heldBytes) release() {
	if h.ref != nil {
		h.ref.Free()
		h.ref = nil
	}
	if h.own != nil {
		h.pool.Put(h.own)
		h.own, h.pool = nil, nil
	}
}
