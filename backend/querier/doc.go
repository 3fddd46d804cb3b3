// Package querier answers the storage side of queries: it resolves a
// selection (model.LogSelect) against the label index for the time range,
// reads the matching chunks from object storage and the ingesters' data not
// yet flushed, and de-duplicates them (identical entries — same stream,
// timestamp and line — count once, whichever replica or chunk they came
// from). It also answers label, label-value and series requests.
//
// Three reads: SelectLogs merges every stream into one ordered iterator
// (log queries); SelectStreams hands out entries stream by stream, with no
// merge across streams (range aggregations); CountEntries counts entries
// per window (count_over_time, rate, bytes_over_time, absent_over_time with
// at most |= filters) from block indexes and timestamps wherever no repeat
// is possible, and compares lines only where one is.
//
// SetLookback bounds every read of a tenant (the three above, series,
// labels, index stats and volume) to now minus its lookback (the
// retention period): counting decodes a block straddling the bound rather
// than counting it from its meta. IndexStats and Volume answer from the
// index alone (flushed data), as Loki's do.
//
// Every read snapshots the ingesters' data before it reads the index, so
// that a chunk flushed meanwhile (committed to the index, then dropped from
// the ingester) is found on one side or both, never on neither. In a
// cluster a querier reads the index from its own replica, which may lag the
// leader by the time it takes to apply the commit (milliseconds); ingesters
// keep flushed chunks readable for -ingester.chunk-retain-period (15s) so
// that such a replica still finds them on the ingesters' side.
//
// Caches (bounded LRUs): block indexes of chunks read before
// (Config.ChunkMetaCacheMB), so that reads fetch only the blocks they need,
// and the packed timestamps and line lengths of blocks counted before
// (Config.TimestampsCacheMB), so that counting them again reads nothing.
// Counting workers take their chunk.BlockScanner from a pool on the
// Querier, so that scan buffers grow to a block's sections once, not once
// per query. A recent source may offer RecentStreams (its data split by
// stream).
// RingIngesters is the recent source of a cluster: it reads every ACTIVE
// or LEAVING ingester of the ring (the node's own directly, the others over
// gRPC) and merges them; up to the read set's MaxFailures of them may fail,
// at open or mid-read, before ErrTooManyIngestersDown (503).
//
// Querier is goroutine-safe; each returned iterator belongs to one goroutine
// and must be closed.
//
// THREADS (all end before the call that starts them returns): SelectLogs
// runs up to FetchConcurrency goroutines that prefetch the first chunks of
// every stream. SelectStreams runs its caller's number of workers, which
// call fn, and FetchConcurrency fetching goroutines plus a feeder that stay
// at most FetchConcurrency streams ahead of the workers (channels next and
// slots). CountEntries runs up to FetchConcurrency counting goroutines,
// each counting whole streams and calling fn under a mutex. RingIngesters
// opens each ingester's read on a goroutine of its own, all done before
// Query or Series returns.
package querier
