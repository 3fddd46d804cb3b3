// Package iter defines the one iterator shape used throughout Lode and the
// combinators over it: slices, merges by time in either direction with
// de-duplication of identical entries, and limits.
//
//	for it.Next() { v := it.At() ... }
//	if err := it.Err(); err != nil { ... }
//	it.Close()
//
// Contract: At is valid only after Next returned true, and the value it
// returns (including any byte slices inside it) stays valid only until the
// next call to Next or Close. Err reports the error that made Next return
// false, if any. Close releases resources and must be called exactly once;
// it returns the first error seen. Iterators are not goroutine-safe.
package iter
