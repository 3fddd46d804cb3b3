package lokiapi

import (
	"errors"
	"fmt"
	"net/http"
)

var (
	// ErrNotLokiAPI means the server answered 2xx with a body that is not Loki's JSON envelope,
	// e.g. the URL points at a web page or at another product.
	ErrNotLokiAPI = errors.New("response is not from a Loki-compatible API")
	// ErrResponseTooLarge means a response body exceeded Options.MaxResponseBytes.
	ErrResponseTooLarge = errors.New("response too large")
	// ErrBadResult means the JSON envelope was valid but the result could not be decoded
	// (unknown resultType, malformed sample or entry).
	ErrBadResult = errors.New("malformed query result")
)

// StatusError is a non-2xx answer from the server. Message is the server's own text
// (the "error" field of a JSON body, or the trimmed plain-text body), never the request.
type StatusError struct {
	Code    int
	Message string
}

func (e *StatusError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("lode returned %d %s", e.Code, http.StatusText(e.Code))
	}
	return fmt.Sprintf("lode returned %d %s: %s", e.Code, http.StatusText(e.Code), e.Message)
}
