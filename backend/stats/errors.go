package stats

import "errors"

// ErrNoContext is returned by Require when a context carries no statistics
// Context.
var ErrNoContext = errors.New("no query statistics in context")
