package index

import (
	"context"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/model"
)

// ChunkRef locates one chunk object of a stream.
type ChunkRef struct {
	Tenant        string
	Fingerprint   model.Fingerprint
	Key           string // object key
	From, Through int64  // inclusive, Unix ns
	Size, Entries uint32
}

// ChunkEntry is what a flush commits: a chunk ref and its stream's labels.
type ChunkEntry struct {
	Ref    ChunkRef
	Labels labels.Labels
}

// Stream is a stream known to the index.
type Stream struct {
	Fingerprint model.Fingerprint
	Labels      labels.Labels
}

// Reader is what queriers use. Every method is bounded by [from, through]
// (inclusive, Unix ns) through the periods it touches: a stream is returned
// when it has a chunk in a period overlapping the range. Implementations are
// safe for concurrent use; returned slices belong to the caller.
type Reader interface {
	// Streams returns the streams matching all of ms, sorted by fingerprint.
	Streams(ctx context.Context, tenant string, from, through int64, ms []*labels.Matcher) ([]Stream, error)
	// Chunks returns the refs of stream fp overlapping [from, through],
	// sorted by From then Key, each ref once.
	Chunks(ctx context.Context, tenant string, fp model.Fingerprint, from, through int64) ([]ChunkRef, error)
	// LabelNames returns the sorted label names of the streams matching ms
	// (of all streams when ms is empty).
	LabelNames(ctx context.Context, tenant string, from, through int64, ms []*labels.Matcher) ([]string, error)
	// LabelValues returns the sorted values of label name among the streams
	// matching ms (of all streams when ms is empty).
	LabelValues(ctx context.Context, tenant, name string, from, through int64, ms []*labels.Matcher) ([]string, error)
}

// KV is the write side of one FSM apply, through which AddChunks writes.
// It is used by one goroutine at a time.
type KV interface {
	// Has reports whether key is stored, counting writes made earlier
	// through the same KV.
	Has(key []byte) (bool, error)
	// Set stores value under key. The KV takes ownership of both slices.
	// It may commit earlier writes before the apply ends (when a Badger
	// transaction grows too big), so writes must be ordered such that any
	// prefix of them is safe to see and to apply again.
	Set(key, value []byte) error
}

var _ Reader = (*Store)(nil)
