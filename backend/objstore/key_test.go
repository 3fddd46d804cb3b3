package objstore

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateKey(t *testing.T) {
	cases := []struct {
		key   string
		valid bool
	}{
		{"a", true},
		{"fake/chunks/00000000deadbeef/0123abcd", true},
		{"t-1.x/.hidden/v1.0", true},
		{"a..b/c", true},
		{".stagingx/a", true},
		{"x/.staging", true},
		{strings.Repeat("k", 1024), true},
		{"", false},
		{strings.Repeat("k", 1025), false},
		{"/a", false},
		{"a/", false},
		{"a//b", false},
		{".", false},
		{"..", false},
		{"a/./b", false},
		{"a/../b", false},
		{"a\\b", false},
		{"a\x00b", false},
		{"\xffkey", false},
		{".staging", false},
		{".staging/put-1", false},
	}
	for _, c := range cases {
		t.Run(c.key, func(t *testing.T) {
			err := ValidateKey(c.key)
			if c.valid && err != nil {
				t.Fatalf("ValidateKey(%q) = %v, want nil", c.key, err)
			}
			if !c.valid && !errors.Is(err, ErrInvalidKey) {
				t.Fatalf("ValidateKey(%q) = %v, want ErrInvalidKey", c.key, err)
			}
		})
	}
}

func TestValidatePrefix(t *testing.T) {
	cases := []struct {
		prefix string
		valid  bool
	}{
		{"", true},
		{"a", true},
		{"a/", true},
		{"a/b", true},
		{"a/.", true}, // a partial last component: matches "a/.x"
		{".st", true},
		{".staging", true}, // matches ".stagingx/..."; the directory itself is skipped
		{"/a", false},
		{"a//", false},
		{"../a", false},
		{"a/../", false},
		{".staging/", false},
	}
	for _, c := range cases {
		t.Run(c.prefix, func(t *testing.T) {
			err := validatePrefix(c.prefix)
			if c.valid != (err == nil) {
				t.Fatalf("validatePrefix(%q) = %v, want valid: %v", c.prefix, err, c.valid)
			}
		})
	}
}

func TestCheckRange(t *testing.T) {
	cases := []struct {
		name              string
		size, off, length int64
		wantEnd           int64
		wantErr           bool
	}{
		{"whole", 10, 0, -1, 10, false},
		{"inside", 10, 2, 3, 5, false},
		{"cut at end", 10, 8, 5, 10, false},
		{"at end", 10, 10, -1, 10, false},
		{"past end", 10, 11, -1, 0, true},
		{"negative", 10, -1, 1, 0, true},
		{"empty object", 0, 0, 4, 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			end, err := checkRange(c.size, c.off, c.length)
			if c.wantErr {
				if !errors.Is(err, ErrInvalidRange) {
					t.Fatalf("checkRange = %d, %v; want ErrInvalidRange", end, err)
				}
				return
			}
			if err != nil || end != c.wantEnd {
				t.Fatalf("checkRange = %d, %v; want %d", end, err, c.wantEnd)
			}
		})
	}
}
