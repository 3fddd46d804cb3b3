package push

import (
	"errors"
	"fmt"
)

// Sentinels returned (wrapped) by the decoders and DecodeHTTP. Test them with
// errors.Is; the HTTP status each one stands for is given in brackets.
var (
	// ErrMalformed reports a body that is not a valid push request: bad
	// protobuf, bad JSON, corrupt snappy, gzip or deflate data, an empty
	// body, or a label string that does not parse. [400 Bad Request]
	ErrMalformed = errors.New("malformed push request")
	// ErrTooLarge reports a body larger than the size limit, before or after
	// decompression (see TooLargeError). [413 Request Entity Too Large]
	ErrTooLarge = errors.New("push request too large")
	// ErrUnsupportedMediaType reports a Content-Type or Content-Encoding
	// that Lode does not decode (see UnsupportedError). [415 Unsupported
	// Media Type]
	ErrUnsupportedMediaType = errors.New("unsupported media type")
)

// TooLargeError is the ErrTooLarge of one request: What names the part
// that is too large ("body" or "decompressed body"), Size is its size in
// bytes when it is known (a Content-Length or a snappy length header) and
// -1 when reading stopped at the limit.
type TooLargeError struct {
	What  string
	Size  int64
	Limit int64
}

func (e *TooLargeError) Error() string {
	if e.Size < 0 {
		return fmt.Sprintf("push request %s too large: more than the limit of %d bytes", e.What, e.Limit)
	}
	return fmt.Sprintf("push request %s too large: %d bytes, limit %d bytes", e.What, e.Size, e.Limit)
}

// Is makes errors.Is(err, ErrTooLarge) true.
func (e *TooLargeError) Is(target error) bool { return target == ErrTooLarge }

// UnsupportedError is the ErrUnsupportedMediaType of one request: Header is
// "Content-Type" or "Content-Encoding" and Value what the client sent;
// OTLP marks an OTLP export.
type UnsupportedError struct {
	Header, Value string
	OTLP          bool
}

func (e *UnsupportedError) Error() string {
	switch {
	case e.OTLP && e.Header == "Content-Encoding":
		return fmt.Sprintf("unsupported Content-Encoding %q: use gzip, deflate or none", e.Value)
	case e.OTLP:
		return fmt.Sprintf("unsupported Content-Type %q: OTLP logs are accepted as application/x-protobuf or application/json", e.Value)
	case e.Header == "Content-Encoding":
		return fmt.Sprintf("unsupported Content-Encoding %q: use gzip, deflate or none (protobuf bodies are always snappy-compressed)", e.Value)
	}
	return fmt.Sprintf("unsupported Content-Type %q: use application/x-protobuf (snappy-compressed) or application/json", e.Value)
}

// Is makes errors.Is(err, ErrUnsupportedMediaType) true.
func (e *UnsupportedError) Is(target error) bool { return target == ErrUnsupportedMediaType }

// malformed wraps a decoding problem of the given format as ErrMalformed.
func malformed(format string, err error) error {
	return fmt.Errorf("%w: %s: %w", ErrMalformed, format, err)
}
