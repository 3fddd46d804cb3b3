package ring

import "errors"

var (
	// ErrEmptyRing reports a lookup on a ring without any ingester able to
	// serve it: no ACTIVE ingester for WriteSet, no ACTIVE or LEAVING one
	// for ReadSet.
	ErrEmptyRing = errors.New("empty ring: no ACTIVE ingester")
	// ErrCorrupt reports bytes that are not a valid encoded Instance:
	// truncated, trailing garbage, lengths past the end, or an unknown
	// state. Returned wrapped; test with errors.Is.
	ErrCorrupt = errors.New("ring instance corrupt")
	// ErrUnknownVersion reports an encoded Instance of a format version
	// this build cannot read.
	ErrUnknownVersion = errors.New("unknown ring instance version")
	// ErrUnknownState reports a state name ParseState does not know.
	ErrUnknownState = errors.New("unknown ring state")
)
