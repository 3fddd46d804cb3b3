package index

import "errors"

var (
	// ErrMatchersEmpty is returned by queries whose matchers all match the
	// empty string (for example {app=~".*"}): they would select every
	// stream of the tenant, so at least one matcher must need a non-empty
	// value.
	ErrMatchersEmpty = errors.New("queries require at least one regexp or equality matcher that does not have an empty-compatible value")

	// ErrInvalidEntry is returned by ValidateEntry and AddChunks for a chunk
	// entry that cannot be indexed (empty tenant or key, inverted time
	// range, empty or unsorted labels, fingerprint not matching the labels,
	// time range too long).
	ErrInvalidEntry = errors.New("invalid chunk entry")

	// ErrCorrupt is returned when a stored key or value cannot be decoded.
	ErrCorrupt = errors.New("corrupt index record")
)
