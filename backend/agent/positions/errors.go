package positions

import "errors"

// ErrCorrupt reports a positions file that cannot be decoded (or was
// written by a newer agent).
var ErrCorrupt = errors.New("corrupt positions file")
