package objstore

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// stagingDir is the top-level directory of the filesystem bucket that holds
// objects being written. It is not a valid first key component.
const stagingDir = ".staging"

// maxKeyLen bounds key length; S3 allows 1024 bytes of UTF-8.
const maxKeyLen = 1024

// ValidateKey reports whether key is acceptable to every Bucket: non-empty,
// at most 1024 bytes of valid UTF-8, relative, slash-separated, with no
// empty, "." or ".." component, no NUL or backslash byte, and not inside
// the reserved top-level ".staging" directory. The error wraps
// ErrInvalidKey.
func ValidateKey(key string) error {
	if key == "" {
		return fmt.Errorf("%w: empty key", ErrInvalidKey)
	}
	if len(key) > maxKeyLen {
		return fmt.Errorf("%w: key longer than %d bytes", ErrInvalidKey, maxKeyLen)
	}
	if strings.HasSuffix(key, "/") {
		return fmt.Errorf("%w: %q ends with a slash", ErrInvalidKey, key)
	}
	return validatePath(key, false)
}

// validatePrefix checks an Iter prefix: like a key, except that it may be
// empty and its last component may be empty or partial.
func validatePrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	if len(prefix) > maxKeyLen {
		return fmt.Errorf("%w: prefix longer than %d bytes", ErrInvalidKey, maxKeyLen)
	}
	return validatePath(prefix, true)
}

func validatePath(p string, isPrefix bool) error {
	if strings.HasPrefix(p, "/") {
		return fmt.Errorf("%w: %q is absolute", ErrInvalidKey, p)
	}
	if strings.ContainsAny(p, "\x00\\") {
		return fmt.Errorf("%w: %q contains a NUL or backslash byte", ErrInvalidKey, p)
	}
	if !utf8.ValidString(p) {
		return fmt.Errorf("%w: %q is not valid UTF-8", ErrInvalidKey, p)
	}
	parts := strings.Split(p, "/")
	for i, part := range parts {
		last := i == len(parts)-1
		if isPrefix && last {
			// A partial last component is only a filter on names.
			break
		}
		switch part {
		case "":
			return fmt.Errorf("%w: %q has an empty path component", ErrInvalidKey, p)
		case ".", "..":
			return fmt.Errorf("%w: %q has a %q component", ErrInvalidKey, p, part)
		}
	}
	if parts[0] == stagingDir && (len(parts) > 1 || !isPrefix) {
		return fmt.Errorf("%w: %q is inside the reserved %q directory", ErrInvalidKey, p, stagingDir)
	}
	return nil
}

// checkRange validates a GetRange request against an object of size bytes
// and returns the end offset (exclusive) of the bytes to return.
func checkRange(size, off, length int64) (end int64, err error) {
	if off < 0 || off > size {
		return 0, fmt.Errorf("%w: offset %d for an object of %d bytes", ErrInvalidRange, off, size)
	}
	if length < 0 || length > size-off {
		return size, nil
	}
	return off + length, nil
}
