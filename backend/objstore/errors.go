package objstore

import "errors"

// Sentinel errors of the package. Errors returned by buckets wrap them, so
// callers branch with errors.Is. ErrNotFound is declared beside the Bucket
// interface in bucket.go.
var (
	// ErrInvalidKey is returned when a key or an Iter prefix is not a clean,
	// relative, slash-separated path (see ValidateKey). No backend is ever
	// asked to store such a key, so every backend accepts the same keys.
	ErrInvalidKey = errors.New("invalid object key")

	// ErrInvalidRange is returned by GetRange when the offset is negative or
	// lies past the end of the object.
	ErrInvalidRange = errors.New("invalid byte range")
)
