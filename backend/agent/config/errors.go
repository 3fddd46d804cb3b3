package config

import "errors"

// ErrInvalid is wrapped by every error of Load and Validate that comes from
// the configuration itself (unknown keys, bad values, missing settings), as
// opposed to errors reading the file.
var ErrInvalid = errors.New("invalid agent configuration")
