// Package engine evaluates LogQL queries (parsed by package logql) over
// entries read from a Querier, and encodes results in Loki's JSON shapes.
//
// Main types: Engine (New, Query, Exec), Params, Options, Result (with
// Streams, Matrix, Vector or Scalar, and stats.Result), and the Querier
// interface storage implements.
//
// Evaluation is streaming. A log query reads entries merged across streams
// in the requested direction and runs each through the pipeline: the leading
// line filters first, on the raw bytes and without allocating; then parsers
// (json, logfmt, regexp, pattern, unpack), label filters, line_format,
// label_format, drop, keep and decolorize, in query order. It stops as soon
// as Limit entries passed the pipeline. A metric query reads entries forward
// once, feeding per-series windows (t-range-offset, t-offset] that slide
// step by step; vector aggregations, binary operations and label_replace
// then work step by step. Stage failures set __error__ and
// __error_details__ on the line instead of failing the query; a metric
// sample that still carries __error__ fails it with ErrPipeline, as in Loki.
//
// Invariants: result streams are sorted by their label string and entries
// follow the direction; matrix series and (unless sort/sort_desc) instant
// vectors are sorted by labels; step times are start, start+step, ..., <= end.
//
// Buffer ownership: lines and labels from the Querier's iterator are only
// read until the next entry; everything kept in a Result is copied. Values
// set by parsers alias the line or a per-line arena and never leave a line's
// processing uncopied.
//
// Goroutine-safety: Engine is safe for concurrent use; each query builds its
// own pipelines (which hold scratch state) and runs on the caller's
// goroutine. The package starts no goroutines.
package engine
