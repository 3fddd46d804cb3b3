package objstore

import (
	"context"
	"errors"
)

// ErrNotFound is returned (wrapped) when an object does not exist.
var ErrNotFound = errors.New("object not found")

// Bucket stores immutable objects by key. Safe for concurrent use.
//
// Keys must pass ValidateKey (every method returns a wrapped ErrInvalidKey
// otherwise). Errors wrap ErrNotFound, ErrInvalidKey, ErrInvalidRange or
// the context's error where those apply. Returned byte slices belong to the
// caller; data passed to Put is not retained.
type Bucket interface {
	// Put writes data under key atomically.
	Put(ctx context.Context, key string, data []byte) error
	// Get returns the whole object.
	Get(ctx context.Context, key string) ([]byte, error)
	// GetRange returns length bytes from offset off (length < 0: to the end).
	// A range running past the end is cut at the end; an offset equal to
	// the size gives an empty result; a negative offset, or one past the
	// end, is ErrInvalidRange.
	GetRange(ctx context.Context, key string, off, length int64) ([]byte, error)
	// Exists reports whether key exists.
	Exists(ctx context.Context, key string) (bool, error)
	// Delete removes key; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// Iter calls fn for each key with the prefix, in lexical order.
	// An error from fn stops the iteration and is returned (wrapped).
	Iter(ctx context.Context, prefix string, fn func(key string) error) error
}
