package frontend

import "errors"

// Errors of the frontend. Test them with errors.Is.
var (
	// ErrInvalidURL reports a downstream URL that is not an absolute
	// http(s) URL (from Config.Validate and NewProxy).
	ErrInvalidURL = errors.New("invalid downstream URL")
	// ErrNoDownstream reports a proxy built with no downstream URL.
	ErrNoDownstream = errors.New("no downstream URL")
	// ErrBadPartResponse reports a sub-query answer with status 200 that is
	// not a Loki query response of the expected result type; the frontend
	// answers 502 Bad Gateway with it.
	ErrBadPartResponse = errors.New("bad sub-query response")
)
