package ingester

import "errors"

// Sentinel errors of the package. Returned errors wrap them; branch with
// errors.Is.
var (
	// ErrClosed is returned by Push, Query and Flush once Close has begun.
	ErrClosed = errors.New("ingester closed")

	// ErrStorage reports that the local buffer (Badger) failed to read or
	// write, for example because the disk is full or failing. A Push that
	// returns it acknowledged nothing; the caller should answer 5xx so that
	// clients retry.
	ErrStorage = errors.New("ingester storage failure")

	// ErrDiskFull is returned by Push when the free space of the buffer's
	// file system is below -ingester.min-free-disk-space. It also wraps
	// ErrStorage.
	ErrDiskFull = errors.New("ingester disk full")

	// ErrCorrupt reports a record in the buffer that cannot be decoded
	// (see FORMAT.md). Replay fails with it rather than guess.
	ErrCorrupt = errors.New("ingester buffer corrupt")

	// ErrFlushIncomplete is returned by Flush when some chunks could not be
	// written to the object store or the index; they stay buffered and are
	// retried by the flush loop.
	ErrFlushIncomplete = errors.New("flush incomplete")
)
