//go:build !unix

package ingester

import "errors"

// freeDiskSpace is not implemented on this platform; the free-space guard
// is then inactive.
func freeDiskSpace(string) (uint64, error) { return 0, errors.ErrUnsupported }
