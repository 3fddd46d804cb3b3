package querier

import "errors"

// ErrBadWindows is returned by CountEntries for windows whose count, step
// or range is not positive.
var ErrBadWindows = errors.New("bad count windows")
