// Package querier answers the storage side of queries: it resolves a
// selection (model.LogSelect) against the label index for the time range,
// reads the matching chunks from object storage, asks the ingesters for
// data not yet flushed, and merges both into one ordered, de-duplicated
// entry iterator (identical entries — same stream, timestamp and line — are
// returned once, whichever replica or chunk they came from). It also answers
// label, label-value and series requests from the index and the ingesters.
//
// Querier is goroutine-safe; each returned iterator belongs to one goroutine
// and must be closed. Chunk objects are fetched lazily, stream by stream, in
// the requested direction, with the first chunk of every stream prefetched
// concurrently (bounded by Config.FetchConcurrency).
//
// THREADS: SelectLogs starts up to FetchConcurrency short-lived goroutines
// that prefetch chunk objects; they finish before SelectLogs returns.
package querier
