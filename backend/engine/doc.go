// Package engine evaluates LogQL queries (parsed by package logql) over
// entries read from a Querier, and encodes results in Loki's JSON shapes.
//
// Main types: Engine (New, Query, Exec), Params, Limits, Options, the
// Querier interface storage implements (with the optional StreamQuerier and
// Counter abilities), and Result (Streams, Matrix, Vector
// or Scalar plus stats.Result, encoded by AppendJSON, optionally in Loki's
// categorize-labels form).
//
// Evaluation streams. A log query reads entries merged across streams in
// the requested direction through the pipeline: leading line filters first,
// on raw bytes without allocating; then parsers, label filters, formatters,
// drop/keep and decolorize in query order; it stops once Limit entries
// passed. A metric query reads entries forward once into per-series windows
// (t-range-offset, t-offset] that slide step by step; vector aggregations,
// binary operations and label_replace then work per step. Range functions
// whose window value is a count or a sum of line bytes (count_over_time,
// rate, bytes_over_time, bytes_rate, absent_over_time) add each sample to
// its windows in any order instead: they read stream by stream when the
// Querier is a StreamQuerier, and let storage count per window when it is
// a Counter and the pipeline is at most |= filters. A failing stage
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
// goroutine, except that a StreamQuerier may run the reading of streams on
// its own goroutines: each of its workers then has its own pipeline and
// series, merged when the selection ends. The package starts no goroutines.
package engine
