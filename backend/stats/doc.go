// Package stats holds the statistics of one LogQL query, in the shape Loki
// returns them under "stats" in query responses.
//
// Two halves:
//   - Result (and its parts Summary, Querier, Ingester, Store, Chunk, Caches,
//     Index) is a plain value: the finished statistics of a query, JSON-encoded
//     with Loki's field names and order, and mergeable (Merge) so that a
//     frontend can add up the statistics of split or sharded sub-queries.
//   - Context collects counters while a query runs. NewContext attaches one
//     to a context.Context; storage code finds it with FromContext and adds to
//     it from any goroutine (every counter is an atomic). Context.Result
//     snapshots the counters into a Result and computes the summary.
//
// Who counts what (so that nothing is counted twice): storage (chunk readers,
// ingester clients, caches, the index) adds to the Store, Ingester, Cache and
// Index counters; the engine adds post-filter lines and returned entries and
// sets the execution time; a frontend adds splits, shards, subqueries and
// queue time. The summary's totals are
// derived from the store counters, as Loki does: bytes and lines processed
// are decompressed chunk bytes/lines plus head-chunk bytes/lines, of
// queriers and ingesters together.
//
// Goroutine-safety: Context methods are safe for concurrent use. Result is a
// value without synchronisation.
package stats
