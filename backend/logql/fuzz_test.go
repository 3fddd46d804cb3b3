package logql

import (
	"errors"
	"testing"
)

// FuzzParse checks that Parse never panics, that every error is a
// positioned *ParseError, and that every query that parses prints a
// canonical form which parses back to an Equal tree and prints the same.
// The seed corpus is testdata/fuzz/FuzzParse plus the test tables.
func FuzzParse(f *testing.F) {
	for _, tc := range validQueries {
		f.Add(tc.in)
	}
	for _, tc := range invalidQueries {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, q string) {
		e, err := Parse(q)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || !errors.Is(err, ErrParse) {
				t.Fatalf("%q: error %T is not a *ParseError", q, err)
			}
			if pe.Line < 1 || pe.Col < 1 {
				t.Fatalf("%q: bad position in %v", q, err)
			}
			return
		}
		s := e.String()
		e2, err := Parse(s)
		if err != nil {
			t.Fatalf("%q printed as %q, which does not parse: %v", q, s, err)
		}
		if !Equal(e, e2) {
			t.Fatalf("%q printed as %q, which parses to a different tree %q", q, s, e2.String())
		}
		if s2 := e2.String(); s2 != s {
			t.Fatalf("%q: printing is not a fixed point: %q then %q", q, s, s2)
		}
	})
}
