// Package model holds Lode's core value types: log entries, samples, stream
// fingerprints, the parameters of a storage selection (LogSelect) and of a
// count per window pushed down to storage (Windows, CountSelect and the
// WindowCounts it yields). It is a leaf package
// imported by every other backend package, so it holds data and tiny helpers
// only, never behaviour with dependencies.
//
// Invariants:
//   - Timestamps are Unix nanoseconds (int64) everywhere inside Lode.
//   - A stream is identified by its tenant and its canonical (sorted) label
//     set; its Fingerprint is a stable 64-bit hash of both (StreamFingerprint)
//     that never changes between releases, because it is stored in the index
//     and in chunk keys.
//   - Entry.Line and Entry.Metadata may point into a buffer owned by the
//     producer (an iterator, a decoded request). They are valid until the
//     producer advances; a consumer that retains them must copy (Entry.Clone).
//
// All types are plain values and safe to share read-only between goroutines.
package model
