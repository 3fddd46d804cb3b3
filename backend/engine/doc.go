// Package engine evaluates LogQL queries (parsed by package logql) over
// entries read from a Querier, and encodes results in Loki's JSON shapes.
//
// Main types: Engine (New, Query, Exec), Params, Limits, Options, the
// Querier interface storage implements, and Result (Streams, Matrix, Vector
// or Scalar plus stats.Result, encoded by AppendJSON, optionally in Loki's
// categorize-labels form).
//
// Evaluation streams. A log query reads entries merged across streams in
// the requested direction through the pipeline: leading line filters first,
// on raw bytes without allocating; then parsers, label filters, formatters,
// drop/keep and decolorize in query order; it stops once Limit entries
// passed. A metric query reads entries forward once into per-series windows
// (t-range-offset, t-offset] that slide step by step; vector aggregations,
// binary operations and label_replace then work per step. A failing stage
// sets __error__/__error_details__ on the line; a metric sample still
// carrying __error__ fails the query with ErrPipeline, as in Loki.
//
// Invariants: streams are sorted by label string, entries follow the
// direction; matrix series and instant vectors (but sort/sort_desc) are
// sorted by labels; steps are start, start+step, ... <= end.
//
// Buffers: lines and labels from the Querier's iterator are read only until
// the next entry; parser values alias the line or a per-line arena; all
// that a Result keeps is copied.
//
// Goroutine-safety: Engine is safe for concurrent use; each query builds its
// own pipelines (which hold scratch state) and runs on the caller's
// goroutine. The package starts no goroutines.
package engine
