package api

import (
	"fmt"
	"strings"
)

// validTenant checks a tenant id as Loki does: at most 150 characters of
// letters, digits and !-_.*'(), and not "." or "..".
func validTenant(t string) error {
	if len(t) > 150 {
		return fmt.Errorf("tenant ID is too long: max 150 characters")
	}
	if t == "." || t == ".." {
		return fmt.Errorf("tenant ID is '.' or '..'")
	}
	for _, r := range t {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("!-_.*'()", r) {
			continue
		}
		return fmt.Errorf("tenant ID '%s' contains unsupported character '%c'", t, r)
	}
	return nil
}
