package chunk

import "errors"

var (
	// ErrCorrupt reports bytes that are not a valid chunk or block: bad
	// magic, checksum mismatch, truncation, or inconsistent lengths and
	// values. Returned wrapped; test with errors.Is.
	ErrCorrupt = errors.New("chunk corrupt")
	// ErrUnknownVersion reports a chunk written in a format version this
	// build cannot read.
	ErrUnknownVersion = errors.New("unknown chunk version")
	// ErrUnknownCodec reports a block or header naming a codec this build
	// does not implement.
	ErrUnknownCodec = errors.New("unknown chunk codec")
)
