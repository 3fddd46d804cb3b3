package limits

import "errors"

// ErrInvalidLimit reports a limit value that Validate refuses (a negative
// size, a rate without a burst, ...). Returned wrapped with the YAML key at
// fault and, for overrides, the tenant.
var ErrInvalidLimit = errors.New("invalid limit")
